-- The hub core on PostgreSQL: what hub/store/migrations 000–006 (core) and the organisation and
-- attendance-queue parts of 100/101 make on SQLite, in one file. Times stay ISO-8601 UTC text, as on
-- SQLite, so both stores give byte-identical API and report output.

CREATE TABLE opd (
  code  TEXT PRIMARY KEY,
  name  TEXT NOT NULL
);
CREATE TABLE units (
  code      TEXT PRIMARY KEY,
  opd_code  TEXT NOT NULL REFERENCES opd(code),
  name      TEXT NOT NULL
);
CREATE TABLE sites (
  code       TEXT PRIMARY KEY,
  unit_code  TEXT NOT NULL REFERENCES units(code),
  name       TEXT NOT NULL,
  utc_offset_min INTEGER
);
CREATE TABLE staff (
  nip          TEXT PRIMARY KEY,
  name         TEXT NOT NULL,
  opd_code     TEXT NOT NULL REFERENCES opd(code),
  unit_code    TEXT NOT NULL REFERENCES units(code),
  employment   TEXT NOT NULL CHECK (employment IN ('ASN', 'PPPK', 'HONORER')),
  job_class    TEXT,
  tpp_base     BIGINT NOT NULL DEFAULT 0,
  schedule_code TEXT NOT NULL,
  active       INTEGER NOT NULL DEFAULT 1,
  updated_at   TEXT NOT NULL,
  updated_by   TEXT
);
CREATE INDEX staff_unit ON staff (unit_code);
CREATE INDEX staff_opd ON staff (opd_code);

CREATE TABLE devices (
  id              TEXT PRIMARY KEY,
  site_code       TEXT NOT NULL,
  public_key_pem  TEXT,
  mqtt_secret_hash TEXT,
  broker_password_hash TEXT,
  created_at      TEXT NOT NULL,
  enrolled_at     TEXT,
  disabled_at     TEXT,
  disabled_reason TEXT,
  disabled_by     TEXT,
  last_seen_at    TEXT,
  online          INTEGER NOT NULL DEFAULT 0,
  status_at       TEXT,
  contiguous_seq  BIGINT NOT NULL DEFAULT 0,
  max_seq         BIGINT NOT NULL DEFAULT 0,
  backlog         BIGINT,
  backlog_oldest_at TEXT
);

CREATE TABLE enrol_tokens (
  token_hash  TEXT PRIMARY KEY,
  device_id   TEXT NOT NULL REFERENCES devices(id),
  site_code   TEXT NOT NULL,
  created_at  TEXT NOT NULL,
  expires_at  TEXT NOT NULL,
  used_at     TEXT
);

-- Exactly once: a partitioned table cannot have a unique index without its partition key, so the
-- keys of every punch live here (one row per punch id, and (device_id, seq) once). A punch is
-- stored by inserting its key ON CONFLICT DO NOTHING and, only when that inserted a row, its body.
CREATE TABLE punch_keys (
  id           TEXT PRIMARY KEY,
  device_id    TEXT,
  seq          BIGINT,
  captured_at  TEXT NOT NULL,
  UNIQUE (device_id, seq)
);

