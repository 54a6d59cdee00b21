-- Terminal health (hub/health): latest + history of kiosk health messages, alerts, alert rules,
-- remote commands, and suggested true times for clock-unsynced punches.

CREATE TABLE device_health (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  device_id       TEXT NOT NULL,
  at              TEXT NOT NULL,                    -- the kiosk's `at` (its wall clock)
  received_at     TEXT NOT NULL,                    -- hub clock at receipt
  boot_id         TEXT NOT NULL,
  mono_ms         REAL NOT NULL,
  clock_synced    INTEGER,
  clock_source    TEXT,
  clock_offset_ms REAL,                             -- what the kiosk reports (positive = kiosk ahead)
  est_offset_ms   REAL,                             -- hub's estimate from at vs received_at (filtered)
  cpu_temp_c      REAL,
  disk_free_pct   REAL,
  undelivered     INTEGER,
  body            TEXT NOT NULL                     -- the whole validated message (JSON)
);
CREATE INDEX device_health_dev_time ON device_health (device_id, received_at);

CREATE TABLE health_alerts (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  device_id   TEXT NOT NULL,
  kind        TEXT NOT NULL,                        -- offline|clock_drift|clock_jump|clock_unsynced|backlog_growing|disk_low|temperature|throttling|sensor_fault
  severity    TEXT NOT NULL,                        -- warning|critical
  detail      TEXT NOT NULL,
  raised_at   TEXT NOT NULL,
  updated_at  TEXT NOT NULL,
  cleared_at  TEXT,
  acked_by    TEXT,
  acked_at    TEXT
);
-- at most one open alert per device and kind
CREATE UNIQUE INDEX health_alerts_open ON health_alerts (device_id, kind) WHERE cleared_at IS NULL;
CREATE INDEX health_alerts_time ON health_alerts (raised_at);

CREATE TABLE health_alert_rules (
  id          INTEGER PRIMARY KEY CHECK (id = 1),
  rules       TEXT NOT NULL,                        -- JSON validated by hub/health/rules.ts
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

-- Suggested true time of a punch taken with an unsynced clock (same boot id, monotonic offset from a
-- later synced health message or punch). Only a suggestion: the admin accepts it in the review.
ALTER TABLE punches ADD COLUMN suggested_at TEXT;
ALTER TABLE punches ADD COLUMN suggested_span_ms REAL;  -- monotonic distance to the reference (error grows with it)
ALTER TABLE punches ADD COLUMN suggested_ref TEXT;      -- health:<id> or punch:<id>
