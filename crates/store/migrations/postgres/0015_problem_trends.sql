-- Proactive problem detection (issue 8): problems proposed from trends of incidents.
-- `incident_key` is the proposal's incident ids in increasing order, joined by commas; with
-- the dimension and the folded value it identifies a pattern, so a decided pattern is
-- never proposed twice.
CREATE TABLE problem_proposals (
    id BIGSERIAL PRIMARY KEY,
    dimension TEXT NOT NULL,
    value TEXT NOT NULL,
    value_key TEXT NOT NULL,
    incident_key TEXT NOT NULL,
    shared TEXT NOT NULL,
    shared_text TEXT NOT NULL,
    reason_en TEXT NOT NULL,
    reason_fr TEXT NOT NULL,
    first_opened_at TEXT NOT NULL,
    last_opened_at TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL,
    decided_by BIGINT REFERENCES people(id),
    decided_at TEXT,
    problem_ticket_id BIGINT REFERENCES tickets(id),
    UNIQUE (dimension, value_key, incident_key)
);
CREATE INDEX problem_proposals_status ON problem_proposals (status, id);

CREATE TABLE problem_proposal_incidents (
    proposal_id BIGINT NOT NULL REFERENCES problem_proposals(id),
    ticket_id BIGINT NOT NULL REFERENCES tickets(id),
    PRIMARY KEY (proposal_id, ticket_id)
);
CREATE INDEX problem_proposal_incidents_ticket ON problem_proposal_incidents (ticket_id);
