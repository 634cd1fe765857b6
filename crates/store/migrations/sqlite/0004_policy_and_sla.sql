-- Policy packs (versioned; a ticket keeps the version it was opened under), the SLA
-- figures derived from each ticket's history, and durable scheduled jobs.
CREATE TABLE policy_packs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    code TEXT NOT NULL,
    version BIGINT NOT NULL,
    name_en TEXT NOT NULL,
    name_fr TEXT NOT NULL,
    source TEXT NOT NULL,
    loaded_at TEXT NOT NULL,
    loaded_by TEXT NOT NULL,
    UNIQUE (code, version)
);

-- The pack new tickets are opened under (one row).
CREATE TABLE policy_selection (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    pack_id BIGINT NOT NULL REFERENCES policy_packs(id)
);

ALTER TABLE support_group_members ADD COLUMN is_lead BIGINT NOT NULL DEFAULT 0;

ALTER TABLE tickets ADD COLUMN policy_pack_id BIGINT REFERENCES policy_packs(id);
ALTER TABLE tickets ADD COLUMN first_response_at TEXT;
-- Derived from the history on every change (see domain::sla); never counted up in place.
-- sla_clock: running, paused, met, breached or none; due and warning instants are UTC text.
ALTER TABLE tickets ADD COLUMN sla_clock TEXT NOT NULL DEFAULT 'none';
ALTER TABLE tickets ADD COLUMN sla_due_at TEXT;
ALTER TABLE tickets ADD COLUMN sla_warn_at TEXT;
ALTER TABLE tickets ADD COLUMN sla_respond_due_at TEXT;
CREATE INDEX tickets_open_sla_due ON tickets (is_open, sla_due_at);

CREATE TABLE scheduled_jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    ticket_id BIGINT REFERENCES tickets(id),
    step TEXT NOT NULL,
    run_at TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    claimed_until TEXT,
    attempts BIGINT NOT NULL DEFAULT 0,
    last_error TEXT,
    created_at TEXT NOT NULL,
    done_at TEXT
);
CREATE INDEX scheduled_jobs_due ON scheduled_jobs (state, run_at);
CREATE INDEX scheduled_jobs_ticket ON scheduled_jobs (ticket_id, state);

-- Each SLA notification is sent at most once per ticket, clock, step and target.
CREATE TABLE sla_notifications (
    ticket_id BIGINT NOT NULL REFERENCES tickets(id),
    clock TEXT NOT NULL,
    step TEXT NOT NULL,
    target_seconds BIGINT NOT NULL,
    sent_at TEXT NOT NULL,
    PRIMARY KEY (ticket_id, clock, step, target_seconds)
);
