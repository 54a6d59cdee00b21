-- Attendance and TPP: schedules as data, holidays, exceptions (leave/duty) with approval, relocation
-- events, shift rosters, TPP rule versions, performance scores, derived employee-months and the
-- dirty queue that keeps them current no matter who wrote the input.

-- Local time of a site (minutes east of UTC: WIB 420, WITA 480, WIT 540); NULL = the regency default (att_config).
ALTER TABLE sites ADD COLUMN utc_offset_min INTEGER;

CREATE TABLE att_config (
  key    TEXT PRIMARY KEY,                          -- tz_offset_min, site_policy
  value  TEXT NOT NULL
);

-- Work patterns; `definition` is the JSON validated by hub/attendance/schedule.ts.
CREATE TABLE att_schedules (
  code        TEXT PRIMARY KEY,
  name        TEXT NOT NULL,
  definition  TEXT NOT NULL,
  updated_at  TEXT NOT NULL,
  updated_by  TEXT
);

-- Shift roster for schedules of type "roster" (puskesmas): the shift an employee works on a date.
CREATE TABLE att_roster (
  nip    TEXT NOT NULL,
  date   TEXT NOT NULL,                             -- YYYY-MM-DD, the date the shift starts
  shift  TEXT NOT NULL,                             -- shift key in the schedule, or OFF
  PRIMARY KEY (nip, date)
);

-- National holidays and cuti bersama.
CREATE TABLE att_holidays (
  date  TEXT PRIMARY KEY,
  name  TEXT NOT NULL,
  kind  TEXT NOT NULL CHECK (kind IN ('nasional', 'cuti_bersama'))
);
-- Direct-service units (puskesmas, RSUD, …) that work normally on a given holiday.
CREATE TABLE att_holiday_exceptions (
  date       TEXT NOT NULL,
  unit_code  TEXT NOT NULL,
  PRIMARY KEY (date, unit_code)
);

-- Leave (PP 11/2017), dinas luar / SPT, tugas belajar: effective only once approved.
CREATE TABLE att_exceptions (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  nip           TEXT NOT NULL,
  type          TEXT NOT NULL,
  from_date     TEXT NOT NULL,
  to_date       TEXT NOT NULL,
  evidence      TEXT,                               -- letter number / SPT number / file reference
  note          TEXT,
  status        TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected')),
  requested_by  TEXT NOT NULL,
  requested_at  TEXT NOT NULL,
  decided_by    TEXT,
  decided_at    TEXT
);
CREATE INDEX att_exceptions_nip ON att_exceptions (nip, from_date);

-- Event relocation (e.g. Monday apel at another site): punches at site_code count for participants.
CREATE TABLE att_events (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  date       TEXT NOT NULL,
  site_code  TEXT NOT NULL,
  name       TEXT NOT NULL,
  opd_code   TEXT,                                -- participants: a whole OPD …
  unit_code  TEXT,                                -- … or a unit …
  nips       TEXT,                                -- … or a comma-separated NIP list
  created_by TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX att_events_date ON att_events (date);

-- TPP rule versions (one per Perbup), the one in force on a day = latest effective_from <= day.
CREATE TABLE tpp_rules (
  id              TEXT PRIMARY KEY,
  effective_from  TEXT NOT NULL UNIQUE,
  definition      TEXT NOT NULL,
  added_at        TEXT NOT NULL,
  added_by        TEXT
);

-- Performance score (e-Kinerja), 0–100 per employee per month.
CREATE TABLE tpp_kinerja (
  nip          TEXT NOT NULL,
  month        TEXT NOT NULL,                     -- YYYY-MM
  score        REAL NOT NULL,
  imported_by  TEXT NOT NULL,
  imported_at  TEXT NOT NULL,
  PRIMARY KEY (nip, month)
);

-- Derived employee-month: the day records as one JSON document plus totals. Re-derived whole
-- (one employee's month is ~60 punches: cheap) whenever an input changes; changed_at moves only
-- when the numbers actually change.
CREATE TABLE att_months (
  nip            TEXT NOT NULL,
  month          TEXT NOT NULL,                   -- YYYY-MM
  opd_code       TEXT,                            -- OPD on the last assigned day of the month (pays the TPP)
  unit_code      TEXT,
  days           TEXT NOT NULL,                   -- JSON DayRecord[]
  deduction_pct  REAL NOT NULL,                   -- summed over the month, before the cap
  work_days      INTEGER NOT NULL,
  present_days   INTEGER NOT NULL,
  late_days      INTEGER NOT NULL,
  early_days     INTEGER NOT NULL,
  absent_days    INTEGER NOT NULL,
  missing_days   INTEGER NOT NULL,
  excused_days   INTEGER NOT NULL,
  pending_review INTEGER NOT NULL,                -- clock-unverified punches awaiting review
  digest         TEXT NOT NULL,                   -- unused (changes are detected by comparing `days` in SQL)
  input_seq      INTEGER NOT NULL,                -- att_dirty id seen when the inputs were read (a newer derivation wins)
  derived_at     TEXT NOT NULL,
  changed_at     TEXT NOT NULL,
  PRIMARY KEY (nip, month)
);
CREATE INDEX att_months_opd ON att_months (month, opd_code);

-- Derivation queue, filled by triggers on punches (whoever writes them: hub ingest or CLI import)
-- and by the attendance code for leave, holidays, rules, transfers. A row names either a month
-- (nip '*' = every employee) or a punch time, which the deriver maps to local days (and the night
-- shift of the day before). Rows are deleted by id once their months are re-derived; a row that
-- arrives meanwhile has a higher id and stays queued.
CREATE TABLE att_dirty (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  nip          TEXT NOT NULL,
  month        TEXT,                              -- YYYY-MM
  captured_at  TEXT                               -- UTC ISO punch time
);
CREATE TRIGGER att_punch_inserted AFTER INSERT ON punches
BEGIN
  INSERT INTO att_dirty (nip, captured_at) VALUES (NEW.nip, NEW.captured_at);
END;
CREATE TRIGGER att_punch_reviewed AFTER UPDATE OF review_status, corrected_at ON punches
BEGIN
  INSERT INTO att_dirty (nip, captured_at) VALUES (NEW.nip, NEW.captured_at);
  INSERT INTO att_dirty (nip, captured_at) SELECT NEW.nip, NEW.corrected_at WHERE NEW.corrected_at IS NOT NULL;
END;

-- A month of punches is loaded by time range, for all staff at once.
-- covering: the month query reads only the index (half the time of index + table lookups)
CREATE INDEX att_punches_time ON punches (captured_at, nip, review_status, corrected_at, site_code);
CREATE INDEX att_punches_corrected ON punches (corrected_at) WHERE corrected_at IS NOT NULL;
