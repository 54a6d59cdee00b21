-- Face crops and templates, fingerprint templates and enrolment sessions on PostgreSQL
-- (hub/store/migrations 300, 310, 320 on SQLite).
CREATE TABLE face_crops (
  id          BIGSERIAL PRIMARY KEY,
  nip         TEXT NOT NULL REFERENCES staff(nip),
  key_id      TEXT NOT NULL,
  iv          BYTEA NOT NULL,
  tag         BYTEA NOT NULL,
  ciphertext  BYTEA NOT NULL,
  source      TEXT NOT NULL,
  created_at  TEXT NOT NULL,
  created_by  TEXT
);
CREATE INDEX face_crops_nip ON face_crops (nip);
CREATE TABLE face_templates (
  crop_id     BIGINT NOT NULL REFERENCES face_crops(id) ON DELETE CASCADE,
  model_id    TEXT NOT NULL,
  vector      BYTEA NOT NULL,
  created_at  TEXT NOT NULL,
  PRIMARY KEY (crop_id, model_id)
);
CREATE INDEX face_templates_model ON face_templates (model_id);

CREATE TABLE finger_templates (
  nip                 TEXT NOT NULL REFERENCES staff(nip),
  finger              INTEGER NOT NULL CHECK (finger BETWEEN 0 AND 10),
  template            BYTEA NOT NULL,
  sha256              TEXT NOT NULL,
  enrolled_device_id  TEXT REFERENCES devices(id),
  enrolled_at         TEXT NOT NULL,
  updated_at          TEXT NOT NULL,
  PRIMARY KEY (nip, finger)
);

CREATE TABLE enrol_sessions (
  id          TEXT PRIMARY KEY,
  device_id   TEXT NOT NULL REFERENCES devices(id),
  nip         TEXT NOT NULL,
  method      TEXT NOT NULL CHECK (method IN ('face', 'finger')),
  finger      INTEGER,
  opd_code    TEXT,
  started_by  TEXT NOT NULL,
  started_at  TEXT NOT NULL,
  expires_at  TEXT NOT NULL,
  used_at     TEXT,
  used_for    TEXT
);
CREATE INDEX enrol_sessions_open ON enrol_sessions (device_id, nip, method) WHERE used_at IS NULL;
