-- Face enrolment (biometric data under UU 27/2022). The aligned 160x160 crops are kept so templates
-- can be re-computed when the model changes; they are stored ENCRYPTED (AES-256-GCM, key outside the
-- database: <data>/biometric.key or HADIR_BIOMETRIC_KEY). Templates are tagged with the model that
-- produced them; kiosks only compare templates of their own model.
CREATE TABLE face_crops (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  nip         TEXT NOT NULL REFERENCES staff(nip),
  key_id      TEXT NOT NULL,                        -- first 16 hex of sha256(key): a wrong key is named, not guessed
  iv          BLOB NOT NULL,                        -- 12 bytes
  tag         BLOB NOT NULL,                        -- 16 bytes
  ciphertext  BLOB NOT NULL,                        -- JPEG q95 of the canonical aligned crop
  source      TEXT NOT NULL,                        -- 'cli' or the kiosk device id
  created_at  TEXT NOT NULL,
  created_by  TEXT
);
CREATE INDEX face_crops_nip ON face_crops (nip);

CREATE TABLE face_templates (
  crop_id     INTEGER NOT NULL REFERENCES face_crops(id) ON DELETE CASCADE,
  model_id    TEXT NOT NULL,
  vector      BLOB NOT NULL,                        -- little-endian float32, L2-normalised
  created_at  TEXT NOT NULL,
  PRIMARY KEY (crop_id, model_id)
);
CREATE INDEX face_templates_model ON face_templates (model_id);
