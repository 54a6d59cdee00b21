import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { openSqlite, type SqliteDb } from '../../hub/store/sqlite.js';
import { parseCsv } from '../../hub/org/csv.js';
import { importOrg, importStaff, ORG_COLUMNS, STAFF_COLUMNS } from '../../hub/org/import.js';
import { addRule } from '../../hub/tpp/store.js';
import { rule } from './fixtures.js';
import { makeTmpDir } from '../tmp.js';
import { TEST_DB, freshPostgres, type TestSql } from '../store.js';
import { postgresStores, sqliteStores } from '../../hub/store/open.js';
import { openPostgres } from '../../hub/store/pg.js';
import { asyncOver } from '../../hub/store/async.js';
import { SqliteAttendanceStore, type AttendanceRepository } from '../../hub/attendance/repository.js';
import { PgAttendanceStore, type PgAttendanceOptions } from '../../hub/attendance/pg-store.js';
import type { HubStores } from '../../hub/store/stores.js';

export const NOW = '2026-11-20T03:00:00.000Z';
export const ORG_CSV = `opd_code,opd_name,unit_code,unit_name,site_code,site_name
DISDIK,Dinas Pendidikan,DISDIK-SEK,Sekretariat Dinas Pendidikan,DISDIK-KTR,Kantor Dinas Pendidikan
DISDIK,Dinas Pendidikan,SDN1,SD Negeri 1 Sukamaju,SDN1,SDN 1 Sukamaju
DINKES,Dinas Kesehatan,DINKES-SEK,Sekretariat Dinas Kesehatan,DINKES-KTR,Kantor Dinas Kesehatan
DINKES,Dinas Kesehatan,PKM-SKM,Puskesmas Sukamaju,PKM-SKM,Puskesmas Sukamaju
`;
/** Hand-picked NIPs: born 1985-01-01 appointed 2010-01 male; born 1990-05-12 appointed 2015-03 female; PPPK 2023 "21". */
export const A = '198501012010011001';
export const B = '199005122015032002';
export const C = '199203152023212003';
export const STAFF_CSV = `nip;name;opd;unit;employment;job_class;tpp_base;schedule
${A};Budi Santoso;DISDIK;DISDIK-SEK;ASN;Pelaksana;5000000;KANTOR5
${B};Siti Aminah;DISDIK;SDN1;ASN;Guru Ahli Pertama;4000000;GURU5
${C};Rina Wati;DINKES;PKM-SKM;PPPK;Perawat;3000000;SHIFT_PKM
`;

export function tempDb(): { db: SqliteDb; dir: string; close: () => void } {
  const dir = makeTmpDir('hadir-att-'); // also removed after the file when a test keeps it (no close())
  const db = openSqlite(join(dir, 'hub.db'));
  return { db, dir, close: () => { db.close(); rmSync(dir, { recursive: true, force: true }); } };
}

export function seed(db: SqliteDb): void {
  const org = importOrg(db, parseCsv(ORG_CSV, 'org.csv', ORG_COLUMNS));
  if (org.errors.length) throw new Error(JSON.stringify(org.errors));
  const st = importStaff(db, parseCsv(STAFF_CSV, 'staff.csv', STAFF_COLUMNS), { by: 'test', now: NOW, effective: '2026-10-01' });
  if (st.errors.length) throw new Error(JSON.stringify(st.errors));
  addRule(db, rule(), 'test', NOW);
}

let seq = 0;
/** A punch as the hub core's ingest stores it (device, seq, clock flags). */
export function ingest(db: SqliteDb, nip: string, localWib: string, opts: { site?: string; pending?: boolean; device?: string } = {}): string {
  const device = opts.device ?? 'kiosk-test';
  const site = opts.site ?? 'DISDIK-KTR';
  db.prepare("INSERT OR IGNORE INTO devices (id, site_code, created_at) VALUES (?, ?, ?)").run(device, site, NOW);
  const id = `0190c0de-0000-7000-8000-${String(++seq).padStart(12, '0')}`;
  db.prepare(`INSERT INTO punches (id, device_id, seq, nip, method, captured_at, site_code, clock_synced, received_at, review_status)
    VALUES (?, ?, ?, ?, 'face', ?, ?, ?, ?, ?)`).run(id, device, seq, nip, new Date(`${localWib}:00+07:00`).toISOString(), site, opts.pending ? 0 : 1, NOW, opts.pending ? 'pending' : 'none');
  return id;
}

