-- Audit log on PostgreSQL (hub/store/migrations/400_audit_log.sql on SQLite). audit_high keeps the
-- highest id ever assigned (SQLite's sqlite_sequence), so a deleted last entry is detected too.
CREATE TABLE audit_log (
  id          BIGINT PRIMARY KEY,
  at          TEXT NOT NULL,
  actor       TEXT NOT NULL,
  actor_kind  TEXT NOT NULL,
  role        TEXT,
  source      TEXT,
  action      TEXT NOT NULL,
  target      TEXT,
  opd_code    TEXT,
  before      TEXT,
  after       TEXT,
  status      INTEGER,
  prev_hash   TEXT NOT NULL,
  hash        TEXT NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_opd ON audit_log (opd_code, id);
CREATE TABLE audit_high (one INTEGER PRIMARY KEY CHECK (one = 1), high BIGINT NOT NULL);
INSERT INTO audit_high VALUES (1, 0);

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only';
END $$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