-- Punches, partitioned by month of captured_at (partitions made on demand by the store, e.g.
-- punches_2026_10); capture times outside 2000–2099 (implausible clocks) land in the default one.
CREATE TABLE punches (
  id            TEXT NOT NULL,
  device_id     TEXT,
  seq           BIGINT,
  nip           TEXT NOT NULL,
  method        TEXT NOT NULL,
  captured_at   TEXT NOT NULL,
  site_code     TEXT,
  clock_synced  INTEGER NOT NULL DEFAULT 1,
  clock_source  TEXT,
  clock_offset_ms DOUBLE PRECISION,
  clock_error_ms DOUBLE PRECISION,
  boot_id       TEXT,
  mono_ms       DOUBLE PRECISION,
  score         DOUBLE PRECISION,
  liveness      DOUBLE PRECISION,
  prev_hash     TEXT,
  sig           TEXT,
  has_photo     INTEGER NOT NULL DEFAULT 0,
  received_at   TEXT NOT NULL,
  imported_by   TEXT,
  note          TEXT,
  review_status TEXT NOT NULL DEFAULT 'none',
  review_reason TEXT,
  corrected_at  TEXT,
  reviewed_by   TEXT,
  reviewed_at   TEXT,
  hash          TEXT,
  chain_break   INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (captured_at, id)
) PARTITION BY RANGE (captured_at);
CREATE TABLE punches_other PARTITION OF punches DEFAULT;
CREATE INDEX punches_id ON punches (id);
CREATE INDEX punches_nip_time ON punches (nip, captured_at);
CREATE INDEX punches_device_seq ON punches (device_id, seq);
CREATE INDEX punches_review ON punches (review_status) WHERE review_status = 'pending';
CREATE INDEX punches_chain_break ON punches (device_id) WHERE chain_break = 1;

CREATE TABLE punch_photos (
  punch_id  TEXT PRIMARY KEY REFERENCES punch_keys(id),
  jpeg      BYTEA NOT NULL
);

CREATE TABLE seq_gaps (
  device_id  TEXT NOT NULL REFERENCES devices(id),
  from_seq   BIGINT NOT NULL,
  to_seq     BIGINT NOT NULL,
  detected_at TEXT NOT NULL,
  closed_at  TEXT,
  PRIMARY KEY (device_id, from_seq)
);

CREATE TABLE rejections (
  id          BIGSERIAL PRIMARY KEY,
  at          TEXT NOT NULL,
  device_id   TEXT,
  topic       TEXT,
  code        TEXT NOT NULL,
  reason      TEXT NOT NULL,
  punch_id    TEXT
);

CREATE TABLE punch_conflicts (
  id           TEXT PRIMARY KEY,
  device_id    TEXT NOT NULL REFERENCES devices(id),
  seq          BIGINT NOT NULL,
  site_code    TEXT,
  punch        TEXT NOT NULL,
  received_at  TEXT NOT NULL
);
CREATE INDEX punch_conflicts_device ON punch_conflicts (device_id, seq);

CREATE TABLE users (
  username      TEXT PRIMARY KEY,
  display_name  TEXT NOT NULL,
  role          TEXT NOT NULL CHECK (role IN ('bkpsdm', 'opd_admin', 'technician')),
  opd_code      TEXT,
  password_hash TEXT,
  created_at    TEXT NOT NULL,
  disabled_at   TEXT
);
CREATE TABLE api_tokens (
  token_hash  TEXT PRIMARY KEY,
  username    TEXT NOT NULL REFERENCES users(username),
  label       TEXT,
  created_at  TEXT NOT NULL,
  last_used_at TEXT
);

-- The attendance queue, fed as on SQLite (migration 101): by triggers on punches, whoever stores or
-- reviews them (docs/hub.md "The attendance queue").
CREATE TABLE att_dirty (
  id           BIGSERIAL PRIMARY KEY,
  nip          TEXT NOT NULL,
  month        TEXT,
  captured_at  TEXT
);
CREATE FUNCTION att_punch_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO att_dirty (nip, captured_at) VALUES (NEW.nip, NEW.captured_at);
  RETURN NULL;
END $$;
CREATE FUNCTION att_punch_reviewed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO att_dirty (nip, captured_at) VALUES (NEW.nip, NEW.captured_at);
  IF NEW.corrected_at IS NOT NULL THEN
    INSERT INTO att_dirty (nip, captured_at) VALUES (NEW.nip, NEW.corrected_at);
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER att_punch_inserted AFTER INSERT ON punches FOR EACH ROW EXECUTE FUNCTION att_punch_inserted();
CREATE TRIGGER att_punch_reviewed AFTER UPDATE OF review_status, corrected_at ON punches FOR EACH ROW EXECUTE FUNCTION att_punch_reviewed();
