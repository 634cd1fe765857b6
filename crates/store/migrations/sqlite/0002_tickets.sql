ALTER TABLE support_groups ADD COLUMN tier BIGINT NOT NULL DEFAULT 1;

CREATE TABLE request_types (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    service_id BIGINT NOT NULL REFERENCES services(id),
    code TEXT NOT NULL,
    name_en TEXT NOT NULL,
    name_fr TEXT NOT NULL,
    description_en TEXT NOT NULL DEFAULT '',
    description_fr TEXT NOT NULL DEFAULT '',
    position BIGINT NOT NULL DEFAULT 0,
    active BIGINT NOT NULL DEFAULT 1,
    UNIQUE (service_id, code)
);

CREATE TABLE request_subcategories (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    request_type_id BIGINT NOT NULL REFERENCES request_types(id),
    code TEXT NOT NULL,
    name_en TEXT NOT NULL,
    name_fr TEXT NOT NULL,
    description_en TEXT NOT NULL DEFAULT '',
    description_fr TEXT NOT NULL DEFAULT '',
    kind TEXT NOT NULL,
    impact BIGINT NOT NULL,
    urgency BIGINT NOT NULL,
    support_group_id BIGINT NOT NULL REFERENCES support_groups(id),
    form TEXT NOT NULL DEFAULT '[]',
    position BIGINT NOT NULL DEFAULT 0,
    active BIGINT NOT NULL DEFAULT 1,
    UNIQUE (request_type_id, code)
);

CREATE TABLE ticket_sequences (
    kind TEXT PRIMARY KEY,
    last BIGINT NOT NULL
);
INSERT INTO ticket_sequences (kind, last) VALUES
    ('incident', 0), ('service_request', 0), ('problem', 0), ('change', 0),
    ('privacy_request', 0), ('privacy_incident', 0), ('security_incident', 0),
    ('enhancement_request', 0);

CREATE TABLE tickets (
    id INTEGER PRIMARY KEY,
    number TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    restriction BIGINT NOT NULL DEFAULT 0,
    organization_id BIGINT NOT NULL REFERENCES organizations(id),
    service_id BIGINT REFERENCES services(id),
    subcategory_id BIGINT REFERENCES request_subcategories(id),
    configuration_item TEXT,
    summary TEXT NOT NULL,
    details TEXT NOT NULL,
    reporter_id BIGINT NOT NULL REFERENCES people(id),
    on_behalf_of_id BIGINT REFERENCES people(id),
    impact BIGINT NOT NULL,
    urgency BIGINT NOT NULL,
    priority BIGINT NOT NULL,
    priority_overridden BIGINT NOT NULL DEFAULT 0,
    status TEXT NOT NULL,
    is_open BIGINT NOT NULL,
    support_group_id BIGINT REFERENCES support_groups(id),
    assignee_id BIGINT REFERENCES people(id),
    tier BIGINT NOT NULL DEFAULT 1,
    channel TEXT NOT NULL,
    first_occurrence TEXT,
    service_impact TEXT,
    user_impact TEXT,
    troubleshooting TEXT,
    workaround TEXT,
    no_workaround BIGINT NOT NULL DEFAULT 0,
    custom_fields TEXT NOT NULL DEFAULT '[]',
    merged_into_id BIGINT REFERENCES tickets(id),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    resolved_at TEXT,
    closed_at TEXT,
    version BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX tickets_queue ON tickets (support_group_id, is_open, priority, id);
CREATE INDEX tickets_organization ON tickets (organization_id, is_open, id);
CREATE INDEX tickets_reporter ON tickets (reporter_id, id);
CREATE INDEX tickets_on_behalf_of ON tickets (on_behalf_of_id);
CREATE INDEX tickets_assignee ON tickets (assignee_id, is_open);
CREATE INDEX tickets_restricted ON tickets (restriction, id);

CREATE TABLE ticket_partner_refs (
    ticket_id BIGINT NOT NULL REFERENCES tickets(id),
    reference TEXT NOT NULL,
    PRIMARY KEY (ticket_id, reference)
);
CREATE INDEX ticket_partner_refs_reference ON ticket_partner_refs (reference);

CREATE TABLE ticket_links (
    from_id BIGINT NOT NULL REFERENCES tickets(id),
    to_id BIGINT NOT NULL REFERENCES tickets(id),
    kind TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (from_id, to_id)
);
CREATE INDEX ticket_links_to ON ticket_links (to_id);

-- People named on a ticket besides reporter, raised-for and assignee: watchers (agents)
-- and colleagues it was shared with. `muted` turns notifications off for that person.
CREATE TABLE ticket_people (
    ticket_id BIGINT NOT NULL REFERENCES tickets(id),
    person_id BIGINT NOT NULL REFERENCES people(id),
    role TEXT NOT NULL,
    muted BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (ticket_id, person_id)
);
CREATE INDEX ticket_people_person ON ticket_people (person_id);

-- The timeline: every transition, field change, comment and note.
CREATE TABLE ticket_events (
    id INTEGER PRIMARY KEY,
    ticket_id BIGINT NOT NULL REFERENCES tickets(id),
    at TEXT NOT NULL,
    actor_id BIGINT REFERENCES people(id),
    actor_label TEXT NOT NULL,
    kind TEXT NOT NULL,
    internal BIGINT NOT NULL DEFAULT 0,
    body TEXT,
    data TEXT NOT NULL DEFAULT '{}',
    redacted BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX ticket_events_ticket ON ticket_events (ticket_id, id);

-- File contents live in a content-addressed folder; rows keep the metadata.
CREATE TABLE attachments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id BIGINT NOT NULL REFERENCES tickets(id),
    event_id BIGINT REFERENCES ticket_events(id),
    filename TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    internal BIGINT NOT NULL DEFAULT 0,
    uploaded_by BIGINT REFERENCES people(id),
    created_at TEXT NOT NULL
);
CREATE INDEX attachments_ticket ON attachments (ticket_id);

CREATE TABLE canned_responses (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    code TEXT NOT NULL UNIQUE,
    title_en TEXT NOT NULL,
    title_fr TEXT NOT NULL,
    body_en TEXT NOT NULL,
    body_fr TEXT NOT NULL
);

-- rowid = ticket id. Text is folded (lower case, no accents) before it is indexed.
CREATE VIRTUAL TABLE ticket_search USING fts5(doc, tokenize = 'unicode61 remove_diacritics 2');