/**
 * The attendance repository on the store under test (test/store.ts: SQLite by default,
 * HADIR_TEST_DB=postgres a fresh PostgreSQL database), with raw SQL for set-up and checks.
 */
export interface AttStore {
  kind: 'sqlite' | 'postgres';
  stores: HubStores;
  att: AttendanceRepository;
  sql: TestSql;
  /** A data directory (module contexts want one). */
  dir: string;
  /** A second, independent repository on the same database (PostgreSQL: its own pool — another hub worker). */
  second(opts?: PgAttendanceOptions): Promise<AttendanceRepository>;
  close(): Promise<void>;
}

export async function tempStore(): Promise<AttStore> {
  if (TEST_DB === 'sqlite') {
    const t = tempDb();
    const stores = sqliteStores(t.db);
    return {
      kind: 'sqlite', stores, att: stores.attendance, dir: t.dir,
      sql: {
        all: async <T>(sql: string, ...args: unknown[]) => t.db.prepare(sql).all(...args) as T[],
        run: async (sql: string, ...args: unknown[]) => void t.db.prepare(sql).run(...args),
      },
      second: async () => asyncOver(new SqliteAttendanceStore(t.db)),
      close: async () => t.close(),
    };
  }
  const pgdb = await freshPostgres();
  const pool = await openPostgres(pgdb.url);
  const stores = postgresStores(pool);
  const pools = [pool];
  const numbered = (sql: string) => {
    let i = 0;
    return sql.replace(/\?/g, () => `$${++i}`);
  };
  return {
    kind: 'postgres', stores, att: stores.attendance, dir: makeTmpDir('hadir-att-pg-'),
    sql: {
      all: async <T>(sql: string, ...args: unknown[]) => (await pool.query(numbered(sql), args)).rows as T[],
      run: async (sql: string, ...args: unknown[]) => void (await pool.query(numbered(sql), args)),
    },
    second: async (opts) => {
      const p = await openPostgres(pgdb.url);
      pools.push(p);
      return new PgAttendanceStore(p, opts);
    },
    close: async () => {
      await Promise.all(pools.map((p) => p.end()));
      await pgdb.drop();
    },
  };
}

export async function seedStore(s: Pick<AttStore, 'att'>): Promise<void> {
  const org = await s.att.importOrg(parseCsv(ORG_CSV, 'org.csv', ORG_COLUMNS));
  if (org.errors.length) throw new Error(JSON.stringify(org.errors));
  const st = await s.att.importStaff(parseCsv(STAFF_CSV, 'staff.csv', STAFF_COLUMNS), { by: 'test', now: NOW, effective: '2026-10-01' });
  if (st.errors.length) throw new Error(JSON.stringify(st.errors));
  await s.att.addRule(rule(), 'test', NOW);
}

/** A punch as the hub core's ingest stores it (device, seq, clock flags), on either store (PostgreSQL: its key too). */
export async function ingestInto(s: Pick<AttStore, 'kind' | 'sql'>, nip: string, localWib: string, opts: { site?: string; pending?: boolean; device?: string } = {}): Promise<string> {
  const device = opts.device ?? 'kiosk-test';
  const site = opts.site ?? 'DISDIK-KTR';
  await s.sql.run('INSERT INTO devices (id, site_code, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING', device, site, NOW);
  const id = `0190c0de-0000-7000-8000-${String(++seq).padStart(12, '0')}`;
  const at = new Date(`${localWib}:00+07:00`).toISOString();
  if (s.kind === 'postgres') await s.sql.run('INSERT INTO punch_keys (id, device_id, seq, captured_at) VALUES (?, ?, ?, ?)', id, device, seq, at);
  await s.sql.run(`INSERT INTO punches (id, device_id, seq, nip, method, captured_at, site_code, clock_synced, received_at, review_status)
    VALUES (?, ?, ?, ?, 'face', ?, ?, ?, ?, ?)`, id, device, seq, nip, at, site, opts.pending ? 0 : 1, NOW, opts.pending ? 'pending' : 'none');
  return id;
}
