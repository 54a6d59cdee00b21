-- Punches refused as `seq_conflict` (their seq is already stored under another id: typically a
-- kiosk whose journal was wiped restarted at seq 1). They are real punches of staff, signed by the
-- device and verified before they reach the store, so the whole punch is kept here until an admin
-- stores it with `hadir device recover` (as a punch of the device with seq NULL). `rejections`
-- still gets its audit row as for every refusal.
CREATE TABLE punch_conflicts (
  id           TEXT PRIMARY KEY,                    -- the punch id (UUIDv7 from the kiosk): kept once
  device_id    TEXT NOT NULL REFERENCES devices(id),
  seq          INTEGER NOT NULL,                    -- the kiosk's seq that collided
  site_code    TEXT,                                -- the device's site when it arrived (as punches.site_code)
  punch        TEXT NOT NULL,                       -- the signed punch, JSON, exactly its fields
  received_at  TEXT NOT NULL
);
CREATE INDEX punch_conflicts_device ON punch_conflicts (device_id, seq);
