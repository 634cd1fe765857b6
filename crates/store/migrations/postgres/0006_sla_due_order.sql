-- Queues sorted by due time read open tickets in this order (tickets without a due time
-- last) instead of sorting every open ticket; SLA state filters read tickets of one stored
-- clock state newest first.
DROP INDEX tickets_open_sla_due;
CREATE INDEX tickets_open_sla_due ON tickets (is_open, (COALESCE(sla_due_at, '9999')), id);
CREATE INDEX tickets_sla_clock ON tickets (sla_clock, id);
-- "At risk" and "on track" read running clocks from now on in due order, and check the
-- warning instant in the index without visiting the rows that fail it.
CREATE INDEX tickets_running_due ON tickets ((COALESCE(sla_due_at, '9999')), sla_warn_at, id)
    WHERE sla_clock = 'running';
