-- The insert trigger of the attendance queue, once per statement instead of once per row: ingest
-- stores a batch with one INSERT … SELECT FROM unnest(…) (pg-core-store.ts), and a row trigger ran
-- a PL/pgSQL call and a one-row INSERT for each of its punches. The statement trigger queues the
-- same rows (one per punch without review_reason) with one INSERT … SELECT from the transition
-- table. Transition tables work on the partitioned table (every month partition's rows). The
-- update trigger (an admin's review, one punch at a time) stays a row trigger.
DROP TRIGGER att_punch_inserted ON punches;
CREATE FUNCTION att_punches_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO att_dirty (nip, captured_at) SELECT nip, captured_at FROM new_punches WHERE review_reason IS NULL;
  RETURN NULL;
END $$;
CREATE TRIGGER att_punches_inserted AFTER INSERT ON punches REFERENCING NEW TABLE AS new_punches
  FOR EACH STATEMENT EXECUTE FUNCTION att_punches_inserted();
DROP FUNCTION att_punch_inserted();
