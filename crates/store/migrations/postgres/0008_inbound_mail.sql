-- Mail received by the desk (issue 6): one row per message taken in, whatever became of it.
-- status: 'ticket' (it opened a ticket), 'comment' (a reply added to its ticket), 'held'
-- (unknown sender, waiting for an agent), 'quarantined' (patient information found, waiting
-- for an agent to redact it), 'ignored' (an automatic reply, bounce, list mail or loop: never
-- answered), 'discarded' (by an agent). A message delivered twice (same Message-ID) is
-- taken once. Attachments wait in the file store: [{filename, content_type, sha256, size}].
CREATE TABLE inbound_messages (
    id BIGSERIAL PRIMARY KEY,
    received_at TEXT NOT NULL,
    source TEXT NOT NULL,
    message_id TEXT,
    from_address TEXT NOT NULL,
    from_name TEXT,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    thread_number TEXT,
    attachments TEXT NOT NULL DEFAULT '[]',
    status TEXT NOT NULL,
    reason TEXT,
    ticket_id BIGINT REFERENCES tickets(id),
    person_id BIGINT REFERENCES people(id),
    handled_by BIGINT REFERENCES people(id),
    handled_at TEXT
);
CREATE UNIQUE INDEX inbound_messages_message_id ON inbound_messages (message_id);
CREATE INDEX inbound_messages_status ON inbound_messages (status, id);
CREATE INDEX inbound_messages_sender ON inbound_messages (from_address, received_at);
