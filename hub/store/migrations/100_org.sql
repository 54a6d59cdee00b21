-- Organisation: OPD → unit (school, puskesmas, UPT, kecamatan…) → site (a place with kiosks), and staff.
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
  name       TEXT NOT NULL
);
CREATE TABLE staff (
  nip          TEXT PRIMARY KEY,
  name         TEXT NOT NULL,
  opd_code     TEXT NOT NULL REFERENCES opd(code),
  unit_code    TEXT NOT NULL REFERENCES units(code),
  employment   TEXT NOT NULL CHECK (employment IN ('ASN', 'PPPK', 'HONORER')),
  job_class    TEXT,
  tpp_base     INTEGER NOT NULL DEFAULT 0,          -- rupiah per month
  schedule_code TEXT NOT NULL,
  active       INTEGER NOT NULL DEFAULT 1,
  updated_at   TEXT NOT NULL,
  updated_by   TEXT
);
CREATE INDEX staff_unit ON staff (unit_code);
CREATE INDEX staff_opd ON staff (opd_code);
-- Transfers: the unit (and OPD) an employee belongs to from a date on. The staff row holds the current one.
CREATE TABLE staff_assignments (
  nip        TEXT NOT NULL REFERENCES staff(nip),
  from_date  TEXT NOT NULL,                         -- YYYY-MM-DD
  unit_code  TEXT NOT NULL REFERENCES units(code),
  opd_code   TEXT NOT NULL REFERENCES opd(code),
  schedule_code TEXT,
  PRIMARY KEY (nip, from_date)
);
