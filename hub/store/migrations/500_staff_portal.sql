-- The staff page (hub/staff/): one-time activation codes printed by the OPD, the password each
-- person then chooses, their sessions, and their correction requests (keberatan).
CREATE TABLE staff_activation (
  code_hash  TEXT PRIMARY KEY,           -- sha256 of the code (high entropy: no slow hash needed)
  nip        TEXT NOT NULL REFERENCES staff (nip),
  created_at TEXT NOT NULL,
  created_by TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  used_at    TEXT
);
CREATE INDEX staff_activation_nip ON staff_activation (nip);
CREATE TABLE staff_login (
  nip           TEXT PRIMARY KEY REFERENCES staff (nip),
  password_hash TEXT NOT NULL,           -- scrypt, like admin passwords
  activated_at  TEXT NOT NULL
);
CREATE TABLE staff_sessions (
  token_hash   TEXT PRIMARY KEY,
  nip          TEXT NOT NULL,
  created_at   TEXT NOT NULL,
  last_used_at TEXT NOT NULL
);
CREATE TABLE keberatan (
  id         INTEGER PRIMARY KEY,
  nip        TEXT NOT NULL REFERENCES staff (nip),
  date       TEXT NOT NULL,              -- the day it is about, YYYY-MM-DD (office zone)
  reason     TEXT NOT NULL,
  created_at TEXT NOT NULL,
  status     TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected')),
  decided_by TEXT,
  decided_at TEXT,
  note       TEXT
);
CREATE INDEX keberatan_status ON keberatan (status, created_at);
