-- Terminal health on PostgreSQL (hub/store/migrations/200_health.sql on SQLite).
CREATE TABLE device_health (
  id              BIGSERIAL PRIMARY KEY,
  device_id       TEXT NOT NULL,
  at              TEXT NOT NULL,
  received_at     TEXT NOT NULL,
  boot_id         TEXT NOT NULL,
  mono_ms         DOUBLE PRECISION NOT NULL,
  clock_synced    INTEGER,
  clock_source    TEXT,
  clock_offset_ms DOUBLE PRECISION,
  est_offset_ms   DOUBLE PRECISION,
  cpu_temp_c      DOUBLE PRECISION,
  disk_free_pct   DOUBLE PRECISION,
  undelivered     BIGINT,
  body            TEXT NOT NULL
);
CREATE INDEX device_health_dev_time ON device_health (device_id, received_at);

CREATE TABLE health_alerts (
  id          BIGSERIAL PRIMARY KEY,
  device_id   TEXT NOT NULL,
  kind        TEXT NOT NULL,
  severity    TEXT NOT NULL,
  detail      TEXT NOT NULL,
  raised_at   TEXT NOT NULL,
  updated_at  TEXT NOT NULL,
  cleared_at  TEXT,
  acked_by    TEXT,
  acked_at    TEXT
);
CREATE UNIQUE INDEX health_alerts_open ON health_alerts (device_id, kind) WHERE cleared_at IS NULL;
CREATE INDEX health_alerts_time ON health_alerts (raised_at);

CREATE TABLE health_alert_rules (
  id          INTEGER PRIMARY KEY CHECK (id = 1),
  rules       TEXT NOT NULL,
  updated_at  TEXT NOT NULL,
  updated_by  TEXT
);

CREATE TABLE device_commands (
  id          TEXT PRIMARY KEY,
  device_id   TEXT NOT NULL,
  cmd         TEXT NOT NULL,
  args        TEXT,
  sent_at     TEXT NOT NULL,
  sent_by     TEXT,
  result_at   TEXT,
  ok          INTEGER,
  result      TEXT,
  error       TEXT
);
CREATE INDEX device_commands_dev ON device_commands (device_id, sent_at);

ALTER TABLE punches ADD COLUMN suggested_at TEXT;
ALTER TABLE punches ADD COLUMN suggested_span_ms DOUBLE PRECISION;
ALTER TABLE punches ADD COLUMN suggested_ref TEXT;
