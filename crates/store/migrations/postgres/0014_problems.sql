-- Problem management (issue 8): what a problem ticket (PRB-) keeps beyond the ticket itself.
-- Description, impact/urgency/priority, organization and submitter are the ticket's;
-- related incidents are `caused_by` links from the incidents.
CREATE TABLE problem_records (
    ticket_id BIGINT PRIMARY KEY REFERENCES tickets(id),
    -- domain::problem::ProblemStatus
    status TEXT NOT NULL,
    -- manual, major_incident or trend
    source TEXT NOT NULL,
    submitter_role TEXT NOT NULL,
    submitted_at TEXT NOT NULL,
    impact_description TEXT NOT NULL,
    workaround TEXT,
    action_plan TEXT,
    root_cause TEXT,
    resolution TEXT,
    investigating_group_id BIGINT REFERENCES support_groups(id),
    category TEXT NOT NULL,
    -- documented root cause and/or workaround (domain::problem::is_known_error)
    known_error BIGINT NOT NULL DEFAULT 0,
    known_error_since TEXT,
    verified_by BIGINT REFERENCES people(id),
    verified_at TEXT,
    -- worked or failed
    verification_outcome TEXT,
    verification_notes TEXT,
    -- the partner organization's single point of contact, a person of it
    spoc_person_id BIGINT REFERENCES people(id),
    closure_acknowledged_by BIGINT REFERENCES people(id),
    closure_acknowledged_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX problem_records_status ON problem_records (status);
CREATE INDEX problem_records_known_error ON problem_records (known_error, status);
CREATE INDEX problem_records_spoc ON problem_records (spoc_person_id);

-- Configuration items a ticket of any kind concerns, by CMDB id.
CREATE TABLE ticket_configuration_items (
    ticket_id BIGINT NOT NULL REFERENCES tickets(id),
    configuration_item_id BIGINT NOT NULL REFERENCES configuration_items(id),
    created_at TEXT NOT NULL,
    PRIMARY KEY (ticket_id, configuration_item_id)
);
CREATE INDEX ticket_configuration_items_item ON ticket_configuration_items (configuration_item_id);

-- The monthly problem review with one partner organization.
CREATE TABLE problem_reviews (
    id BIGSERIAL PRIMARY KEY,
    organization_id BIGINT NOT NULL REFERENCES organizations(id),
    -- YYYY-MM
    month TEXT NOT NULL,
    scheduled_for TEXT,
    minutes TEXT NOT NULL DEFAULT '',
    created_by BIGINT REFERENCES people(id),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (organization_id, month)
);

CREATE TABLE problem_review_actions (
    id BIGSERIAL PRIMARY KEY,
    review_id BIGINT NOT NULL REFERENCES problem_reviews(id),
    text TEXT NOT NULL,
    owner TEXT NOT NULL,
    -- YYYY-MM-DD
    due_on TEXT,
    done BIGINT NOT NULL DEFAULT 0,
    done_at TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX problem_review_actions_review ON problem_review_actions (review_id, id);

-- Files beside the agenda (the partner's own list); contents in the attachment store.
CREATE TABLE problem_review_files (
    id BIGSERIAL PRIMARY KEY,
    review_id BIGINT NOT NULL REFERENCES problem_reviews(id),
    filename TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    uploaded_by BIGINT REFERENCES people(id),
    created_at TEXT NOT NULL
);
CREATE INDEX problem_review_files_review ON problem_review_files (review_id, id);
