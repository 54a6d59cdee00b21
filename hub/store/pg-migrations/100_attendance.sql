-- Organisation and attendance on PostgreSQL: what hub/store/migrations 100–104 make on SQLite beyond
-- the organisation tables and the queue that 000_core already has (opd, units, sites with
-- utc_offset_min, staff, att_dirty and its triggers). Times and dates stay ISO text, as on SQLite;
-- derived days stay the same packed JSON text, so reports are byte-identical on both stores.

CREATE TABLE staff_assignments (
  nip        TEXT NOT NULL REFERENCES staff(nip),
  from_date  TEXT NOT NULL,
  unit_code  TEXT NOT NULL REFERENCES units(code),
  opd_code   TEXT NOT NULL REFERENCES opd(code),
  schedule_code TEXT,
  PRIMARY KEY (nip, from_date)
);

CREATE TABLE att_config (
  key    TEXT PRIMARY KEY,
  value  TEXT NOT NULL
);
CREATE TABLE att_schedules (
  code        TEXT PRIMARY KEY,
  name        TEXT NOT NULL,
  definition  TEXT NOT NULL,
  updated_at  TEXT NOT NULL,
  updated_by  TEXT
);
CREATE TABLE att_roster (
  nip    TEXT NOT NULL,
  date   TEXT NOT NULL,
  shift  TEXT NOT NULL,
  PRIMARY KEY (nip, date)
);
CREATE TABLE att_holidays (
  date  TEXT PRIMARY KEY,
  name  TEXT NOT NULL,
  kind  TEXT NOT NULL CHECK (kind IN ('nasional', 'cuti_bersama'))
);
CREATE TABLE att_holiday_exceptions (
  date       TEXT NOT NULL,
  unit_code  TEXT NOT NULL,
  PRIMARY KEY (date, unit_code)
);
CREATE TABLE att_exceptions (
  id            BIGSERIAL PRIMARY KEY,
  nip           TEXT NOT NULL,
  type          TEXT NOT NULL,
  from_date     TEXT NOT NULL,
  to_date       TEXT NOT NULL,
  evidence      TEXT,
  note          TEXT,
  status        TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected')),
  requested_by  TEXT NOT NULL,
  requested_at  TEXT NOT NULL,
  decided_by    TEXT,
  decided_at    TEXT
);
CREATE INDEX att_exceptions_nip ON att_exceptions (nip, from_date);
CREATE TABLE att_events (
  id         BIGSERIAL PRIMARY KEY,
  date       TEXT NOT NULL,
  site_code  TEXT NOT NULL,
  name       TEXT NOT NULL,
  opd_code   TEXT,
  unit_code  TEXT,
  nips       TEXT,
  created_by TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX att_events_date ON att_events (date);
CREATE TABLE tpp_rules (
  id              TEXT PRIMARY KEY,
  effective_from  TEXT NOT NULL UNIQUE,
  definition      TEXT NOT NULL,
  added_at        TEXT NOT NULL,
  added_by        TEXT
);
CREATE TABLE tpp_kinerja (
  nip          TEXT NOT NULL,
  month        TEXT NOT NULL,
  score        DOUBLE PRECISION NOT NULL,
  imported_by  TEXT NOT NULL,
  imported_at  TEXT NOT NULL,
  PRIMARY KEY (nip, month)
);
-- Derived employee-months, as on SQLite. input_seq: the highest att_dirty id the derivation had
-- claimed (informational on PostgreSQL: concurrent derivations are serialised by advisory locks,
-- docs/hub.md "The attendance queue").
CREATE TABLE att_months (
  nip            TEXT NOT NULL,
  month          TEXT NOT NULL,
  opd_code       TEXT,
  unit_code      TEXT,
  days           TEXT NOT NULL,
  deduction_pct  DOUBLE PRECISION NOT NULL,
  work_days      INTEGER NOT NULL,
  present_days   INTEGER NOT NULL,
  late_days      INTEGER NOT NULL,
  early_days     INTEGER NOT NULL,
  absent_days    INTEGER NOT NULL,
  missing_days   INTEGER NOT NULL,
  excused_days   INTEGER NOT NULL,
  pending_review INTEGER NOT NULL,
  digest         TEXT NOT NULL,
  input_seq      BIGINT NOT NULL,
  derived_at     TEXT NOT NULL,
  changed_at     TEXT NOT NULL,
  PRIMARY KEY (nip, month)
);
CREATE INDEX att_months_opd ON att_months (month, opd_code);

-- A punch imported from paper or an old machine (no device) is stored once per employee, time and
-- site, as on SQLite (punches_import_key): re-importing a sheet adds nothing. captured_at is the
-- partition key, so PostgreSQL can enforce this across partitions.
CREATE UNIQUE INDEX punches_import_key ON punches (nip, captured_at, site_code) WHERE device_id IS NULL;
CREATE INDEX att_punches_corrected ON punches (corrected_at) WHERE corrected_at IS NOT NULL;
CREATE INDEX sites_unit ON sites (unit_code);

CREATE TABLE staff_exits (
  id               BIGSERIAL PRIMARY KEY,
  nip              TEXT NOT NULL REFERENCES staff(nip),
  from_date        TEXT NOT NULL,
  reason           TEXT NOT NULL CHECK (reason IN ('pensiun', 'berhenti', 'meninggal', 'mutasi_keluar')),
  note             TEXT,
  ended_by         TEXT NOT NULL,
  ended_at         TEXT NOT NULL,
  reinstated_from  TEXT,
  reinstated_by    TEXT,
  reinstated_at    TEXT,
  CHECK (reinstated_from IS NULL OR reinstated_from >= from_date)
);
CREATE UNIQUE INDEX staff_exits_open ON staff_exits (nip) WHERE reinstated_from IS NULL;
CREATE INDEX staff_exits_nip ON staff_exits (nip, from_date);

-- SQLite migration 104: a punch with an implausible time (review_reason set) is not queued when
-- stored; only once an admin accepts it (at the corrected time, if given). 000_core's triggers
-- queued every punch; these are the same triggers as SQLite's since 104.
CREATE OR REPLACE FUNCTION att_punch_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.review_reason IS NULL THEN
    INSERT INTO att_dirty (nip, captured_at) VALUES (NEW.nip, NEW.captured_at);
  END IF;
  RETURN NULL;
END $$;
CREATE OR REPLACE FUNCTION att_punch_reviewed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.review_reason IS NULL OR (NEW.review_status = 'accepted' AND NEW.corrected_at IS NULL) THEN
    INSERT INTO att_dirty (nip, captured_at) VALUES (NEW.nip, NEW.captured_at);
  END IF;
  IF NEW.corrected_at IS NOT NULL THEN
    INSERT INTO att_dirty (nip, captured_at) VALUES (NEW.nip, NEW.corrected_at);
  END IF;
  RETURN NULL;
END $$;
