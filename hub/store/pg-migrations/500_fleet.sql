-- Fleet updates on PostgreSQL: what hub/store/migrations/500_fleet.sql makes on SQLite (signed
-- release bundles, staged rollouts, each kiosk's progress and failures, the version each kiosk
-- runs, per-site install windows). Same columns, so `hadir migrate` copies them as they are.

CREATE TABLE fleet_releases (
  version        TEXT NOT NULL,
  arch           TEXT NOT NULL,
  file           TEXT NOT NULL,                    -- bundle path under <data>/releases (served by its file name from each worker's own data dir)
  size           BIGINT NOT NULL,
  sha256         TEXT NOT NULL,
  manifest       TEXT NOT NULL,                    -- JSON: manifest.json without the file list
  key_id         TEXT NOT NULL,
  added_at       TEXT NOT NULL,
  added_by       TEXT,
  PRIMARY KEY (version, arch)
);

CREATE TABLE fleet_rollouts (
  id             BIGSERIAL PRIMARY KEY,
  version        TEXT NOT NULL,
  state          TEXT NOT NULL CHECK (state IN ('running', 'paused', 'halted', 'aborted', 'completed')),
  stages         TEXT NOT NULL,                    -- JSON [{kind, …}] (hub/fleet/rollout.ts)
  stage          INTEGER NOT NULL DEFAULT 0,
  install_window TEXT NOT NULL,
  blackouts      TEXT NOT NULL,
  max_failures   INTEGER NOT NULL,
  reason         TEXT,
  created_at     TEXT NOT NULL,
  created_by     TEXT,
  updated_at     TEXT NOT NULL
);
-- One active rollout at a time, whichever worker (or command) starts it.
CREATE UNIQUE INDEX fleet_rollouts_one_active ON fleet_rollouts ((true)) WHERE state IN ('running', 'paused', 'halted');

CREATE TABLE fleet_targets (
  rollout_id     BIGINT NOT NULL REFERENCES fleet_rollouts(id),
  device_id      TEXT NOT NULL,
  stage          INTEGER NOT NULL,
  state          TEXT NOT NULL CHECK (state IN ('pending', 'downloading', 'downloaded', 'installing', 'confirmed', 'failed')),
  from_version   TEXT,
  reason         TEXT,
  offered_at     TEXT,
  confirmed_at   TEXT,
  timings        TEXT,                             -- JSON the kiosk reported
  updated_at     TEXT NOT NULL,
  PRIMARY KEY (rollout_id, device_id)
);
CREATE INDEX fleet_targets_device ON fleet_targets (device_id);

CREATE TABLE fleet_failures (
  id             BIGSERIAL PRIMARY KEY,
  rollout_id     BIGINT NOT NULL,
  device_id      TEXT NOT NULL,
  version        TEXT NOT NULL,
  phase          TEXT NOT NULL,
  reason         TEXT NOT NULL,
  at             TEXT NOT NULL
);
CREATE INDEX fleet_failures_rollout ON fleet_failures (rollout_id);
CREATE INDEX fleet_failures_device ON fleet_failures (device_id);

CREATE TABLE fleet_device_versions (
  device_id      TEXT PRIMARY KEY,
  version        TEXT NOT NULL,
  online         INTEGER NOT NULL,
  at             TEXT NOT NULL
);

CREATE TABLE fleet_site_windows (
  site_code      TEXT PRIMARY KEY,
  install_window TEXT NOT NULL
);
