import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import type pg from 'pg';
import { UserError } from '../../lib/errors.js';
import { nextMonth } from '../attendance/time.js';
import { openPostgres } from './pg.js';
import { migrate as migrateSqlite, openSqliteReadonly, sqliteRowCount, sqliteTables, type SqliteDb } from './sqlite.js';

/**
 * `hadir migrate --from sqlite:PATH --to postgres://…`: a regency's hub moved from its SQLite file
 * to PostgreSQL, table by table, in ONE PostgreSQL transaction: an interrupted run leaves the
 * target as it was, and the run can simply be repeated. Every table of the SQLite hub is copied
 * with its columns as they are (both schemas keep times as ISO text, so values are identical),
 * in foreign-key order, with the hub's own triggers off while copying (the attendance queue is
 * copied, not re-derived). PostgreSQL-only state is made from what was copied: punch_keys (the
 * exactly-once index) from punches, the punches' month partitions, the BIGSERIAL sequences.
 * Before COMMIT each table's rows are counted and checksummed on both sides; any difference rolls
 * everything back. A SQLite table with rows that PostgreSQL has no table for (a feature not yet
 * ported) is refused by name before anything is written: nothing is dropped silently.
 */

/** Bookkeeping of each store's own migrations: not data. */
const SKIP = new Set(['schema_migrations']);
/** Tables only PostgreSQL has, and how they are filled from what was copied. */
const DERIVED: Record<string, (c: pg.ClientBase, src: SqliteDb) => Promise<unknown>> = {
  // the exactly-once index of every stored punch
  punch_keys: (c) => c.query('INSERT INTO punch_keys (id, device_id, seq, captured_at) SELECT id, device_id, seq, captured_at FROM punches'),
  // the audit chain's high-water mark: SQLite keeps it as audit_log's AUTOINCREMENT counter
  audit_high: (c, src) => {
    const has = src.prepare("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'").get();
    const high = has ? ((src.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'audit_log'").pluck().get() as number | undefined) ?? 0) : 0;
    return c.query('UPDATE audit_high SET high = $1 WHERE one = 1', [high]);
  },
};
/** What makes a target "not empty": the hub's data, not the rows its migrations seed. */
const DATA_TABLES = ['opd', 'staff', 'devices', 'punches', 'users', 'audit_log'];
/** Rows per INSERT (measured: multi-row VALUES with 30,000 parameters moved ~2,400 punches/s on the loaded 2-core machine). */
const BATCH_ROWS = 5_000;

export interface TableResult {
  table: string;
  rows: number;
  targetRows: number;
  checksum: string;
  targetChecksum: string;
}

export interface MigrateOptions {
  from: string;
  to: string;
  /** Empty the target's hub tables first (a target that is not empty is refused otherwise). */
  replace: boolean;
  progress?: (line: string) => void;
}

/** A row's values as the checksum sees them: numbers as numbers, bytes as hex, text as text. */
function canon(v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (Buffer.isBuffer(v)) return { hex: v.toString('hex') };
  if (typeof v === 'bigint') return Number(v);
  return v;
}

/**
 * An order-free checksum of a table: the sum, modulo 2^128, of the first 128 bits of each row's
 * sha256. Row order differs between the stores (collations), and a sum needs no sort of millions
 * of hashes; the table's primary key rules out two equal rows cancelling anything.
 */
class TableSum {
  private sum = 0n;
  rows = 0;
  add(values: unknown[]): void {
    const h = createHash('sha256').update(JSON.stringify(values.map(canon))).digest();
    this.sum = (this.sum + h.readBigUInt64BE(0) * 2n ** 64n + h.readBigUInt64BE(8)) % 2n ** 128n;
    this.rows++;
  }
  hex(): string {
    return this.sum.toString(16).padStart(32, '0');
  }
}

const q = (ident: string) => `"${ident.replace(/"/g, '""')}"`;

/** Hub tables of the target (partitions are part of their parent). */
async function pgTables(c: pg.ClientBase): Promise<string[]> {
  const r = await c.query<{ t: string }>(
    `SELECT c.relname AS t FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND NOT c.relispartition ORDER BY 1`,
  );
  return r.rows.map((x) => x.t).filter((t) => !SKIP.has(t));
}

/** `tables` ordered so that a table comes after every table its foreign keys point at. */
async function fkOrder(c: pg.ClientBase, tables: string[]): Promise<string[]> {
  const r = await c.query<{ child: string; parent: string }>(
    `SELECT cl.relname AS child, pa.relname AS parent FROM pg_constraint k
       JOIN pg_class cl ON cl.oid = k.conrelid JOIN pg_class pa ON pa.oid = k.confrelid
       JOIN pg_namespace n ON n.oid = cl.relnamespace
      WHERE k.contype = 'f' AND n.nspname = current_schema()`,
  );
  const deps = new Map<string, Set<string>>(tables.map((t) => [t, new Set<string>()]));
  for (const { child, parent } of r.rows) if (child !== parent && deps.has(child) && deps.has(parent)) deps.get(child)!.add(parent);
  const out: string[] = [];
  const seen = new Set<string>();
  const visit = (t: string, path: Set<string>) => {
    if (seen.has(t)) return;
    if (path.has(t)) throw new Error(`foreign keys form a cycle through ${t}`);
    path.add(t);
    for (const p of deps.get(t)!) visit(p, path);
    path.delete(t);
    seen.add(t);
    out.push(t);
  };
  for (const t of tables) visit(t, new Set());
  return out;
}

/** Each column's type as PostgreSQL spells it (for the unnest casts). */
async function columnTypes(c: pg.ClientBase, table: string): Promise<Map<string, string>> {
  const r = await c.query<{ n: string; t: string }>('SELECT attname AS n, format_type(atttypid, atttypmod) AS t FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped', [q(table)]);
  return new Map(r.rows.map((x) => [x.n, x.t]));
}

async function pgChecksum(c: pg.ClientBase, table: string, cols: string[]): Promise<TableSum> {
  const sum = new TableSum();
  const cursor = `hadir_sum_${table}`;
  await c.query(`DECLARE ${q(cursor)} NO SCROLL CURSOR FOR SELECT ${cols.map(q).join(', ')} FROM ${q(table)}`);
  for (;;) {
    const r = await c.query({ text: `FETCH 5000 FROM ${q(cursor)}`, rowMode: 'array' });
    for (const row of r.rows as unknown[][]) sum.add(row);
    if (r.rows.length < 5000) break;
  }
  await c.query(`CLOSE ${q(cursor)}`);
  return sum;
}

export async function migrateSqliteToPostgres(o: MigrateOptions): Promise<TableResult[]> {
  const say = o.progress ?? (() => {});
  const path = o.from.replace(/^sqlite:(\/\/)?/, '');
  if (!existsSync(path)) throw new UserError(`no SQLite hub database at ${path}`, 'give --from sqlite:/path/to/data/hub.db');
  const src = openSqliteReadonly(path);
  const pool = await openPostgres(o.to, { max: 1 }); // the target's migrations are applied here
  const c = await pool.connect();
  try {
    // The source as this version's hub has it (its migrations are what the PostgreSQL ones mirror).
    const probe = new Database(':memory:');
    const pending = migrateSqlite(probe).filter((id) => !src.prepare('SELECT 1 FROM schema_migrations WHERE id = ?').get(id));
    probe.close();
    if (pending.length) throw new UserError(`${path} is not at this version's schema (missing ${pending.join(', ')})`, 'start this version of `hadir hub` on it once (it applies its migrations), stop it, then migrate');

    src.exec('BEGIN'); // one read snapshot of the source for the whole copy
    const srcTables = sqliteTables(src).filter((t) => !SKIP.has(t));
    const target = new Set(await pgTables(c));
    const count = (t: string) => sqliteRowCount(src, t);
    const missing = srcTables.filter((t) => !target.has(t) && count(t) > 0);
    if (missing.length) {
      throw new UserError(`these SQLite tables hold data and have no PostgreSQL table yet: ${missing.map((t) => `${t} (${count(t)} rows)`).join(', ')}`, 'keep this hub on SQLite until those features run on PostgreSQL (docs/scaling.md)');
    }
    const copied = srcTables.filter((t) => target.has(t));
    await c.query('BEGIN');
    const nonEmpty: string[] = [];
    for (const t of DATA_TABLES) if (target.has(t) && (await c.query(`SELECT 1 FROM ${q(t)} LIMIT 1`)).rowCount) nonEmpty.push(t);
    if (nonEmpty.length && !o.replace) {
      throw new UserError(`the target database is not empty (${nonEmpty.join(', ')} hold rows)`, 'migrate into a new, empty database, or pass --replace to empty its hub tables first (in the same transaction)');
    }
    if (nonEmpty.length) say(`emptying the target's hub tables (--replace)`);
    // Whatever the target holds in the tables written here (rows its migrations seed, or an older
    // copy with --replace) goes, in this transaction: the copy is exactly the source.
    const written = [...copied, ...Object.keys(DERIVED).filter((t) => target.has(t) && t !== 'audit_high')];
    if (written.length) await c.query(`TRUNCATE ${written.map(q).join(', ')} RESTART IDENTITY CASCADE`);

    const order = await fkOrder(c, [...target]);
    for (const t of order) await c.query(`ALTER TABLE ${q(t)} DISABLE TRIGGER USER`);
    const results: TableResult[] = [];
    for (const t of order.filter((x) => copied.includes(x))) {
      const srcCols = (src.prepare(`PRAGMA table_info(${q(t)})`).all() as { name: string }[]).map((r) => r.name);
      const pgCols = new Set((await c.query<{ n: string }>('SELECT column_name AS n FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1', [t])).rows.map((r) => r.n));
      const lost = srcCols.filter((col) => !pgCols.has(col));
      if (lost.length) throw new UserError(`table ${t}: PostgreSQL has no column ${lost.join(', ')}`, 'this version\'s two schemas disagree: report it (hub/store/pg-migrations)');
      if (t === 'punches') {
        // the month partitions the hub's store would make (PgCoreStore), before the rows arrive
        const months = src.prepare("SELECT DISTINCT substr(captured_at, 1, 7) FROM punches WHERE captured_at GLOB '20[0-9][0-9]-[01][0-9]*'").pluck().all() as string[];
        for (const m of months) {
          const name = `punches_${m.replace('-', '_')}`;
          if (!(await c.query('SELECT 1 FROM pg_class WHERE relname = $1', [name])).rowCount) {
            await c.query(`CREATE TABLE ${q(name)} PARTITION OF punches FOR VALUES FROM ('${m}') TO ('${nextMonth(m)}')`);
          }
        }
      }
      const sum = new TableSum();
      // one array per column (unnest): one statement of BATCH_ROWS rows and as many parameters as columns
      const types = await columnTypes(c, t);
      const insert = `INSERT INTO ${q(t)} (${srcCols.map(q).join(', ')}) SELECT * FROM unnest(${srcCols.map((col, j) => `$${j + 1}::${types.get(col)}[]`).join(', ')})`;
      let batch: unknown[][] = [];
      const flush = async () => {
        if (!batch.length) return;
        await c.query(insert, srcCols.map((_, j) => batch.map((r) => r[j])));
        batch = [];
      };
      for (const row of src.prepare(`SELECT ${srcCols.map(q).join(', ')} FROM ${q(t)}`).raw().iterate() as Iterable<unknown[]>) {
        sum.add(row);
        batch.push(row.map((v) => (typeof v === 'bigint' ? v.toString() : v)));
        if (batch.length >= BATCH_ROWS) await flush();
      }
      await flush();
      const after = await pgChecksum(c, t, srcCols);
      results.push({ table: t, rows: sum.rows, targetRows: after.rows, checksum: sum.hex(), targetChecksum: after.hex() });
      say(`${t}: ${sum.rows} rows, checksum ${sum.hex().slice(0, 16)} ${after.hex() === sum.hex() && after.rows === sum.rows ? '=' : '≠'} target`);
    }
    for (const [t, fill] of Object.entries(DERIVED)) if (target.has(t)) await fill(c, src);
    // BIGSERIAL columns continue after the copied ids
    const serials = await c.query<{ t: string; col: string; seq: string }>(
      `SELECT table_name AS t, column_name AS col, pg_get_serial_sequence(quote_ident(table_name), column_name) AS seq
         FROM information_schema.columns WHERE table_schema = current_schema() AND column_default LIKE 'nextval(%'`,
    );
    for (const s of serials.rows) {
      if (s.seq) await c.query(`SELECT setval($1, GREATEST((SELECT max(${q(s.col)}) FROM ${q(s.t)}), 1), (SELECT max(${q(s.col)}) FROM ${q(s.t)}) IS NOT NULL)`, [s.seq]);
    }
    for (const t of order) await c.query(`ALTER TABLE ${q(t)} ENABLE TRIGGER USER`);
    const bad = results.filter((r) => r.rows !== r.targetRows || r.checksum !== r.targetChecksum);
    if (bad.length) throw new Error(`after copying, ${bad.map((r) => `${r.table} (${r.rows} → ${r.targetRows} rows)`).join(', ')} differ: nothing was committed`);
    await c.query('COMMIT');
    return results;
  } catch (e) {
    await c.query('ROLLBACK').catch(() => {});
    throw e;
  } finally {
    c.release();
    await pool.end();
    if (src.inTransaction) src.exec('COMMIT');
    src.close();
  }
}
