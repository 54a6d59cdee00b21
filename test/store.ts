import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { RunningHub } from '../hub/server.js';
import type { PgCoreStore } from '../hub/store/pg-core-store.js';

/**
 * The store the hub tests run on: SQLite by default; `HADIR_TEST_DB=postgres` runs them on the
 * PostgreSQL at 127.0.0.1:5432 (trust auth, user postgres; HADIR_TEST_PG_URL to change), each
 * test database made fresh and dropped afterwards.
 */
export const TEST_DB: 'sqlite' | 'postgres' = process.env.HADIR_TEST_DB === 'postgres' ? 'postgres' : 'sqlite';
const ADMIN_URL = process.env.HADIR_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** A new, empty PostgreSQL database; drop() removes it (connections still open are ended). */
export async function freshPostgres(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `hadir_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const u = new URL(ADMIN_URL);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    drop: async () => {
      const a = new pg.Client({ connectionString: ADMIN_URL });
      await a.connect();
      try {
        await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await a.end();
      }
    },
  };
}

/**
 * Hub options for the store under test: `dbUrl` on PostgreSQL, nothing on SQLite. On PostgreSQL no
 * feature module is started (the core alone, lighter): a test that needs one names it (`modules`).
 */
export async function testHubStore(): Promise<{ opts: { dbUrl?: string; modules?: [] }; drop: () => Promise<void> }> {
  if (TEST_DB === 'sqlite') return { opts: {}, drop: async () => {} };
  const db = await freshPostgres();
  return { opts: { dbUrl: db.url, modules: [] }, drop: db.drop };
}

/** Raw SQL for test set-up and checks on either store (`?` placeholders; rows as plain objects). */
export interface TestSql {
  all<T = Record<string, unknown>>(sql: string, ...args: unknown[]): Promise<T[]>;
  run(sql: string, ...args: unknown[]): Promise<void>;
}
export function sqlOf(target: { db: RunningHub['db']; store: RunningHub['store'] }): TestSql {
  const pool = (target.store as Partial<PgCoreStore>).pool;
  if (pool) {
    const numbered = (sql: string) => {
      let i = 0;
      return sql.replace(/\?/g, () => `$${++i}`);
    };
    return {
      all: async <T>(sql: string, ...args: unknown[]) => (await pool.query(numbered(sql), args)).rows as T[],
      run: async (sql: string, ...args: unknown[]) => void (await pool.query(numbered(sql), args)),
    };
  }
  return {
    all: async <T>(sql: string, ...args: unknown[]) => target.db.prepare(sql).all(...args) as T[],
    run: async (sql: string, ...args: unknown[]) => void target.db.prepare(sql).run(...args),
  };
}
