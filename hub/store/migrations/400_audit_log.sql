-- Audit log: every change an admin, a technician, a kiosk or the CLI makes, append-only and
-- hash-chained (hub/audit/chain.ts). `id` is assigned by the appender (previous id + 1) inside
-- the appending transaction; AUTOINCREMENT keeps sqlite_sequence at the highest id ever used, so a
-- deleted last entry is detected too (`hadir audit verify`).
CREATE TABLE audit_log (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  at          TEXT NOT NULL,                      -- UTC ISO-8601 (ms)
  actor       TEXT NOT NULL,                      -- username, device id, or os-user@host for the CLI
  actor_kind  TEXT NOT NULL,                      -- user | device | cli | system
  role        TEXT,                               -- bkpsdm | opd_admin | technician | kiosk | cli
  source      TEXT,                               -- client address (HTTP) or host (CLI)
  action      TEXT NOT NULL,                      -- e.g. device.disable, finger.template.upload, cli import staff
  target      TEXT,                               -- what it acted on: device:ID, nip:NIP, file:NAME …
  opd_code    TEXT,                               -- the OPD concerned (OPD admins see these)
  before      TEXT,                               -- JSON, what it was (when known)
  after       TEXT,                               -- JSON, what it became / the request (secrets redacted)
  status      INTEGER,                            -- HTTP status or CLI exit code
  prev_hash   TEXT NOT NULL,
  hash        TEXT NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_opd ON audit_log (opd_code, id);

-- Append-only for the hub's own code paths; someone editing the file with sqlite3 can drop these,
-- which is what the hash chain is for.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
