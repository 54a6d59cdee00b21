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
import { SqliteFleetStore } from '../fleet/store.js';
import { PgFleetStore } from '../fleet/pg-store.js';
import { SqliteStaffPortalStore } from '../staff/store.js';
import { auditRepository } from '../audit/index.js';
import { UserError } from '../../lib/errors.js';
import { openPostgres } from './pg.js';
import { PgCoreStore } from './pg-core-store.js';
import { PgAuditRepository } from '../audit/store.js';
import { PgHealthStore } from '../health/pg-store.js';
import { PgEnrolSessions, PgFaceRepository, PgFingerStore } from '../biometrics/pg-store.js';
import { PgAttendanceStore } from '../attendance/pg-store.js';
import { PgStaffPortalStore } from '../staff/pg-store.js';

export interface OpenedStore {
  /** The raw SQLite handle: for the command line's SQLite-only commands and tests, never for hub modules. */
  db: SqliteDb;
  store: CoreStore;
}

export interface OpenedStores extends OpenedStore {
  stores: HubStores;
}

/**
 * The store factory on SQLite: opens the hub's database from HADIR_DB_URL / the data dir
 * (migrations applied) and builds every repository on it. A postgres:// URL is refused here by
 * dbPathFor; the hub and the commands open either store through openHubStores.
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
    fleet: (o) => new FleetService(asyncOver(new SqliteFleetStore(db)), o),
    staffPortal: asyncOver(new SqliteStaffPortalStore(db)),
    audit: auditRepository(db),
  };
}

/** The core store and the SQLite handle (command line). Same factory as the hub's. */
export function openStore(opts: { dbUrl?: string; dataDir: string } | { dbPath: string }): OpenedStore {
  const { db, store } = openStores(opts);
  return { db, store };
}

/**
 * The hub's stores from its settings: PostgreSQL when HADIR_DB_URL is postgres://… (the pool and
 * its migrations), else SQLite. On PostgreSQL `db` is no database: touching it says so.
 */
export async function openHubStores(c: { dbPath: string; postgresUrl: string | null }): Promise<OpenedStores> {
  if (!c.postgresUrl) return openStores({ dbPath: c.dbPath });
  const pool = await openPostgres(c.postgresUrl);
  const stores = postgresStores(pool);
  return { db: noSqlite(), store: stores.core, stores };
}

/** Every repository on a migrated PostgreSQL pool. */
export function postgresStores(pool: import('pg').Pool): HubStores {
  return {
    kind: 'postgres',
    core: new PgCoreStore(pool),
    attendance: new PgAttendanceStore(pool),
    health: new PgHealthStore(pool),
    face: new PgFaceRepository(pool),
    finger: new PgFingerStore(pool),
    enrolSessions: new PgEnrolSessions(pool),
    fleet: (o) => new FleetService(new PgFleetStore(pool), o),
    staffPortal: new PgStaffPortalStore(pool),
    audit: new PgAuditRepository(pool),
  };
}

/** The SQLite handle a PostgreSQL hub does not have. */
function noSqlite(): SqliteDb {
  return new Proxy({} as SqliteDb, {
    get: (_t, prop) => {
      if (typeof prop === 'symbol' || prop === 'then') return undefined;
      throw new UserError('this hub runs on PostgreSQL: there is no SQLite handle', 'use hub.stores / the CoreStore');
    },
  });
}
