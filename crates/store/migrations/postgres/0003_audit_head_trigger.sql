-- The chain's head follows every appended audit row, in the same statement: one round trip
-- less per change.
CREATE FUNCTION audit_log_advance_head() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE audit_head SET hash = NEW.hash WHERE id = 1;
    RETURN NULL;
END
$$;
CREATE TRIGGER audit_log_advances_head AFTER INSERT ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_advance_head();
