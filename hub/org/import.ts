import type { SqliteDb } from '../store/sqlite.js';
import { UserError } from '../../lib/errors.js';
import { nipProblem, type Employment } from './nip.js';
import type { CsvRow, LineError } from './csv.js';
import { loadSchedules } from '../attendance/inputs.js';
import { derivedMonthsFrom, markDirty } from '../attendance/recompute.js';
import { isDate } from '../attendance/time.js';
import { localToday } from '../attendance/clock.js';

export interface ImportResult {
  created: number;
  updated: number;
  unchanged: number;
  errors: LineError[];
}

export const ORG_COLUMNS = ['opd_code', 'opd_name', 'unit_code', 'unit_name', 'site_code', 'site_name'] as const;
const TZ: Record<string, number> = { WIB: 420, WITA: 480, WIT: 540 };
const CODE_RE = /^[A-Za-z0-9._-]{1,40}$/;

/** Organisation CSV: one row per site; creates or updates OPDs, units and sites. Optional column `tz` (WIB|WITA|WIT). */
export function importOrg(db: SqliteDb, rows: CsvRow[]): ImportResult {
  const res: ImportResult = { created: 0, updated: 0, unchanged: 0, errors: [] };
  const getOpd = db.prepare('SELECT name FROM opd WHERE code = ?').pluck();
  const getUnit = db.prepare('SELECT opd_code, name FROM units WHERE code = ?');
  const getSite = db.prepare('SELECT unit_code, name, utc_offset_min FROM sites WHERE code = ?');
  const upOpd = db.prepare('INSERT INTO opd (code, name) VALUES (?, ?) ON CONFLICT (code) DO UPDATE SET name = excluded.name');
  const upUnit = db.prepare('INSERT INTO units (code, opd_code, name) VALUES (?, ?, ?) ON CONFLICT (code) DO UPDATE SET name = excluded.name');
  const upSite = db.prepare('INSERT INTO sites (code, unit_code, name, utc_offset_min) VALUES (?, ?, ?, ?) ON CONFLICT (code) DO UPDATE SET unit_code = excluded.unit_code, name = excluded.name, utc_offset_min = excluded.utc_offset_min');
  const seenSite = new Map<string, number>();
  db.transaction(() => {
    for (const { line, values: v } of rows) {
      const bad = (reason: string) => res.errors.push({ line, reason });
      const chk = checkOrgRow(v, line, seenSite);
      if ('error' in chk) { bad(chk.error); continue; }
      const { offset } = chk;
      const unit = getUnit.get(v.unit_code) as { opd_code: string; name: string } | undefined;
      if (unit && unit.opd_code !== v.opd_code) { bad(unitMoveError(v.unit_code!, unit.opd_code, v.opd_code!)); continue; }
      const opdName = getOpd.get(v.opd_code) as string | undefined;
      const site = getSite.get(v.site_code) as { unit_code: string; name: string; utc_offset_min: number | null } | undefined;
      upOpd.run(v.opd_code, v.opd_name);
      upUnit.run(v.unit_code, v.opd_code, v.unit_name);
      upSite.run(v.site_code, v.unit_code, v.site_name, offset);
      if (!site) res.created++;
      else if (site.unit_code !== v.unit_code || site.name !== v.site_name || site.utc_offset_min !== offset || opdName !== v.opd_name || unit?.name !== v.unit_name) res.updated++;
      else res.unchanged++;
    }
  })();
  return res;
}

/**
 * Pure: the checks of one organisation row that need no lookup (both stores). `seenSite` remembers
 * the line of each site code met so far.
 */
export function checkOrgRow(v: CsvRow['values'], line: number, seenSite: Map<string, number>): { error: string } | { offset: number | null } {
  const missing = ORG_COLUMNS.filter((c) => !v[c]);
  if (missing.length) return { error: `empty ${missing.join(', ')} (kolom kosong)` };
  const badCode = [v.opd_code!, v.unit_code!, v.site_code!].find((c) => !CODE_RE.test(c));
  if (badCode) return { error: `code "${badCode}" may only hold letters, digits, . _ - (kode tidak valid)` };
  const tzText = (v.tz ?? '').toUpperCase();
  if (tzText && TZ[tzText] === undefined) return { error: `tz "${v.tz}" must be WIB, WITA or WIT` };
  const prevLine = seenSite.get(v.site_code!);
  if (prevLine) return { error: `site ${v.site_code} already on line ${prevLine} (lokasi duplikat)` };
  seenSite.set(v.site_code!, line);
  return { offset: tzText ? TZ[tzText]! : null };
}
/** A unit named under another OPD than its own (both stores). */
export function unitMoveError(unitCode: string, unitOpd: string, opd: string): string {
  return `unit ${unitCode} belongs to OPD ${unitOpd}, not ${opd} (unit sudah terdaftar di OPD lain) — moving units between OPDs is a restructuring: transfer the staff instead`;
}

