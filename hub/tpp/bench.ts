import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqlite } from '../store/sqlite.js';
import { recomputeMonth, processDirty } from '../attendance/recompute.js';
import { tppReport } from '../reports/data.js';
import { addRule } from './store.js';
import { tppRuleSchema } from './rules.js';
import { dayIndex, monthDates, weekdayOf } from '../attendance/time.js';
import { UserError } from '../../lib/errors.js';
import { mulberry32 } from '../../lib/random.js';
import { preparePg, type LatePunch } from './bench-pg.js';
import { scratchDatabase } from '../store/pg.js';

/**
 * `hadir bench tpp`: generates a regency (OPDs, sites, staff on office/teacher/school schedules,
 * a month of realistic kiosk punches with lateness, early leaving, missing punches and absences),
 * then measures the full-month recompute and the incremental recompute after one late punch.
 * Generation is not timed. A deterministic PRNG keeps runs comparable.
 */
export interface BenchResult {
  /** The store of the headline figures (full_month_s, incremental_ms, tpp_report_s). */
  store: 'sqlite' | 'postgres';
  staff: number;
  sites: number;
  punches: number;
  full_month_s: number;
  incremental_ms: number;
  tpp_report_s: number;
  /** CPU seconds of the full month (SQLite: this process; PostgreSQL: this process and the server's), comparable across runs on a loaded machine, where wall time is not. */
  full_month_cpu_s: number;
  sqlite_full_month_cpu_s?: number;
  /** With --db postgres://…: the SQLite figures of the same run, for comparison, and the time the move took (not timed). */
  sqlite_full_month_s?: number;
  sqlite_incremental_ms?: number;
  sqlite_tpp_report_s?: number;
  migrate_s?: number;
  cores: number;
  load_start: number;
  load_end: number;
}

const prng = mulberry32;

const SCHED: { code: string; start: number; end: number[]; days: number[] }[] = [
  { code: 'KANTOR5', start: 450, end: [0, 960, 960, 960, 960, 990, 0], days: [1, 2, 3, 4, 5] },
  { code: 'GURU5', start: 420, end: [0, 840, 840, 840, 840, 840, 0], days: [1, 2, 3, 4, 5] },
  { code: 'SEKOLAH6', start: 420, end: [0, 810, 810, 810, 810, 660, 750], days: [1, 2, 3, 4, 5, 6] },
];

function cpuSeconds(since: NodeJS.CpuUsage): number {
  const u = process.cpuUsage(since);
  return (u.user + u.system) / 1e6;
}

