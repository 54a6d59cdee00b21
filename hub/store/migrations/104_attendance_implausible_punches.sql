-- A punch with an implausible time (year 2099, 1970 …) must not create attendance months for
-- that time: it is derived only once an admin accepts it (and at the corrected time, if given).
DROP TRIGGER att_punch_inserted;
CREATE TRIGGER att_punch_inserted AFTER INSERT ON punches WHEN NEW.review_reason IS NULL
BEGIN
  INSERT INTO att_dirty (nip, captured_at) VALUES (NEW.nip, NEW.captured_at);
END;
DROP TRIGGER att_punch_reviewed;
CREATE TRIGGER att_punch_reviewed AFTER UPDATE OF review_status, corrected_at ON punches
BEGIN
  INSERT INTO att_dirty (nip, captured_at) SELECT NEW.nip, NEW.captured_at
    WHERE NEW.review_reason IS NULL OR (NEW.review_status = 'accepted' AND NEW.corrected_at IS NULL);
  INSERT INTO att_dirty (nip, captured_at) SELECT NEW.nip, NEW.corrected_at WHERE NEW.corrected_at IS NOT NULL;
END;
