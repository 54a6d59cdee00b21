import Database from 'better-sqlite3';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type SqliteDb = Database.Database;

const MIGRATIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'migrations');

/**
 * Opens the hub's SQLite database (the default store) and applies pending migrations.
 * Migrations are SQL files in hub/store/migrations named `NNN_area_what.sql`, applied in name
 * order exactly once, each in a transaction. Number ranges by area keep parallel work apart:
 * 000–099 core (devices, punches), 100–199 organisation/attendance/TPP, 200–299 terminal health,
 * 300–399 biometric templates.
 */
export function openSqlite(path: string): SqliteDb {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  // The database holds salaries, punches and template hashes: owner-only, whatever the umask
  // (the -wal/-shm files SQLite creates next to it take the database file's permissions).
  if (path !== ':memory:' && !existsSync(path)) closeSync(openSync(path, 'a', 0o600));
  if (path !== ':memory:') privateFile(path);
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  // Statement journals (needed to undo one INSERT of a multi-index table inside a transaction)
  // stay in memory instead of a temp file: an ingest insert cost 56 µs with the file (a pwrite per
  // page), 23 µs without (measured, 40,000 punches). Durability is the WAL's job, not theirs.
  db.pragma('temp_store = MEMORY');
  migrate(db);
  return db;
}

/**
 * A second, read-only connection to a hub database another connection has opened and migrated
 * (worker threads deriving attendance in parallel). No migrations, no writes.
 */
export function openSqliteReadonly(path: string): SqliteDb {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  db.pragma('busy_timeout = 5000');
  db.pragma('temp_store = MEMORY');
  return db;
}

/** chmod 0600 for the database and its WAL/SHM files (a database made before this, or under umask 022). */
function privateFile(path: string): void {
  for (const f of [path, `${path}-wal`, `${path}-shm`]) {
    try {
      chmodSync(f, 0o600);
    } catch {
      /* absent (or not ours): nothing to tighten */
    }
  }
}

export function migrate(db: SqliteDb, dir = MIGRATIONS_DIR): string[] {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    id TEXT PRIMARY KEY, applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')))`);
  const done = new Set(db.prepare('SELECT id FROM schema_migrations').pluck().all() as string[]);
  const files = readdirSync(dir).filter((f) => f.endsWith('.sql')).sort();
  const applied: string[] = [];
  for (const f of files) {
    const id = f.replace(/\.sql$/, '');
    if (done.has(id)) continue;
    const sql = readFileSync(join(dir, f), 'utf8');
    db.transaction(() => {
      db.exec(sql);
      db.prepare('INSERT INTO schema_migrations (id) VALUES (?)').run(id);
    })();
    applied.push(id);
  }
  return applied;
}

/** The tables of a SQLite database (not SQLite's own), by name. */
export function sqliteTables(db: SqliteDb): string[] {
  return db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").pluck().all() as string[];
}

/** The rows of one table. */
export function sqliteRowCount(db: SqliteDb, table: string): number {
  return db.prepare(`SELECT count(*) FROM "${table.replace(/"/g, '""')}"`).pluck().get() as number;
}