export async function runTppBench(o: { staff: number; sites?: number; month: string; keep?: string; threads?: number; db?: string; log: (s: string) => void }): Promise<BenchResult> {
  const load0 = loadavg()[0]!;
  // an unreachable PostgreSQL is said before minutes of generation, not after
  if (o.db) await (await scratchDatabase(o.db, 'hadir_bench_tpp_probe')).drop();
  const dir = o.keep ?? mkdtempSync(join(tmpdir(), 'hadir-bench-tpp-'));
  const db = openSqlite(join(dir, 'hub.db'));
  const rnd = prng(42);
  const nSites = o.sites ?? Math.max(1, Math.min(o.staff <= 10_000 ? 500 : Number.POSITIVE_INFINITY, Math.ceil(o.staff / 7)));
  const nOpd = Math.min(40, nSites);
  const now = new Date().toISOString();
  const t0 = performance.now();
  let punches = 0;
  let pg: Awaited<ReturnType<typeof preparePg>> | null = null;
  try {
    // generation only (not timed): no fsync per commit, a large page cache
    db.pragma('synchronous = OFF');
    db.pragma('cache_size = -524288');
    // --keep DIR with a database of the same size from an earlier run: reuse it (generation is slow)
    const existing = db.prepare('SELECT count(*) FROM staff').pluck().get() as number;
    const reuse = existing === o.staff && (db.prepare("SELECT count(*) FROM tpp_rules WHERE id = 'perbup-bench'").pluck().get() as number) === 1;
    if (existing && !reuse) throw new UserError(`${dir} holds another database (${existing} staff)`, 'give --keep an empty directory or the one of a run with the same --staff');
    if (reuse) {
      db.prepare("DELETE FROM punches WHERE id LIKE 'late-%'").run();
      db.prepare('DELETE FROM att_months WHERE month = ?').run(o.month);
      db.prepare('DELETE FROM att_dirty').run();
      punches = db.prepare('SELECT count(*) FROM punches').pluck().get() as number;
      o.log(`Memakai data yang ada / reusing ${dir}: ${o.staff} pegawai, ${punches} absen`);
    } else o.log(`Membuat data / generating: ${o.staff} pegawai, ${nSites} lokasi, ${nOpd} OPD, bulan ${o.month} …`);
    if (!reuse) db.transaction(() => {
      const opd = db.prepare('INSERT INTO opd (code, name) VALUES (?, ?)');
      const unit = db.prepare('INSERT INTO units (code, opd_code, name) VALUES (?, ?, ?)');
      const site = db.prepare('INSERT INTO sites (code, unit_code, name) VALUES (?, ?, ?)');
      const dev = db.prepare('INSERT INTO devices (id, site_code, created_at) VALUES (?, ?, ?)');
      for (let i = 0; i < nOpd; i++) opd.run(`OPD${i}`, `OPD ${i}`);
      for (let i = 0; i < nSites; i++) {
        unit.run(`U${i}`, `OPD${i % nOpd}`, `Unit ${i}`);
        site.run(`S${i}`, `U${i}`, `Lokasi ${i}`);
        dev.run(`K${i}`, `S${i}`, now);
      }
      const staff = db.prepare(`INSERT INTO staff (nip, name, opd_code, unit_code, employment, job_class, tpp_base, schedule_code, active, updated_at)
        VALUES (?, ?, ?, ?, 'ASN', 'Pelaksana', ?, ?, 1, ?)`);
      const assign = db.prepare('INSERT INTO staff_assignments (nip, from_date, unit_code, opd_code, schedule_code) VALUES (?, ?, ?, ?, ?)');
      const kin = db.prepare("INSERT INTO tpp_kinerja (nip, month, score, imported_by, imported_at) VALUES (?, ?, ?, 'bench', ?)");
      const punch = db.prepare(`INSERT INTO punches (id, device_id, seq, nip, method, captured_at, site_code, clock_synced, received_at)
        VALUES (?, ?, ?, ?, 'face', ?, ?, 1, ?)`);
      const seqs = new Int32Array(nSites);
      const dates = monthDates(o.month).map((d) => ({ d, di: dayIndex(d), wd: weekdayOf(dayIndex(d)) }));
      const people: { nip: string; site: number; sch: (typeof SCHED)[number] }[] = [];
      for (let i = 0; i < o.staff; i++) {
        const birth = new Date(Date.UTC(1970, 0, 1) + (i % 9000) * 86_400_000);
        const b = birth.toISOString().slice(0, 10).replaceAll('-', '');
        const nip = `${b}${birth.getUTCFullYear() + 25}${String((i % 12) + 1).padStart(2, '0')}${(i % 2) + 1}${String(Math.floor(i / 9000) % 1000).padStart(3, '0')}`;
        const s = i % nSites;
        const r = rnd();
        const sch = SCHED[r < 0.7 ? 0 : r < 0.9 ? 1 : 2]!;
        staff.run(nip, `Pegawai ${i}`, `OPD${s % nOpd}`, `U${s}`, 2_000_000 + Math.floor(rnd() * 40) * 100_000, sch.code, now);
        assign.run(nip, '0000-01-01', `U${s}`, `OPD${s % nOpd}`, sch.code);
        if (rnd() < 0.95) kin.run(nip, o.month, 60 + Math.floor(rnd() * 41), now);
        people.push({ nip, site: s, sch });
      }
      // day by day, as kiosks deliver them: the time index grows at its end instead of everywhere
      let pid = 0;
      for (const { di, wd } of dates) {
        const base = di * 1440 - 420; // local midnight WIB in UTC minutes
        for (const { nip, site: s, sch } of people) {
          if (!sch.days.includes(wd)) continue;
          if (rnd() < 0.03) continue; // absent
          const add = (min: number) => {
            const ms = (base + min) * 60_000 + Math.floor(rnd() * 60_000);
            punch.run(`b-${++pid}`, `K${s}`, ++seqs[s]!, nip, new Date(ms).toISOString(), `S${s}`, now);
            punches++;
          };
          const late = rnd() < 0.12 ? 1 + Math.floor(rnd() * 120) : -Math.floor(rnd() * 40);
          const early = rnd() < 0.06 ? 1 + Math.floor(rnd() * 100) : -Math.floor(rnd() * 60);
          const miss = rnd();
          if (miss >= 0.01) add(sch.start + late);
          if (miss < 0.01 || miss >= 0.02) add(sch.end[wd]! - early);
        }
      }
      db.prepare('DELETE FROM att_dirty').run();
    })();
    if (!reuse) addRule(db, tppRuleSchema.parse({
      id: 'perbup-bench', effectiveFrom: '2026-01-01', weights: { disiplin: 40, produktivitas: 60 }, graceMinutes: 0,
      late: [{ from: 1, to: 30, pct: 0.5 }, { from: 31, to: 60, pct: 1 }, { from: 61, to: 90, pct: 1.25 }, { from: 91, to: null, pct: 1.5 }],
      early: [{ from: 1, to: 30, pct: 0.5 }, { from: 31, to: 60, pct: 1 }, { from: 61, to: 90, pct: 1.25 }, { from: 91, to: null, pct: 1.5 }],
      missingCheckInPct: 1.5, missingCheckOutPct: 1.5, absentPct: 3, excusedPct: {}, monthlyCapPct: 100,
    }), 'bench', now);
    db.prepare('DELETE FROM att_dirty').run();
    if (!reuse) o.log(`  ${punches} absen dibuat / punches generated in ${((performance.now() - t0) / 1000).toFixed(1)} s (not timed)`);

    // One late punch from an offline kiosk per incremental run, as the hub's ingest stores it; the trigger queues it.
    const first = monthDates(o.month).find((d) => { const w = weekdayOf(dayIndex(d)); return w >= 1 && w <= 5; })!;
    const late: LatePunch[] = (db.prepare('SELECT nip, unit_code FROM staff ORDER BY nip LIMIT 5 OFFSET ?').all(Math.floor(o.staff / 2) % Math.max(1, o.staff - 5)) as { nip: string; unit_code: string }[]).map(
      (s, k) => ({ id: `late-${k}`, deviceId: `K${s.unit_code.slice(1)}`, seq: 10_000_000 + k, nip: s.nip, capturedAt: new Date(Date.parse(`${first}T05:3${k}:00+07:00`)).toISOString(), site: `S${s.unit_code.slice(1)}` }),
    );
    // PostgreSQL: the generated regency copied before anything is derived on SQLite; timed after SQLite
    if (o.db) pg = await preparePg({ adminUrl: o.db, sqlitePath: join(dir, 'hub.db'), month: o.month, log: o.log, keep: !!o.keep });

    db.pragma('synchronous = FULL'); // timed part: as the hub runs
    db.pragma('cache_size = -2000');
    db.pragma('wal_checkpoint(TRUNCATE)');
    const t1 = performance.now();
    const c1 = process.cpuUsage();
    const full = recomputeMonth(db, o.month, null, now, undefined, { threads: o.threads });
    const fullS = (performance.now() - t1) / 1000;
    const fullCpu = cpuSeconds(c1);
    o.log(`Hitung ulang sebulan penuh / full-month recompute: ${full.derived} pegawai in ${fullS.toFixed(2)} s (CPU ${fullCpu.toFixed(2)} s)`);

    const t2 = performance.now();
    const c2 = process.cpuUsage();
    const rep = tppReport(db, { month: o.month, today: '9999-12-31', now });
    const repS = (performance.now() - t2) / 1000;
    o.log(`Laporan TPP / TPP report data: ${rep.rows.length} rows, total Rp ${rep.totals.total.toLocaleString('id-ID')} in ${repS.toFixed(2)} s (CPU ${cpuSeconds(c2).toFixed(2)} s)`);

    const times: number[] = [];
    for (const p of late) {
      db.prepare(`INSERT INTO punches (id, device_id, seq, nip, method, captured_at, site_code, clock_synced, received_at) VALUES (?, ?, ?, ?, 'face', ?, ?, 1, ?)`)
        .run(p.id, p.deviceId, p.seq, p.nip, p.capturedAt, p.site, now);
      const t3 = performance.now();
      const r = processDirty(db, new Date().toISOString());
      times.push(performance.now() - t3);
      if (r.changed !== 1) throw new Error(`incremental recompute changed ${r.changed} months, expected 1`);
    }
    times.sort((a, b) => a - b);
    const inc = times[Math.floor(times.length / 2)]!;
    o.log(`Satu absen terlambat masuk / one late punch re-derived: median ${inc.toFixed(1)} ms (runs: ${times.map((t) => t.toFixed(1)).join(', ')} ms)`);
    const sqlite = { full_month_s: Math.round(fullS * 1000) / 1000, incremental_ms: Math.round(inc * 10) / 10, tpp_report_s: Math.round(repS * 1000) / 1000 };
    const onPg = pg ? await pg.time(late) : null;
    if (onPg) o.log(`Sebanding / compared: full month PostgreSQL ${onPg.full_month_s} s vs SQLite ${sqlite.full_month_s} s; one late punch ${onPg.incremental_ms} ms vs ${sqlite.incremental_ms} ms`);
    const load1 = loadavg()[0]!;
    o.log(`Beban mesin / machine: ${availableParallelism()} cores, load average ${load0.toFixed(2)} at the start, ${load1.toFixed(2)} at the end`);
    o.log('Catatan / note: figures measured on a shared machine are noisy.');
    return {
      store: onPg ? 'postgres' : 'sqlite',
      staff: o.staff, sites: nSites, punches,
      ...(onPg ? { full_month_s: onPg.full_month_s, incremental_ms: onPg.incremental_ms, tpp_report_s: onPg.tpp_report_s } : sqlite),
      full_month_cpu_s: onPg ? onPg.full_month_cpu_s : Math.round(fullCpu * 1000) / 1000,
      ...(onPg ? { sqlite_full_month_s: sqlite.full_month_s, sqlite_full_month_cpu_s: Math.round(fullCpu * 1000) / 1000, sqlite_incremental_ms: sqlite.incremental_ms, sqlite_tpp_report_s: sqlite.tpp_report_s, migrate_s: onPg.migrate_s } : {}),
      cores: availableParallelism(), load_start: Number(load0.toFixed(2)), load_end: Number(load1.toFixed(2)),
    };
  } finally {
    await pg?.drop();
    db.close();
    if (!o.keep) rmSync(dir, { recursive: true, force: true });
  }
}
