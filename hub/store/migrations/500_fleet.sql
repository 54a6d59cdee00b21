-- Fleet updates: signed release bundles, staged rollouts and each kiosk's progress.

CREATE TABLE fleet_releases (
  version        TEXT NOT NULL,
  arch           TEXT NOT NULL,
  file           TEXT NOT NULL,                    -- bundle path under <data>/releases
  size           INTEGER NOT NULL,
  sha256         TEXT NOT NULL,                    -- of the whole bundle (resumed downloads are checked against it)
  manifest       TEXT NOT NULL,                    -- manifest.json without the file list (version, arch, minHubVersion, journalSchemaVersion, nodeModules)
  key_id         TEXT NOT NULL,                    -- fingerprint of the release key that signed it
  added_at       TEXT NOT NULL,
  added_by       TEXT,
  PRIMARY KEY (version, arch)
);

CREATE TABLE fleet_rollouts (
  id             INTEGER PRIMARY KEY AUTOINCREMENT,
  version        TEXT NOT NULL,
  state          TEXT NOT NULL CHECK (state IN ('running', 'paused', 'halted', 'aborted', 'completed')),
  stages         TEXT NOT NULL,                    -- JSON [{kind, …}] (hub/fleet/rollout.ts)
  stage          INTEGER NOT NULL DEFAULT 0,       -- index of the stage being installed
  install_window TEXT NOT NULL,                    -- "18:00-05:00" local time of each site
  blackouts      TEXT NOT NULL,                    -- "05:00-09:00,14:00-18:00": check-in / check-out windows, never installed in
  max_failures   INTEGER NOT NULL,
  reason         TEXT,                             -- why halted / aborted
  created_at     TEXT NOT NULL,
  created_by     TEXT,
  updated_at     TEXT NOT NULL
);

CREATE TABLE fleet_targets (
  rollout_id     INTEGER NOT NULL REFERENCES fleet_rollouts(id),
  device_id      TEXT NOT NULL,
  stage          INTEGER NOT NULL,
  state          TEXT NOT NULL CHECK (state IN ('pending', 'downloading', 'downloaded', 'installing', 'confirmed', 'failed')),
  from_version   TEXT,
  reason         TEXT,                             -- the failure, as the kiosk reported it
  offered_at     TEXT,                             -- first time the kiosk was offered the release ("rollout started" for it)
  confirmed_at   TEXT,
  timings        TEXT,                             -- JSON the kiosk reported (download, restart gap, confirm)
  updated_at     TEXT NOT NULL,
  PRIMARY KEY (rollout_id, device_id)
);
CREATE INDEX fleet_targets_device ON fleet_targets (device_id);

-- Every failure ever reported, also of halted/aborted rollouts (the targets row keeps the latest).
CREATE TABLE fleet_failures (
  id             INTEGER PRIMARY KEY AUTOINCREMENT,
  rollout_id     INTEGER NOT NULL,
  device_id      TEXT NOT NULL,
  version        TEXT NOT NULL,
  phase          TEXT NOT NULL,
  reason         TEXT NOT NULL,
  at             TEXT NOT NULL
);

-- What each kiosk last said it runs (retained MQTT birth / the updater's reports).
CREATE TABLE fleet_device_versions (
  device_id      TEXT PRIMARY KEY,
  version        TEXT NOT NULL,
  online         INTEGER NOT NULL,
  at             TEXT NOT NULL                     -- when the hub received it
);

-- Per-site install window overrides (hadir fleet window SITE 19:00-04:00).
CREATE TABLE fleet_site_windows (
  site_code      TEXT PRIMARY KEY,
  install_window TEXT NOT NULL
);
