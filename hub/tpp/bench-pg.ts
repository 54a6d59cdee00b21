import { migrateSqliteToPostgres } from '../store/migrate.js';
import { openPostgres, scratchDatabase } from '../store/pg.js';
import { PgAttendanceStore } from '../attendance/pg-store.js';
import { redactUrl } from '../config.js';
import { cpuSecondsOf } from '../../lib/proc-cpu.js';

/** The one late punch of each incremental run: who, at which kiosk and site, when. */
export interface LatePunch {
  id: string;
  deviceId: string;
  seq: number;
  nip: string;
  capturedAt: string;
  site: string;
}

export interface PgTppFigures {
  migrate_s: number;
  full_month_s: number;
  /** CPU of this process and of the database's server processes (when the server runs on this machine): comparable on a loaded machine, where wall time is not. */
  full_month_cpu_s: number;
  incremental_ms: number;
  tpp_report_s: number;
}

/**
 * `hadir bench tpp --db postgres://…`: the regency generated on SQLite is moved into a fresh
 * PostgreSQL database (made for the run, dropped after it) with `hadir migrate`'s own code, then
 * the hub's PostgreSQL attendance store (PgAttendanceStore, as a hub worker runs it) derives the
 * full month, builds the TPP report, and re-derives after each late punch (inserted as the core
 * store stores one: its key, then the row; the trigger queues it). Generation and the move are not timed.
 */
export async function preparePg(o: { adminUrl: string; sqlitePath: string; month: string; keep?: boolean; log: (s: string) => void }): Promise<{ time(late: LatePunch[]): Promise<PgTppFigures>; drop(): Promise<void> }> {
  const scratch = await scratchDatabase(o.adminUrl, 'hadir_bench_tpp');
  let migrateS = 0;
  try {
    o.log(`PostgreSQL ${redactUrl(scratch.url)}: memindahkan data / moving the data (hadir migrate, not timed) …`);
    const tm = performance.now();
    await migrateSqliteToPostgres({ from: `sqlite:${o.sqlitePath}`, to: scratch.url, replace: false });
    migrateS = (performance.now() - tm) / 1000;
    o.log(`  dipindahkan / moved in ${migrateS.toFixed(1)} s`);
  } catch (e) {
    await scratch.drop();
    throw e;
  }
  // --keep: the PostgreSQL database stays too (to look into with psql), named here
  const drop = o.keep ? async () => o.log(`PostgreSQL database kept / disimpan: ${redactUrl(scratch.url)} (DROP DATABASE when done)`) : scratch.drop;
  return { drop, time: (late) => timePg(scratch.url, o.month, late, migrateS, o.log) };
}

async function timePg(url: string, month: string, late: LatePunch[], migrateS: number, log: (s: string) => void): Promise<PgTppFigures> {
  const pool = await openPostgres(url);
  try {
    // statistics as autovacuum keeps them on a hub that has run for a while (bulk-loaded tables have none)
    await pool.query('VACUUM ANALYZE');
    const store = new PgAttendanceStore(pool);
    const now = new Date().toISOString();

    // the server processes of this (scratch) database: nobody else uses it
    const backends = async () => (await pool.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = current_database()')).rows.map((r) => r.pid);
    const serverCpu = async () => (await backends()).reduce((a, pid) => a + cpuSecondsOf(pid), 0);
    const t1 = performance.now();
    const c1 = process.cpuUsage();
    const s1 = await serverCpu();
    const full = await store.recomputeMonth(month, now);
    const fullS = (performance.now() - t1) / 1000;
    const u = process.cpuUsage(c1);
    const hubCpu = (u.user + u.system) / 1e6;
    const dbCpu = (await serverCpu()) - s1;
    log(`PostgreSQL — hitung ulang sebulan penuh / full-month recompute: ${full.derived} pegawai in ${fullS.toFixed(2)} s (CPU ${hubCpu.toFixed(2)} s here + ${dbCpu.toFixed(2)} s PostgreSQL)`);

    const t2 = performance.now();
    const rep = await store.tppReport({ month, today: '9999-12-31', now });
    const repS = (performance.now() - t2) / 1000;
    log(`PostgreSQL — laporan TPP / TPP report data: ${rep.rows.length} rows, total Rp ${rep.totals.total.toLocaleString('id-ID')} in ${repS.toFixed(2)} s`);

    const times: number[] = [];
    for (const p of late) {
      await pool.query('INSERT INTO punch_keys (id, device_id, seq, captured_at) VALUES ($1, $2, $3, $4)', [p.id, p.deviceId, p.seq, p.capturedAt]);
      await pool.query(`INSERT INTO punches (id, device_id, seq, nip, method, captured_at, site_code, clock_synced, received_at) VALUES ($1, $2, $3, $4, 'face', $5, $6, 1, $7)`, [
        p.id, p.deviceId, p.seq, p.nip, p.capturedAt, p.site, now,
      ]);
      const t3 = performance.now();
      const r = await store.derive(new Date().toISOString());
      times.push(performance.now() - t3);
      if (r.changed !== 1) throw new Error(`PostgreSQL: incremental recompute changed ${r.changed} months, expected 1`);
    }
    const sorted = [...times].sort((a, b) => a - b);
    const inc = sorted[Math.floor(sorted.length / 2)]!;
    log(`PostgreSQL — satu absen terlambat masuk / one late punch re-derived: median ${inc.toFixed(1)} ms (runs: ${times.map((t) => t.toFixed(1)).join(', ')} ms)`);
    return { migrate_s: round(migrateS, 1), full_month_s: round(fullS, 3), full_month_cpu_s: round(hubCpu + dbCpu, 3), incremental_ms: round(inc, 1), tpp_report_s: round(repS, 3) };
  } finally {
    await pool.end();
  }
}

const round = (x: number, digits: number) => Number(x.toFixed(digits));
