-- The staff page on PostgreSQL: what hub/store/migrations/500_staff_portal.sql makes on SQLite
-- (activation codes, staff passwords, their sessions, keberatan).
CREATE TABLE staff_activation (
  code_hash  TEXT PRIMARY KEY,
  nip        TEXT NOT NULL REFERENCES staff (nip),
  created_at TEXT NOT NULL,
  created_by TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  used_at    TEXT
);
CREATE INDEX staff_activation_nip ON staff_activation (nip);
CREATE TABLE staff_login (
  nip           TEXT PRIMARY KEY REFERENCES staff (nip),
  password_hash TEXT NOT NULL,
  activated_at  TEXT NOT NULL
);
CREATE TABLE staff_sessions (
  token_hash   TEXT PRIMARY KEY,
  nip          TEXT NOT NULL,
  created_at   TEXT NOT NULL,
  last_used_at TEXT NOT NULL
);
CREATE TABLE keberatan (
  id         BIGSERIAL PRIMARY KEY,
  nip        TEXT NOT NULL REFERENCES staff (nip),
  date       TEXT NOT NULL,
  reason     TEXT NOT NULL,
  created_at TEXT NOT NULL,
  status     TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected')),
  decided_by TEXT,
  decided_at TEXT,
  note       TEXT
);
CREATE INDEX keberatan_status ON keberatan (status, created_at);