export const STAFF_COLUMNS = ['nip', 'name', 'opd', 'unit', 'employment', 'job_class', 'tpp_base', 'schedule'] as const;

/**
 * Staff CSV (DESIGN "Staff import CSV"). Valid rows import, invalid ones are reported by line.
 * Re-import updates; a changed unit/OPD/schedule is a transfer taking effect on `effective`.
 * An employee out of service today (hub/org/exit.ts) is not reactivated by a re-import: the row is
 * reported and skipped (reinstatement is `hadir staff reinstate`, with its date).
 */
export function importStaff(db: SqliteDb, rows: CsvRow[], opts: { by: string; now: string; effective: string }): ImportResult & { transfers: number } {
  const res = { created: 0, updated: 0, unchanged: 0, transfers: 0, errors: [] as LineError[] };
  const schedules = loadSchedules(db);
  const getUnit = db.prepare('SELECT opd_code FROM units WHERE code = ?').pluck();
  const hasOpd = db.prepare('SELECT 1 FROM opd WHERE code = ?').pluck();
  const getStaff = db.prepare('SELECT nip, name, opd_code, unit_code, employment, job_class, tpp_base, schedule_code, active FROM staff WHERE nip = ?');
  const insert = db.prepare(`INSERT INTO staff (nip, name, opd_code, unit_code, employment, job_class, tpp_base, schedule_code, active, updated_at, updated_by)
    VALUES (@nip, @name, @opd, @unit, @employment, @job_class, @tpp_base, @schedule, 1, @now, @by)`);
  const update = db.prepare(`UPDATE staff SET name = @name, opd_code = @opd, unit_code = @unit, employment = @employment, job_class = @job_class,
    tpp_base = @tpp_base, schedule_code = @schedule, active = 1, updated_at = @now, updated_by = @by WHERE nip = @nip`);
  const exitToday = db.prepare('SELECT from_date, reason, reinstated_from FROM staff_exits WHERE nip = ? AND from_date <= @today AND (reinstated_from IS NULL OR reinstated_from > @today)');
  const today = localToday(db, Date.parse(opts.now));
  const seen = new Map<string, number>();
  db.transaction(() => {
    for (const { line, values: v } of rows) {
      const bad = (reason: string) => res.errors.push({ line, reason });
      const chk = checkStaffRow(v, line, seen, schedules, { hasOpd: (c) => !!hasOpd.get(c), unitOpd: (c) => getUnit.get(c) as string | undefined });
      if ('error' in chk) { bad(chk.error); continue; }
      const nip = chk.nip;
      const row = { ...chk, now: opts.now, by: opts.by };
      const cur = getStaff.get(nip) as { name: string; opd_code: string; unit_code: string; employment: string; job_class: string | null; tpp_base: number; schedule_code: string; active: number } | undefined;
      if (!cur) {
        insert.run(row);
        // first import: the employee belongs to this unit for all past days (history before Hadir is not ours)
        setAssignment(db, nip, '0000-01-01', row.unit, row.opd, row.schedule);
        res.created++;
        continue;
      }
      const out = exitToday.get({ today }, nip) as { from_date: string; reason: string; reinstated_from: string | null } | undefined;
      if (out) {
        bad(exitedRowError(nip, out));
        continue;
      }
      const moved = cur.unit_code !== row.unit || cur.opd_code !== row.opd || cur.schedule_code !== row.schedule;
      const same = !moved && cur.name === row.name && cur.employment === row.employment && cur.job_class === row.job_class && cur.tpp_base === row.tpp_base && cur.active === 1;
      if (same) { res.unchanged++; continue; }
      update.run(row);
      if (moved) {
        setAssignment(db, nip, opts.effective, row.unit, row.opd, row.schedule);
        markDirty(db, nip, [opts.effective.slice(0, 7), ...derivedMonthsFrom(db, opts.effective.slice(0, 7))]);
        res.transfers++;
      }
      if (cur.active !== 1) markDirty(db, nip, derivedMonthsFrom(db, '0000-00'));
      res.updated++;
    }
  })();
  return res;
}

/** A staff row as stored (checked). */
export interface StaffRowIn {
  nip: string;
  name: string;
  opd: string;
  unit: string;
  employment: Employment;
  job_class: string | null;
  tpp_base: number;
  schedule: string;
}

/**
 * The checks of one staff row (both stores): pure but for the two lookups, which each store
 * answers from its own database. `seen` remembers the line of each NIP met so far.
 */
