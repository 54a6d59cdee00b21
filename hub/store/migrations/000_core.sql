-- Core: devices, enrolment tokens, punches (exactly once per id), per-device sequence tracking.
CREATE TABLE devices (
  id              TEXT PRIMARY KEY,                 -- also the MQTT username and topic level
  site_code       TEXT NOT NULL,
  public_key_pem  TEXT,                             -- Ed25519 SPKI; NULL until enrolled
  mqtt_secret_hash TEXT,                            -- scrypt hash of the MQTT/HTTP password
  created_at      TEXT NOT NULL,
  enrolled_at     TEXT,
  disabled_at     TEXT,
  last_seen_at    TEXT,
  online          INTEGER NOT NULL DEFAULT 0,        -- from retained status / LWT
  status_at       TEXT,
  contiguous_seq  INTEGER NOT NULL DEFAULT 0,        -- 1..n all stored
  max_seq         INTEGER NOT NULL DEFAULT 0,
  backlog         INTEGER,                           -- undelivered count reported by the kiosk
  backlog_oldest_at TEXT
);

CREATE TABLE enrol_tokens (
  token_hash  TEXT PRIMARY KEY,                     -- sha256 of the one-time token; the token itself is never stored
  device_id   TEXT NOT NULL REFERENCES devices(id),
  site_code   TEXT NOT NULL,
  created_at  TEXT NOT NULL,
  expires_at  TEXT NOT NULL,
  used_at     TEXT
);

-- Every punch, from kiosks (signed) or imported (manual/legacy). `id` is the exactly-once key.
CREATE TABLE punches (
  id            TEXT PRIMARY KEY,                   -- UUIDv7 from the kiosk; for imports a UUIDv7 made at import
  device_id     TEXT REFERENCES devices(id),        -- NULL for imports
  seq           INTEGER,                            -- per-device, gapless; NULL for imports
  nip           TEXT NOT NULL,
  method        TEXT NOT NULL,                      -- face|finger|pin|manual|legacy
  captured_at   TEXT NOT NULL,                      -- UTC ISO-8601 (ms) as stamped by the kiosk
  site_code     TEXT,                               -- the device's site at ingest, or the import's site
  clock_synced  INTEGER NOT NULL DEFAULT 1,
  clock_source  TEXT,
  clock_offset_ms REAL,
  boot_id       TEXT,
  mono_ms       REAL,
  score         REAL,
  liveness      REAL,
  prev_hash     TEXT,
  sig           TEXT,
  has_photo     INTEGER NOT NULL DEFAULT 0,
  received_at   TEXT NOT NULL,
  imported_by   TEXT,                               -- admin who imported a manual/legacy punch
  note          TEXT,
  -- clock-unverified punches wait for review: none|pending|accepted|rejected
  review_status TEXT NOT NULL DEFAULT 'none',
  corrected_at  TEXT,                               -- admin-corrected UTC time (accept with correction)
  reviewed_by   TEXT,
  reviewed_at   TEXT,
  UNIQUE (device_id, seq)
);
CREATE INDEX punches_nip_time ON punches (nip, captured_at);
CREATE INDEX punches_device_seq ON punches (device_id, seq);
CREATE INDEX punches_review ON punches (review_status) WHERE review_status = 'pending';
CREATE UNIQUE INDEX punches_import_key ON punches (nip, captured_at, site_code) WHERE device_id IS NULL;

CREATE TABLE punch_photos (
  punch_id  TEXT PRIMARY KEY REFERENCES punches(id),
  jpeg      BLOB NOT NULL
);

-- Seq holes per device (a seq > contiguous+1 arrived first); closed when filled.
CREATE TABLE seq_gaps (
  device_id  TEXT NOT NULL REFERENCES devices(id),
  from_seq   INTEGER NOT NULL,
  to_seq     INTEGER NOT NULL,
  detected_at TEXT NOT NULL,
  closed_at  TEXT,
  PRIMARY KEY (device_id, from_seq)
);

-- Rejected messages (bad signature, schema, unknown device …), kept for audit; counted in /metrics.
CREATE TABLE rejections (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  at          TEXT NOT NULL,
  device_id   TEXT,
  topic       TEXT,
  code        TEXT NOT NULL,
  reason      TEXT NOT NULL,
  punch_id    TEXT
);

-- Hub users (web UI and API): BKPSDM sees the regency, an OPD admin their own OPD.
CREATE TABLE users (
  username      TEXT PRIMARY KEY,
  display_name  TEXT NOT NULL,
  role          TEXT NOT NULL CHECK (role IN ('bkpsdm', 'opd_admin')),
  opd_code      TEXT,                               -- required for opd_admin
  password_hash TEXT,                               -- scrypt
  created_at    TEXT NOT NULL,
  disabled_at   TEXT
);
CREATE TABLE api_tokens (
  token_hash  TEXT PRIMARY KEY,                     -- sha256 of the bearer token
  username    TEXT NOT NULL REFERENCES users(username),
  label       TEXT,
  created_at  TEXT NOT NULL,
  last_used_at TEXT
);
