-- Major incident review reports (issue 8): the review held, the report drafted from the
-- ticket, edited, redacted and released, and partners' requests for a copy.
CREATE TABLE major_incident_reports (
    ticket_id BIGINT PRIMARY KEY REFERENCES major_incidents(ticket_id),
    review_held_at TEXT,
    attendees TEXT NOT NULL DEFAULT '',
    body TEXT NOT NULL,
    -- draft or released
    status TEXT NOT NULL,
    drafted_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by BIGINT REFERENCES people(id),
    released_at TEXT,
    released_by BIGINT REFERENCES people(id)
);

CREATE TABLE major_incident_report_requests (
    id BIGSERIAL PRIMARY KEY,
    ticket_id BIGINT NOT NULL REFERENCES major_incidents(ticket_id),
    person_id BIGINT NOT NULL REFERENCES people(id),
    organization_id BIGINT NOT NULL REFERENCES organizations(id),
    requested_at TEXT NOT NULL,
    UNIQUE (ticket_id, person_id)
);