export function checkStaffRow(
  v: CsvRow['values'],
  line: number,
  seen: Map<string, number>,
  schedules: Map<string, unknown>,
  look: { hasOpd(code: string | undefined): boolean; unitOpd(code: string | undefined): string | undefined },
): { error: string } | StaffRowIn {
  const nip = v.nip ?? '';
  const employment = (v.employment ?? '').toUpperCase() as Employment;
  if (!['ASN', 'PPPK', 'HONORER'].includes(employment)) return { error: `employment "${v.employment}" must be ASN, PPPK or HONORER (status kepegawaian tidak valid)` };
  const np = nipProblem(nip, employment);
  if (np) return { error: np };
  const dup = seen.get(nip);
  if (dup) return { error: `NIP ${nip} duplicates line ${dup} (NIP ganda)` };
  seen.set(nip, line);
  if (!v.name) return { error: 'name is empty (nama kosong)' };
  if (!look.hasOpd(v.opd)) return { error: `unknown OPD code "${v.opd}" (kode OPD tidak dikenal) — import it first with hadir import org` };
  const unitOpd = look.unitOpd(v.unit);
  if (!unitOpd) return { error: `unknown unit code "${v.unit}" (kode unit tidak dikenal) — import it first with hadir import org` };
  if (unitOpd !== v.opd) return { error: `unit ${v.unit} belongs to OPD ${unitOpd}, not ${v.opd} (unit bukan bagian dari OPD ini)` };
  if (!/^\d{1,12}$/.test(v.tpp_base ?? '')) return { error: `tpp_base "${v.tpp_base}" must be whole rupiah without separators, e.g. 4500000 (TPP dasar harus angka bulat)` };
  const schedule = (v.schedule ?? '').toUpperCase();
  if (!schedules.has(schedule)) return { error: `unknown schedule code "${v.schedule}" (kode jadwal tidak dikenal) — known: ${[...schedules.keys()].join(', ')}` };
  return { nip, name: v.name, opd: v.opd!, unit: v.unit!, employment, job_class: v.job_class || null, tpp_base: Number(v.tpp_base), schedule };
}

/** An existing employee out of service today: the row is skipped (both stores). */
export function exitedRowError(nip: string, out: { from_date: string; reason: string; reinstated_from: string | null }): string {
  const back = out.reinstated_from ? `, aktif kembali mulai / reinstated from ${out.reinstated_from}` : '';
  return `NIP ${nip} berhenti mulai ${out.from_date} (${out.reason})${back} — baris dilewati / ended service on ${out.from_date}, row skipped: reinstate with hadir staff reinstate --nip ${nip} --from DATE`;
}

function setAssignment(db: SqliteDb, nip: string, from: string, unit: string, opd: string, schedule: string): void {
  db.prepare(`INSERT INTO staff_assignments (nip, from_date, unit_code, opd_code, schedule_code) VALUES (?, ?, ?, ?, ?)
    ON CONFLICT (nip, from_date) DO UPDATE SET unit_code = excluded.unit_code, opd_code = excluded.opd_code, schedule_code = excluded.schedule_code`).run(nip, from, unit, opd, schedule);
}

/** Moves an employee to another unit (and its OPD), optionally another schedule, from a date on. */
export function transferStaff(db: SqliteDb, t: { nip: string; unit: string; from: string; schedule?: string; by: string; now: string }): { opd: string; schedule: string } {
  if (!isDate(t.from)) throw new UserError(`date "${t.from}" is not YYYY-MM-DD`, 'write e.g. --from 2026-10-15');
  const cur = db.prepare('SELECT schedule_code FROM staff WHERE nip = ?').get(t.nip) as { schedule_code: string } | undefined;
  if (!cur) throw new UserError(`NIP ${t.nip} is not in the staff list (pegawai tidak ditemukan)`, 'import it with hadir import staff');
  const opd = db.prepare('SELECT opd_code FROM units WHERE code = ?').pluck().get(t.unit) as string | undefined;
  if (!opd) throw new UserError(`unknown unit code "${t.unit}" (kode unit tidak dikenal)`, 'import it with hadir import org');
  const schedule = (t.schedule ?? cur.schedule_code).toUpperCase();
  if (!loadSchedules(db).has(schedule)) throw new UserError(`unknown schedule code "${schedule}"`, 'add it with hadir schedules add FILE');
  db.transaction(() => {
    setAssignment(db, t.nip, t.from, t.unit, opd, schedule);
    // the staff row holds the assignment in force last (a future-dated transfer still becomes "current" here)
    const last = db.prepare('SELECT unit_code, opd_code, schedule_code FROM staff_assignments WHERE nip = ? ORDER BY from_date DESC LIMIT 1').get(t.nip) as { unit_code: string; opd_code: string; schedule_code: string };
    db.prepare('UPDATE staff SET unit_code = ?, opd_code = ?, schedule_code = ?, updated_at = ?, updated_by = ? WHERE nip = ?').run(last.unit_code, last.opd_code, last.schedule_code, t.now, t.by, t.nip);
    markDirty(db, t.nip, [t.from.slice(0, 7), ...derivedMonthsFrom(db, t.from.slice(0, 7))]);
  })();
  return { opd, schedule };
}
