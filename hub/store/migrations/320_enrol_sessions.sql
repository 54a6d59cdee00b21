-- Enrolment sessions: an authorised user started enrol_mode for one NIP on one kiosk. A kiosk may
-- upload a face or finger template only against an open session of its own, once, before it expires.
CREATE TABLE enrol_sessions (
  id          TEXT PRIMARY KEY,                   -- the enrol_mode command id
  device_id   TEXT NOT NULL REFERENCES devices(id),
  nip         TEXT NOT NULL,
  method      TEXT NOT NULL CHECK (method IN ('face', 'finger')),
  finger      INTEGER,                            -- finger position asked for (finger method), or NULL = any
  opd_code    TEXT,                               -- the employee's OPD (audit/scoping)
  started_by  TEXT NOT NULL,
  started_at  TEXT NOT NULL,
  expires_at  TEXT NOT NULL,
  used_at     TEXT,
  used_for    TEXT                                -- what the upload stored (finger N / face crops)
);
CREATE INDEX enrol_sessions_open ON enrol_sessions (device_id, nip, method) WHERE used_at IS NULL;
