-- The punch clock's error bound (protocol clock.errorMs): set when the kiosk took its time from the
-- hub by round trips (clock.source "hub"); kept so the stored punch still verifies against its sig.
ALTER TABLE punches ADD COLUMN clock_error_ms REAL;
