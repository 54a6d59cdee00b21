import { openSqlite, type SqliteDb } from './sqlite.js';
import { SqliteCoreStore } from './sqlite-core-store.js';
import type { CoreStore } from './core-store.js';
import { dbPathFor } from '../config.js';

export interface OpenedStore {
  /** The raw SQLite handle (HubContext.db) for feature modules that own their own tables. */
  db: SqliteDb;
  store: CoreStore;
}

/** Opens the hub's store from HADIR_DB_URL / the data dir and applies migrations. */
export function openStore(opts: { dbUrl?: string; dataDir: string } | { dbPath: string }): OpenedStore {
  const path = 'dbPath' in opts ? opts.dbPath : dbPathFor(opts.dbUrl, opts.dataDir);
  const db = openSqlite(path);
  return { db, store: new SqliteCoreStore(db) };
}
