import { openSqlite, type SqliteDb } from './sqlite.js';
import { SqliteCoreStore } from './sqlite-core-store.js';
import type { CoreStore } from './core-store.js';
import type { HubStores } from './stores.js';
import { asyncOver } from './async.js';
import { dbPathFor } from '../config.js';
import { SqliteAttendanceStore } from '../attendance/repository.js';
import { HealthStore } from '../health/store.js';
import { SqliteFaceRepository } from '../biometrics/face-store.js';
import { SqliteFingerStore } from '../biometrics/finger-store.js';
import { EnrolSessions } from '../biometrics/enrol-sessions.js';
import { FleetService } from '../fleet/service.js';
import { SqliteStaffPortalStore } from '../staff/store.js';
import { auditLog } from '../audit/index.js';

export interface OpenedStore {
  /** The raw SQLite handle: for the command line's SQLite-only commands and tests, never for hub modules. */
  db: SqliteDb;
  store: CoreStore;
}

export interface OpenedStores extends OpenedStore {
  stores: HubStores;
}

/**
 * The one store factory: opens the hub's database from HADIR_DB_URL / the data dir (migrations
 * applied) and builds every repository on it. SQLite is the only implementation so far: a
 * postgres:// URL is refused by dbPathFor with a clear message.
 */
export function openStores(opts: { dbUrl?: string; dataDir: string } | { dbPath: string }): OpenedStores {
  const path = 'dbPath' in opts ? opts.dbPath : dbPathFor(opts.dbUrl, opts.dataDir);
  const db = openSqlite(path);
  const stores = sqliteStores(db);
  return { db, store: stores.core, stores };
}

/** Every repository on one open (migrated) SQLite database. */
export function sqliteStores(db: SqliteDb): HubStores {
  return {
    kind: 'sqlite',
    core: new SqliteCoreStore(db),
    attendance: asyncOver(new SqliteAttendanceStore(db)),
    health: asyncOver(new HealthStore(db)),
    face: asyncOver(new SqliteFaceRepository(db)),
    finger: asyncOver(new SqliteFingerStore(db)),
    enrolSessions: asyncOver(new EnrolSessions(db)),
    fleet: (o) => asyncOver(new FleetService(db, o)),
    staffPortal: asyncOver(new SqliteStaffPortalStore(db)),
    audit: auditLog(db).repo,
  };
}

/** The core store and the SQLite handle (command line). Same factory as the hub's. */
export function openStore(opts: { dbUrl?: string; dataDir: string } | { dbPath: string }): OpenedStore {
  const { db, store } = openStores(opts);
  return { db, store };
}
