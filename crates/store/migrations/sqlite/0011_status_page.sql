-- The public status page (issue 7): components in optional groups, incidents and scheduled
-- maintenances with their update streams, subscribers, notices sent, banners.

CREATE TABLE status_groups (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name_en TEXT NOT NULL,
    name_fr TEXT NOT NULL,
    position BIGINT NOT NULL,
    created_at TEXT NOT NULL
);

-- A component is a live solution (optionally tied to a catalogue service, whose live
-- organizations are subscribed to it) or a partner's source of data.
CREATE TABLE status_components (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    code TEXT NOT NULL UNIQUE,
    group_id BIGINT REFERENCES status_groups(id),
    service_id BIGINT REFERENCES services(id),
    source_organization_id BIGINT REFERENCES organizations(id),
    name_en TEXT NOT NULL,
    name_fr TEXT NOT NULL,
    description_en TEXT NOT NULL,
    description_fr TEXT NOT NULL,
    position BIGINT NOT NULL,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- Every change of a component's status, for the uptime bars.
CREATE TABLE status_component_changes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    component_id BIGINT NOT NULL REFERENCES status_components(id),
    status TEXT NOT NULL,
    at TEXT NOT NULL,
    event_id BIGINT
);
CREATE INDEX status_component_changes_at ON status_component_changes (component_id, at);

-- Incidents (kind 'incident': impact, status investigating … postmortem) and scheduled
-- maintenances (kind 'maintenance': status scheduled … completed or cancelled).
CREATE TABLE status_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    title_en TEXT NOT NULL,
    title_fr TEXT NOT NULL,
    impact TEXT NOT NULL,
    status TEXT NOT NULL,
    ticket_id BIGINT REFERENCES tickets(id),
    scheduled_for TEXT,
    scheduled_until TEXT,
    auto_transition BIGINT NOT NULL DEFAULT 1,
    next_update_by TEXT,
    sequence BIGINT NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    created_by BIGINT REFERENCES people(id),
    updated_at TEXT NOT NULL,
    started_at TEXT,
    resolved_at TEXT
);
CREATE INDEX status_events_open ON status_events (kind, resolved_at);
CREATE INDEX status_events_ticket ON status_events (ticket_id) WHERE ticket_id IS NOT NULL;

-- The components an event affects, each with its own line of text and the status it gives
-- the component while the event is open.
CREATE TABLE status_event_components (
    event_id BIGINT NOT NULL REFERENCES status_events(id),
    component_id BIGINT NOT NULL REFERENCES status_components(id),
    status TEXT NOT NULL,
    text_en TEXT NOT NULL,
    text_fr TEXT NOT NULL,
    PRIMARY KEY (event_id, component_id)
);

CREATE TABLE status_updates (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id BIGINT NOT NULL REFERENCES status_events(id),
    status TEXT NOT NULL,
    body_en TEXT NOT NULL,
    body_fr TEXT NOT NULL,
    next_update_by TEXT,
    created_at TEXT NOT NULL,
    created_by BIGINT REFERENCES people(id)
);
CREATE INDEX status_updates_event ON status_updates (event_id, created_at);

-- Subscribers by email: to everything ('all'), to chosen components ('components') or to
-- one incident or maintenance ('event'). Confirmed by an emailed link (double opt-in).
CREATE TABLE status_subscribers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    email TEXT NOT NULL,
    locale TEXT,
    scope TEXT NOT NULL,
    event_id BIGINT REFERENCES status_events(id),
    organization_id BIGINT REFERENCES organizations(id),
    created_at TEXT NOT NULL,
    confirmed_at TEXT,
    unsubscribed_at TEXT,
    confirmations_sent BIGINT NOT NULL DEFAULT 0,
    last_confirmation_at TEXT
);
CREATE UNIQUE INDEX status_subscribers_email ON status_subscribers (email, scope, COALESCE(event_id, 0));
CREATE TABLE status_subscriber_components (
    subscriber_id BIGINT NOT NULL REFERENCES status_subscribers(id),
    component_id BIGINT NOT NULL REFERENCES status_components(id),
    PRIMARY KEY (subscriber_id, component_id)
);

-- Each notice of an event (at scheduling, 1 week before, at start, each update …) is sent
-- once: the row is written in the transaction that queues its mail.
CREATE TABLE status_notices (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id BIGINT NOT NULL REFERENCES status_events(id),
    notice_key TEXT NOT NULL,
    sent_at TEXT NOT NULL,
    recipients BIGINT NOT NULL,
    UNIQUE (event_id, notice_key)
);

-- The message of the day per scope ('' for every environment, or a component code).
CREATE TABLE status_banners (
    scope TEXT PRIMARY KEY,
    text_en TEXT NOT NULL,
    text_fr TEXT NOT NULL,
    level TEXT NOT NULL,
    event_id BIGINT REFERENCES status_events(id),
    updated_at TEXT NOT NULL,
    updated_by BIGINT REFERENCES people(id)
);

-- Bumped by every change to the page, so each node rebuilds its snapshot.
CREATE TABLE status_page_version (
    id BIGINT PRIMARY KEY,
    version BIGINT NOT NULL,
    changed_at TEXT NOT NULL
);
INSERT INTO status_page_version (id, version, changed_at) VALUES (1, 1, '1970-01-01T00:00:00.000000Z');
