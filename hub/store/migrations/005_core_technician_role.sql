-- The technician role (terminals, health, alerts, commands, enrolment sessions; no salaries, TPP
-- or punches). SQLite cannot alter a CHECK constraint: the users table is rebuilt with the same
-- columns. api_tokens (the only table referencing users) is emptied and refilled around the
-- rebuild so no foreign-key check sees a user missing.
CREATE TEMP TABLE api_tokens_keep AS SELECT * FROM api_tokens;
DELETE FROM api_tokens;
CREATE TABLE users_new (
  username      TEXT PRIMARY KEY,
  display_name  TEXT NOT NULL,
  role          TEXT NOT NULL CHECK (role IN ('bkpsdm', 'opd_admin', 'technician')),
  opd_code      TEXT,                               -- required for opd_admin; optional for technician
  password_hash TEXT,                               -- scrypt
  created_at    TEXT NOT NULL,
  disabled_at   TEXT
);
INSERT INTO users_new (username, display_name, role, opd_code, password_hash, created_at, disabled_at)
  SELECT username, display_name, role, opd_code, password_hash, created_at, disabled_at FROM users;
DROP TABLE users;
ALTER TABLE users_new RENAME TO users;
INSERT INTO api_tokens SELECT * FROM api_tokens_keep;
DROP TABLE api_tokens_keep;
