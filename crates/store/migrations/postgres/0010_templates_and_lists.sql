-- Mail templates and distribution lists (issue 6).
-- Each saved edit of a template is a new version; the highest version of a (key, locale)
-- is in use, and version 0 is the shipped text (not stored). A sent message records the
-- versions it was made from.
CREATE TABLE mail_templates (
    id BIGSERIAL PRIMARY KEY,
    key TEXT NOT NULL,
    locale TEXT NOT NULL,
    version BIGINT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL,
    created_by BIGINT REFERENCES people(id),
    UNIQUE (key, locale, version)
);
ALTER TABLE outbox ADD COLUMN template_version TEXT;

-- Distribution lists: per service (organizations live on it are members without being
-- added), per organization contact role (everyone holding the role), or custom.
CREATE TABLE distribution_lists (
    id BIGSERIAL PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name_en TEXT NOT NULL,
    name_fr TEXT NOT NULL,
    kind TEXT NOT NULL,
    service_id BIGINT REFERENCES services(id),
    role TEXT,
    created_at TEXT NOT NULL,
    created_by BIGINT REFERENCES people(id)
);

-- Members added by hand (a person, an organization or an address), and the automatic
-- members who asked to be removed: 'active', 'removal_requested' (still receiving until
-- the desk confirms) or 'removed'. A removed automatic member stays removed.
CREATE TABLE distribution_list_members (
    id BIGSERIAL PRIMARY KEY,
    list_id BIGINT NOT NULL REFERENCES distribution_lists(id),
    person_id BIGINT REFERENCES people(id),
    organization_id BIGINT REFERENCES organizations(id),
    email TEXT,
    status TEXT NOT NULL,
    added_at TEXT NOT NULL,
    added_by BIGINT REFERENCES people(id),
    removal_requested_at TEXT,
    removal_reason TEXT,
    decided_at TEXT,
    decided_by BIGINT REFERENCES people(id),
    UNIQUE (list_id, person_id),
    UNIQUE (list_id, organization_id),
    UNIQUE (list_id, email)
);

-- Notices sent to lists: what was sent, by whom, to how many.
CREATE TABLE notices (
    id BIGSERIAL PRIMARY KEY,
    created_at TEXT NOT NULL,
    created_by BIGINT REFERENCES people(id),
    list_ids TEXT NOT NULL,
    subject_en TEXT NOT NULL,
    subject_fr TEXT NOT NULL,
    body_en TEXT NOT NULL,
    body_fr TEXT NOT NULL,
    recipients BIGINT NOT NULL DEFAULT 0
);
ALTER TABLE outbox ADD COLUMN notice_id BIGINT REFERENCES notices(id);

-- A message belongs to a ticket, a webhook endpoint or a notice, and waits in the queue for
-- a short while: index each only where it applies, so that writing thousands of notice
-- messages (or a ticket's mail) maintains two indexes, not five, and sent mail leaves the
-- queue's index.
DROP INDEX outbox_ticket;
CREATE INDEX outbox_ticket ON outbox (ticket_id) WHERE ticket_id IS NOT NULL;
DROP INDEX outbox_endpoint;
CREATE INDEX outbox_endpoint ON outbox (endpoint_id, id) WHERE endpoint_id IS NOT NULL;
CREATE INDEX outbox_notice ON outbox (notice_id) WHERE notice_id IS NOT NULL;
DROP INDEX outbox_due;
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE status = 'queued';
