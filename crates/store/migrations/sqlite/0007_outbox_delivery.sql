-- Delivery of outgoing mail. A message is written 'queued' in the transaction of the change
-- that caused it; a sender claims due messages (a lease in claimed_until, so that several
-- nodes share the work), and marks each 'sent', or 'stored' when no mail server is
-- configured (kept in the local outbox), or 'failed' when it gives up. Messages of earlier
-- versions stay 'stored'.
ALTER TABLE outbox ADD COLUMN ticket_id INTEGER;
ALTER TABLE outbox ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN next_attempt_at TEXT;
ALTER TABLE outbox ADD COLUMN claimed_until TEXT;
ALTER TABLE outbox ADD COLUMN sent_at TEXT;
ALTER TABLE outbox ADD COLUMN last_error TEXT;
-- One message per recipient and event: a second insert with the same key is ignored.
ALTER TABLE outbox ADD COLUMN idempotency_key TEXT;
CREATE UNIQUE INDEX outbox_idempotency ON outbox (idempotency_key);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_ticket ON outbox (ticket_id);
