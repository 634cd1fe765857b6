-- The chain's head follows every appended audit row, in the same statement: one round trip
-- less per change.
CREATE TRIGGER audit_log_advances_head AFTER INSERT ON audit_log
BEGIN
    UPDATE audit_head SET hash = NEW.hash WHERE id = 1;
END;
