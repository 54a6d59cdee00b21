import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { UserError } from '../../lib/errors.js';
import { redactUrl } from '../config.js';

const PG_MIGRATIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'pg-migrations');

/** int8 (count(*), BIGINT columns) as a JS number: every value the hub stores fits in 2^53. */
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === 20 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

export function isPostgresUrl(url: string | undefined): url is string {
  return !!url && /^postgres(ql)?:\/\//.test(url);
}

/**
 * A pool on the hub's PostgreSQL database with its migrations applied. Migrations are SQL files
 * in hub/store/pg-migrations (`NNN_area_what.sql`, the same areas as SQLite's), applied in name
 * order exactly once, each in a transaction, under an advisory lock: several hub workers starting
 * at once apply each file once.
 */
export async function openPostgres(url: string, opts: { max?: number } = {}): Promise<pg.Pool> {
  const pool = new pg.Pool({ connectionString: url, max: opts.max ?? 10, types });
  // An idle client's connection error (PostgreSQL restarted) must not crash the hub: the pool drops it.
  pool.on('error', () => {});
  // The pool listens only while a connection is idle: one checked out for a transaction that is
  // between queries (attendance derivation computing) gets its connection error as an 'error' event
  // with no listener, and the worker died (fault test: PostgreSQL restarted). The transaction's next
  // query fails instead; the pool discards the broken connection when it is released.
  pool.on('connect', (c) => c.on('error', () => {}));
  try {
    await pool.query('SELECT 1').catch((e: Error) => {
      throw new UserError(`tidak dapat terhubung ke PostgreSQL / cannot reach PostgreSQL at ${redactUrl(url)}: ${e.message}`, 'check HADIR_DB_URL / --db (host, port, user, database) and that PostgreSQL runs');
    });
    await migratePostgres(pool);
  } catch (e) {
    await pool.end();
    throw e;
  }
  return pool;
}

const MIGRATION_LOCK = 0x68616469; // 'hadi'

export async function migratePostgres(pool: pg.Pool, dir = PG_MIGRATIONS_DIR): Promise<string[]> {
  const c = await pool.connect();
  try {
    await c.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    await c.query(`CREATE TABLE IF NOT EXISTS schema_migrations (id TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`);
    const done = new Set((await c.query<{ id: string }>('SELECT id FROM schema_migrations')).rows.map((r) => r.id));
    const applied: string[] = [];
    for (const f of readdirSync(dir).filter((x) => x.endsWith('.sql')).sort()) {
      const id = f.replace(/\.sql$/, '');
      if (done.has(id)) continue;
      await c.query('BEGIN');
      try {
        await c.query(readFileSync(join(dir, f), 'utf8'));
        await c.query('INSERT INTO schema_migrations (id) VALUES ($1)', [id]);
        await c.query('COMMIT');
      } catch (e) {
        await c.query('ROLLBACK');
        throw new Error(`PostgreSQL migration ${f} failed: ${(e as Error).message}`);
      }
      applied.push(id);
    }
    return applied;
  } finally {
    await c.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => {});
    c.release();
  }
}

/** Runs fn in one transaction on one pooled connection. */
export async function inTransaction<T>(pool: pg.Pool, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
  const c = await pool.connect();
  try {
    await c.query('BEGIN');
    const r = await fn(c);
    await c.query('COMMIT');
    return r;
  } catch (e) {
    await c.query('ROLLBACK').catch(() => {});
    throw e;
  } finally {
    c.release();
  }
}

/** `?` placeholders numbered `$1`, `$2` … in order (SQL shared with the SQLite store). */
export function numbered(sql: string): string {
  let i = 0;
  return sql.replace(/\?/g, () => `$${++i}`);
}

/**
 * A WHERE clause from the conditions whose value is given (undefined, null, '' are left out);
 * each condition has one `?`, numbered $1, $2 … in order.
 */
export function pgWhere(conds: [cond: string, value: unknown][]): { sql: string; args: unknown[] } {
  const w: string[] = [];
  const args: unknown[] = [];
  for (const [cond, v] of conds) {
    if (v === undefined || v === null || v === '') continue;
    args.push(v);
    w.push(cond.replace('?', `$${args.length}`));
  }
  return { sql: w.length ? `WHERE ${w.join(' AND ')}` : '', args };
}

/**
 * A new database on the server of `adminUrl` (a benchmark's: made for the run, dropped after it,
 * connections still open are ended). Refuses with one clear line when the server is unreachable.
 */
export async function scratchDatabase(adminUrl: string, prefix: string): Promise<{ url: string; drop(): Promise<void> }> {
  const admin = async <T>(fn: (c: pg.Client) => Promise<T>): Promise<T> => {
    const c = new pg.Client({ connectionString: adminUrl });
    await c.connect().catch((e: Error) => {
      throw new UserError(`tidak dapat terhubung ke PostgreSQL / cannot reach PostgreSQL at ${redactUrl(adminUrl)}: ${e.message}`, 'check --db and that PostgreSQL runs');
    });
    try {
      return await fn(c);
    } finally {
      await c.end();
    }
  };
  const name = `${prefix}_${Math.random().toString(36).slice(2, 10)}`;
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  return { url: u.toString(), drop: () => admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => {}) };
}
