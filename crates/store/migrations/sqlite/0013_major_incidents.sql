-- Major incidents (issue 8): the declaration on an incident ticket, who is engaged, and each
-- notice sent on the communication cadence.

-- One row per incident declared major, keyed by its ticket.
CREATE TABLE major_incidents (
    ticket_id BIGINT PRIMARY KEY REFERENCES tickets(id),
    declared_at TEXT NOT NULL,
    declared_by BIGINT NOT NULL REFERENCES people(id),
    coordinator_id BIGINT NOT NULL REFERENCES people(id),
    -- Conference bridge / web-meeting details, as the coordinator wrote them.
    bridge TEXT NOT NULL,
    -- Drafted notices go out by themselves when due (1) or wait for the coordinator (0).
    auto_send BIGINT NOT NULL DEFAULT 1,
    status_event_id BIGINT REFERENCES status_events(id),
    resolved_at TEXT,
    -- Recorded at resolution: 1 known, 0 not known (a problem is opened), NULL while open.
    root_cause_known BIGINT,
    root_cause TEXT,
    problem_ticket_id BIGINT REFERENCES tickets(id),
    review_due_at TEXT,
    report_due_at TEXT,
    review_held_at TEXT,
    updated_at TEXT NOT NULL
);
CREATE INDEX major_incidents_resolved ON major_incidents (resolved_at);

-- People engaged: a person of the directory or a free name and address (a vendor's engineer).
-- role: coordinator, escalation_contact or vendor_contact.
CREATE TABLE major_incident_contacts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id BIGINT NOT NULL REFERENCES major_incidents(ticket_id),
    person_id BIGINT REFERENCES people(id),
    name TEXT NOT NULL,
    email TEXT,
    locale TEXT,
    organization_id BIGINT REFERENCES organizations(id),
    organization_name TEXT,
    role TEXT NOT NULL,
    engaged_at TEXT NOT NULL
);
CREATE INDEX major_incident_contacts_ticket ON major_incident_contacts (ticket_id);

-- Each notice of the plan ('declaration', '+1h', 'update:3', 'resolution') is sent once: the
-- row is written in the transaction that queues its mail. sent_by NULL means sent
-- automatically at its due time.
CREATE TABLE major_incident_notices (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id BIGINT NOT NULL REFERENCES major_incidents(ticket_id),
    notice_key TEXT NOT NULL,
    kind TEXT NOT NULL,
    due_at TEXT,
    sent_at TEXT NOT NULL,
    sent_by BIGINT REFERENCES people(id),
    recipients BIGINT NOT NULL,
    subject_en TEXT NOT NULL,
    body_en TEXT NOT NULL,
    subject_fr TEXT NOT NULL,
    body_fr TEXT NOT NULL,
    UNIQUE (ticket_id, notice_key)
);
