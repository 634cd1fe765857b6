-- Webhooks (issue 6): endpoints that receive ticket events as signed JSON (Standard
-- Webhooks). An endpoint of an organization only hears about that organization's tickets;
-- one without an organization hears about every ticket. Privacy and security tickets are
-- never sent. Deliveries are outbox rows with the endpoint's id, sent and retried by the
-- same sender as mail.
CREATE TABLE webhook_endpoints (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    url TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    event_types TEXT NOT NULL,
    secret TEXT NOT NULL,
    organization_id INTEGER REFERENCES organizations(id),
    active INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    created_by INTEGER REFERENCES people(id)
);
ALTER TABLE outbox ADD COLUMN endpoint_id INTEGER REFERENCES webhook_endpoints(id);
CREATE INDEX outbox_endpoint ON outbox (endpoint_id, id);
