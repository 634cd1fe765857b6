-- Queues sorted by due time read open tickets in this order (tickets without a due time
-- last) instead of sorting every open ticket; SLA state filters read tickets of one stored
-- clock state newest first.
DROP INDEX tickets_open_sla_due;
CREATE INDEX tickets_open_sla_due ON tickets (is_open, (COALESCE(sla_due_at, '9999')), id);
CREATE INDEX tickets_sla_clock ON tickets (sla_clock, id);
