-- Change management after approval (issue 9): the planned-outage notice's window (a resend
-- needs a changed time), the latent RFC's filing, its breach and the reason it was late,
-- and incidents raised during implementation (ticket_links kind raised_during).
ALTER TABLE change_requests ADD COLUMN outage_notice_window TEXT;
ALTER TABLE change_requests ADD COLUMN outage_notice_recipients BIGINT;
ALTER TABLE change_requests ADD COLUMN latent_filed_at TEXT;
ALTER TABLE change_requests ADD COLUMN latent_breached_at TEXT;
ALTER TABLE change_requests ADD COLUMN latent_late_reason TEXT;
ALTER TABLE change_requests ADD COLUMN latent_incident_id BIGINT REFERENCES tickets(id);

-- One latent RFC per incident, also against two submits at once.
CREATE UNIQUE INDEX change_requests_latent_incident ON change_requests (latent_incident_id);
