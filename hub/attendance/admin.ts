import type { SqliteDb } from '../store/sqlite.js';
import { UserError } from '../../lib/errors.js';
import { newId } from '../../protocol/ids.js';
import type { CsvRow, LineError } from '../org/csv.js';
import { EXCEPTION_TYPES, type ExceptionType } from '../tpp/rules.js';
import { derivedMonthsFrom, markDirty, monthsBetween } from './recompute.js';
import { scheduleSchema, type Schedule } from './schedule.js';
import { isDate, isMonth } from './time.js';
import { parseDocument } from '../../lib/config-file.js';

/**
 * Administrative inputs of attendance: imported punches, performance scores, leave/duty with
 * approval, holidays, relocation events, shift rosters, punch review, schedules. Every change that
 * affects derived days queues them (att_dirty); the punches table queues itself through triggers.
 */

/** OPD scope of the acting admin: null = BKPSDM (whole regency). */
export type Scope = string | null;

function staffOpd(db: SqliteDb, nip: string): string | undefined {
  return db.prepare('SELECT opd_code FROM staff WHERE nip = ?').pluck().get(nip) as string | undefined;
}
function checkScope(db: SqliteDb, nip: string, scope: Scope): void {
  scopeCheck(nip, staffOpd(db, nip), scope);
}
/** Pure: may an admin of `scope` act on this employee (of OPD `opd`, undefined: unknown)? Both stores. */
export function scopeCheck(nip: string, opd: string | null | undefined, scope: Scope): void {
  if (!opd) throw new UserError(`NIP ${nip} is not in the staff list (pegawai tidak ditemukan)`, 'check the NIP or import the staff first');
  if (scope !== null && opd !== scope) throw new UserError(`NIP ${nip} belongs to OPD ${opd}; you administer ${scope} only (bukan pegawai OPD Anda)`, 'ask that OPD\'s admin or BKPSDM', 403);
}

// ---- punches from paper sheets and old machines -------------------------------------------

export const PUNCH_COLUMNS = ['nip', 'time', 'site', 'method', 'note'] as const;
const ISO_WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/;

export function importPunches(db: SqliteDb, rows: CsvRow[], opts: { by: string; now: string }): { created: number; unchanged: number; errors: LineError[] } {
  const res = { created: 0, unchanged: 0, errors: [] as LineError[] };
  const hasStaff = db.prepare('SELECT 1 FROM staff WHERE nip = ?').pluck();
  const hasSite = db.prepare('SELECT 1 FROM sites WHERE code = ?').pluck();
  const ins = db.prepare(`INSERT OR IGNORE INTO punches (id, device_id, seq, nip, method, captured_at, site_code, clock_synced, clock_source, received_at, imported_by, note, review_status)
    VALUES (?, NULL, NULL, ?, ?, ?, ?, 1, 'import', ?, ?, ?, 'none')`);
  db.transaction(() => {
    for (const { line, values: v } of rows) {
      const chk = checkPunchRow(v, { hasStaff: (n) => !!hasStaff.get(n), hasSite: (c) => !!hasSite.get(c) });
      if ('error' in chk) { res.errors.push({ line, reason: chk.error }); continue; }
      const r = ins.run(newId(), chk.nip, chk.method, chk.at, chk.site, opts.now, opts.by, chk.note);
      if (r.changes) res.created++;
      else res.unchanged++;
    }
  })();
  return res;
}

/** Pure but for the lookups: one paper/legacy punch row (both stores). */
export function checkPunchRow(v: CsvRow['values'], look: { hasStaff(nip: string | undefined): boolean; hasSite(code: string | undefined): boolean }): { error: string } | { nip: string; at: string; site: string; method: string; note: string | null } {
  if (!look.hasStaff(v.nip)) return { error: `NIP "${v.nip}" is not in the staff list (pegawai tidak ditemukan)` };
  if (!ISO_WITH_OFFSET.test(v.time ?? '') || Number.isNaN(Date.parse(v.time!))) return { error: `time "${v.time}" must be ISO-8601 with offset, e.g. 2026-10-05T07:41:00+07:00 (format waktu salah)` };
  if (!look.hasSite(v.site)) return { error: `unknown site code "${v.site}" (kode lokasi tidak dikenal)` };
  const method = (v.method ?? '').toLowerCase();
  if (method !== 'manual' && method !== 'legacy') return { error: `method "${v.method}" must be manual or legacy` };
  return { nip: v.nip!, at: new Date(Date.parse(v.time!)).toISOString(), site: v.site!, method, note: v.note || null };
}

// ---- performance score (e-Kinerja) --------------------------------------------------------

export const KINERJA_COLUMNS = ['nip', 'month', 'score'] as const;

export function importKinerja(db: SqliteDb, rows: CsvRow[], opts: { by: string; now: string }): { created: number; updated: number; unchanged: number; errors: LineError[] } {
  const res = { created: 0, updated: 0, unchanged: 0, errors: [] as LineError[] };
  const hasStaff = db.prepare('SELECT 1 FROM staff WHERE nip = ?').pluck();
  const cur = db.prepare('SELECT score FROM tpp_kinerja WHERE nip = ? AND month = ?').pluck();
  const up = db.prepare(`INSERT INTO tpp_kinerja (nip, month, score, imported_by, imported_at) VALUES (?, ?, ?, ?, ?)
    ON CONFLICT (nip, month) DO UPDATE SET score = excluded.score, imported_by = excluded.imported_by, imported_at = excluded.imported_at`);
  const seen = new Map<string, number>();
  db.transaction(() => {
    for (const { line, values: v } of rows) {
      const chk = checkKinerjaRow(v, line, seen, (n) => !!hasStaff.get(n));
      if ('error' in chk) { res.errors.push({ line, reason: chk.error }); continue; }
      const { score } = chk;
      const old = cur.get(v.nip, v.month) as number | undefined;
      if (old === score) { res.unchanged++; continue; }
      up.run(v.nip, v.month, score, opts.by, opts.now);
      if (old === undefined) res.created++;
      else res.updated++;
    }
  })();
  return res;
}

/** Pure but for the lookup: one performance score row (both stores); `seen` remembers NIP|month lines. */
export function checkKinerjaRow(v: CsvRow['values'], line: number, seen: Map<string, number>, hasStaff: (nip: string | undefined) => boolean): { error: string } | { nip: string; month: string; score: number } {
  if (!hasStaff(v.nip)) return { error: `NIP "${v.nip}" is not in the staff list (pegawai tidak ditemukan)` };
  if (!isMonth(v.month ?? '')) return { error: `month "${v.month}" must be YYYY-MM (format bulan salah)` };
  const text = (v.score ?? '').replace(',', '.');
  const score = Number(text);
  if (!/^\d{1,3}(\.\d{1,2})?$/.test(text) || score < 0 || score > 100) return { error: `score "${v.score}" must be a number 0–100 (nilai kinerja harus 0–100)` };
  const key = `${v.nip}|${v.month}`;
  if (seen.has(key)) return { error: `NIP ${v.nip} month ${v.month} duplicates line ${seen.get(key)} (data ganda)` };
  seen.set(key, line);
  return { nip: v.nip!, month: v.month!, score };
}

// ---- leave, dinas luar, tugas belajar ----------------------------------------------------

export interface ExceptionRow {
  id: number;
  nip: string;
  type: ExceptionType;
  from_date: string;
  to_date: string;
  evidence: string | null;
  note: string | null;
  status: 'pending' | 'approved' | 'rejected';
  requested_by: string;
  requested_at: string;
  decided_by: string | null;
  decided_at: string | null;
}

export function addException(db: SqliteDb, e: { nip: string; type: string; from: string; to: string; evidence?: string | null; note?: string | null; by: string; now: string; scope: Scope }): ExceptionRow {
  checkScope(db, e.nip, e.scope);
  checkExceptionInput(e);
  const r = db
    .prepare('INSERT INTO att_exceptions (nip, type, from_date, to_date, evidence, note, status, requested_by, requested_at) VALUES (?, ?, ?, ?, ?, ?, \'pending\', ?, ?)')
    .run(e.nip, e.type, e.from, e.to, e.evidence ?? null, e.note ?? null, e.by, e.now);
  return getException(db, Number(r.lastInsertRowid))!;
}

/** Pure: a leave/duty request's type, dates and evidence (both stores). */
export function checkExceptionInput(e: { type: string; from: string; to: string; evidence?: string | null }): void {
  if (!(EXCEPTION_TYPES as readonly string[]).includes(e.type)) throw new UserError(`type "${e.type}" is not a leave/duty type`, `use one of ${EXCEPTION_TYPES.join(', ')}`);
  if (!isDate(e.from) || !isDate(e.to)) throw new UserError('from/to must be dates YYYY-MM-DD', 'write e.g. --from 2026-10-05 --to 2026-10-07');
  if (e.to < e.from) throw new UserError(`to ${e.to} is before from ${e.from}`, 'swap them');
  if ((e.type === 'cuti_sakit' || e.type === 'dinas_luar' || e.type === 'cuti_melahirkan') && !e.evidence)
    throw new UserError(`${e.type} needs evidence (surat dokter / nomor SPT / surat keterangan)`, 'add --evidence "<letter number or file reference>"');
}
/** An approval that would overlap another approved request (both stores). */
export function overlapError(c: { id: number; type: string; from_date: string; to_date: string }): UserError {
  return new UserError(`overlaps approved #${c.id} ${c.type} ${c.from_date}..${c.to_date} (bertumpuk dengan izin lain)`, 'reject or shorten one of them', 409);
}

export function getException(db: SqliteDb, id: number): ExceptionRow | undefined {
  return db.prepare('SELECT * FROM att_exceptions WHERE id = ?').get(id) as ExceptionRow | undefined;
}

export function listExceptions(db: SqliteDb, f: { status?: string; scope: Scope; month?: string }): (ExceptionRow & { name: string; opd_code: string })[] {
  const where: string[] = [];
  const args: unknown[] = [];
  if (f.status) { where.push('e.status = ?'); args.push(f.status); }
  if (f.scope) { where.push('s.opd_code = ?'); args.push(f.scope); }
  if (f.month) { where.push('e.from_date <= ? AND e.to_date >= ?'); args.push(`${f.month}-31`, `${f.month}-01`); }
  return db.prepare(`SELECT e.*, s.name, s.opd_code FROM att_exceptions e JOIN staff s ON s.nip = e.nip ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY e.from_date, e.id`).all(...args) as (ExceptionRow & { name: string; opd_code: string })[];
}

/** Approval by the employee's OPD admin (or BKPSDM). Approved days re-derive as leave/duty. */
export function decideException(db: SqliteDb, d: { id: number; approve: boolean; by: string; now: string; scope: Scope }): ExceptionRow {
  const e = getException(db, d.id);
  if (!e) throw new UserError(`exception #${d.id} does not exist`, 'list them with hadir leave list', 404);
  checkScope(db, e.nip, d.scope);
  const status = d.approve ? 'approved' : 'rejected';
  if (e.status === status) return e;
  if (d.approve) {
    const clash = db
      .prepare("SELECT id, type, from_date, to_date FROM att_exceptions WHERE nip = ? AND status = 'approved' AND id <> ? AND from_date <= ? AND to_date >= ?")
      .get(e.nip, e.id, e.to_date, e.from_date) as { id: number; type: string; from_date: string; to_date: string } | undefined;
    if (clash) throw overlapError(clash);
  }
  db.transaction(() => {
    db.prepare('UPDATE att_exceptions SET status = ?, decided_by = ?, decided_at = ? WHERE id = ?').run(status, d.by, d.now, d.id);
    markDirty(db, e.nip, monthsBetween(e.from_date, e.to_date));
  })();
  return getException(db, d.id)!;
}

// ---- holidays ----------------------------------------------------------------------------

export const HOLIDAY_COLUMNS = ['date', 'name', 'kind'] as const;

/** date,name,kind[,except_units] — kind nasional|cuti_bersama; except_units: unit codes separated by | that work that day. */
export function importHolidays(db: SqliteDb, rows: CsvRow[]): { created: number; updated: number; errors: LineError[] } {
  const res = { created: 0, updated: 0, errors: [] as LineError[] };
  const has = db.prepare('SELECT 1 FROM att_holidays WHERE date = ?').pluck();
  const hasUnit = db.prepare('SELECT 1 FROM units WHERE code = ?').pluck();
  const up = db.prepare('INSERT INTO att_holidays (date, name, kind) VALUES (?, ?, ?) ON CONFLICT (date) DO UPDATE SET name = excluded.name, kind = excluded.kind');
  const clearExc = db.prepare('DELETE FROM att_holiday_exceptions WHERE date = ?');
  const addExc = db.prepare('INSERT INTO att_holiday_exceptions (date, unit_code) VALUES (?, ?)');
  const months = new Set<string>();
  db.transaction(() => {
    for (const { line, values: v } of rows) {
      const chk = checkHolidayRow(v, (u) => !!hasUnit.get(u));
      if ('error' in chk) { res.errors.push({ line, reason: chk.error }); continue; }
      const { kind, units } = chk;
      if (has.get(v.date)) res.updated++;
      else res.created++;
      up.run(v.date, v.name, kind);
      clearExc.run(v.date);
      for (const u of units) addExc.run(v.date, u);
      months.add(v.date!.slice(0, 7));
    }
    markDirty(db, '*', months);
  })();
  return res;
}

/** Pure but for the lookup: one holiday row (both stores). */
export function checkHolidayRow(v: CsvRow['values'], hasUnit: (code: string) => boolean): { error: string } | { date: string; name: string; kind: string; units: string[] } {
  if (!isDate(v.date ?? '')) return { error: `date "${v.date}" must be YYYY-MM-DD` };
  const kind = (v.kind ?? '').toLowerCase();
  if (kind !== 'nasional' && kind !== 'cuti_bersama') return { error: `kind "${v.kind}" must be nasional or cuti_bersama` };
  if (!v.name) return { error: 'name is empty' };
  const units = (v.except_units ?? '').split('|').map((u) => u.trim()).filter(Boolean);
  const unknown = units.find((u) => !hasUnit(u));
  if (unknown) return { error: `unknown unit code "${unknown}" in except_units` };
  return { date: v.date!, name: v.name, kind, units };
}

export function removeHoliday(db: SqliteDb, date: string): boolean {
  const r = db.transaction(() => {
    db.prepare('DELETE FROM att_holiday_exceptions WHERE date = ?').run(date);
    const n = db.prepare('DELETE FROM att_holidays WHERE date = ?').run(date).changes;
    if (n) markDirty(db, '*', [date.slice(0, 7)]);
    return n;
  })();
  return r > 0;
}

// ---- relocation events (apel elsewhere) --------------------------------------------------

export function addEvent(db: SqliteDb, e: { date: string; site: string; name: string; opd?: string; unit?: string; nips?: string[]; by: string; now: string }): number {
  checkEvent(e, (c) => !!db.prepare('SELECT 1 FROM sites WHERE code = ?').pluck().get(c));
  const r = db
    .prepare('INSERT INTO att_events (date, site_code, name, opd_code, unit_code, nips, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
    .run(e.date, e.site, e.name, e.opd ?? null, e.unit ?? null, e.nips?.join(',') ?? null, e.by, e.now);
  markDirty(db, '*', [e.date.slice(0, 7)]);
  return Number(r.lastInsertRowid);
}

/** Pure but for the lookup: a relocation event's date, site and participants (both stores). */
export function checkEvent(e: { date: string; site: string; opd?: string; unit?: string; nips?: string[] }, hasSite: (code: string) => boolean): void {
  if (!isDate(e.date)) throw new UserError(`date "${e.date}" must be YYYY-MM-DD`, 'write e.g. --date 2026-10-05');
  if (!hasSite(e.site)) throw new UserError(`unknown site code "${e.site}"`, 'see the organisation import');
  const who = [e.opd, e.unit, e.nips?.length ? 'x' : undefined].filter(Boolean).length;
  if (who !== 1) throw new UserError('name the participants once: --opd CODE, --unit CODE or --nip NIP,NIP…', 'pick one of them');
}

// ---- shift roster ------------------------------------------------------------------------

export const ROSTER_COLUMNS = ['nip', 'date', 'shift'] as const;

export function importRoster(db: SqliteDb, rows: CsvRow[], schedulesByCode: Map<string, Schedule>): { created: number; updated: number; errors: LineError[] } {
  const res = { created: 0, updated: 0, errors: [] as LineError[] };
  const staff = db.prepare('SELECT schedule_code FROM staff WHERE nip = ?').pluck();
  const cur = db.prepare('SELECT shift FROM att_roster WHERE nip = ? AND date = ?').pluck();
  const up = db.prepare('INSERT INTO att_roster (nip, date, shift) VALUES (?, ?, ?) ON CONFLICT (nip, date) DO UPDATE SET shift = excluded.shift');
  const dirty = new Map<string, Set<string>>();
  db.transaction(() => {
    for (const { line, values: v } of rows) {
      const chk = checkRosterRow(v, staff.get(v.nip) as string | undefined, schedulesByCode);
      if ('error' in chk) { res.errors.push({ line, reason: chk.error }); continue; }
      const { shift } = chk;
      const old = cur.get(v.nip, v.date) as string | undefined;
      if (old === shift) continue;
      up.run(v.nip, v.date, shift);
      if (old === undefined) res.created++;
      else res.updated++;
      const s = dirty.get(v.nip!) ?? new Set();
      s.add(v.date!.slice(0, 7));
      // a night shift's punches fall on the next day, which may be next month
      dirty.set(v.nip!, s);
    }
    for (const [nip, months] of dirty) markDirty(db, nip, months);
  })();
  return res;
}

/** Pure: one roster row, given the employee's schedule code (undefined: not in the staff list); both stores. */
export function checkRosterRow(v: CsvRow['values'], code: string | undefined, schedulesByCode: Map<string, Schedule>): { error: string } | { shift: string } {
  if (!code) return { error: `NIP "${v.nip}" is not in the staff list` };
  if (!isDate(v.date ?? '')) return { error: `date "${v.date}" must be YYYY-MM-DD` };
  const sched = schedulesByCode.get(code);
  const shift = (v.shift ?? '').toUpperCase();
  if (sched?.type !== 'roster') return { error: `${v.nip} works schedule ${code}, which is not a shift roster` };
  if (shift !== 'OFF' && !(shift in sched.shifts)) return { error: `shift "${v.shift}" is not in schedule ${code} (${Object.keys(sched.shifts).join(', ')}, OFF)` };
  return { shift };
}

// ---- review of clock-unverified punches --------------------------------------------------

export interface PendingPunch {
  id: string;
  nip: string;
  name: string | null;
  opd_code: string | null;
  device_id: string | null;
  site_code: string | null;
  captured_at: string;
  clock_source: string | null;
  clock_offset_ms: number | null;
  /** True time reconstructed by terminal health (same boot, monotonic clock), if any: a suggestion only. */
  suggested_at: string | null;
  suggested_span_ms: number | null;
}

/** Terminal health (migration 200) adds suggested true times to punches; read them when present. */
function hasSuggestions(db: SqliteDb): boolean {
  return (db.prepare("SELECT count(*) FROM pragma_table_info('punches') WHERE name = 'suggested_at'").pluck().get() as number) > 0;
}

export function listPendingPunches(db: SqliteDb, scope: Scope): PendingPunch[] {
  const sugg = hasSuggestions(db) ? 'p.suggested_at, p.suggested_span_ms' : 'NULL AS suggested_at, NULL AS suggested_span_ms';
  return db
    .prepare(`SELECT p.id, p.nip, s.name, s.opd_code, p.device_id, p.site_code, p.captured_at, p.clock_source, p.clock_offset_ms, ${sugg}
      FROM punches p LEFT JOIN staff s ON s.nip = p.nip WHERE p.review_status = 'pending' ${scope ? 'AND s.opd_code = ?' : ''} ORDER BY p.captured_at`)
    .all(...(scope ? [scope] : [])) as PendingPunch[];
}

/** Accept (optionally with the corrected true time) or reject a clock-unverified punch. The trigger re-queues its days. */
export function reviewPunch(db: SqliteDb, r: { id: string; action: 'accept' | 'reject'; correctedAt?: string | null; useSuggested?: boolean; by: string; now: string; scope: Scope }): void {
  const p = db.prepare(`SELECT nip, review_status, ${hasSuggestions(db) ? 'suggested_at' : 'NULL AS suggested_at'} FROM punches WHERE id = ?`).get(r.id) as { nip: string; review_status: string; suggested_at: string | null } | undefined;
  if (!p) throw new UserError(`punch ${r.id} does not exist`, 'list pending punches with hadir punches pending', 404);
  checkScope(db, p.nip, r.scope);
  const corrected = reviewedTime(r, p);
  db.prepare('UPDATE punches SET review_status = ?, corrected_at = ?, reviewed_by = ?, reviewed_at = ? WHERE id = ?').run(r.action === 'accept' ? 'accepted' : 'rejected', corrected, r.by, r.now, r.id);
}

/** Pure: the corrected time a review sets (null: as stamped), or why the review is refused (both stores). */
export function reviewedTime(r: { id: string; action: 'accept' | 'reject'; correctedAt?: string | null; useSuggested?: boolean }, p: { review_status: string; suggested_at: string | null }): string | null {
  if (p.review_status === 'none') throw new UserError(`punch ${r.id} has a verified clock and needs no review`, 'nothing to do', 409);
  if (r.useSuggested) {
    if (r.action !== 'accept' || r.correctedAt) throw new UserError('the suggested time is for accepting, instead of a time you give', 'use either --suggested or --time');
    if (!p.suggested_at) throw new UserError(`punch ${r.id} has no suggested time (belum ada saran waktu)`, 'give the true time with --time, or accept as stamped');
    return new Date(Date.parse(p.suggested_at)).toISOString();
  }
  if (r.correctedAt) {
    if (!ISO_WITH_OFFSET.test(r.correctedAt) || Number.isNaN(Date.parse(r.correctedAt))) throw new UserError(`corrected time "${r.correctedAt}" must be ISO-8601 with offset`, 'e.g. 2026-10-05T07:41:00+07:00');
    if (r.action === 'reject') throw new UserError('a rejected punch takes no corrected time', 'use accept with the corrected time, or reject alone');
    return new Date(Date.parse(r.correctedAt)).toISOString();
  }
  return null;
}

/**
 * Bulk review: every clock-unverified punch of one kiosk in [from, to) at once — typically a kiosk
 * that ran for days without a trusted clock. `suggested` accepts each with its suggested true time
 * (punches without a suggestion are left pending and counted); `accept` keeps the stamped times;
 * `reject` discards them. One transaction; the trigger re-queues the affected days.
 */
export function reviewPunchesBulk(db: SqliteDb, r: { deviceId: string; from: string; to: string; action: 'suggested' | 'accept' | 'reject'; by: string; now: string; scope: Scope }): { reviewed: number; without_suggestion: number } {
  const sugg = hasSuggestions(db) ? 'p.suggested_at' : 'NULL AS suggested_at';
  const rows = db
    .prepare(`SELECT p.id, ${sugg} FROM punches p JOIN staff s ON s.nip = p.nip
      WHERE p.review_status = 'pending' AND p.device_id = ? AND p.captured_at >= ? AND p.captured_at < ? ${r.scope ? 'AND s.opd_code = ?' : ''}`)
    .all(...[r.deviceId, r.from, r.to, r.scope].filter((x): x is string => !!x)) as { id: string; suggested_at: string | null }[];
  const out = { reviewed: 0, without_suggestion: 0 };
  db.transaction(() => {
    for (const p of rows) {
      if (r.action === 'suggested' && !p.suggested_at) {
        out.without_suggestion++;
        continue;
      }
      reviewPunch(db, { id: p.id, action: r.action === 'reject' ? 'reject' : 'accept', useSuggested: r.action === 'suggested', by: r.by, now: r.now, scope: r.scope });
      out.reviewed++;
    }
  })();
  return out;
}

// ---- schedules ---------------------------------------------------------------------------

export function parseSchedule(text: string, source: string): Schedule {
  return parseDocument(scheduleSchema, text, source, 'see docs/attendance.md "Jadwal / Schedules" for the format');
}

export function addSchedule(db: SqliteDb, s: Schedule, by: string, now: string): void {
  db.transaction(() => {
    db.prepare(`INSERT INTO att_schedules (code, name, definition, updated_at, updated_by) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (code) DO UPDATE SET name = excluded.name, definition = excluded.definition, updated_at = excluded.updated_at, updated_by = excluded.updated_by`)
      .run(s.code, s.name, JSON.stringify(s), now, by);
    markDirty(db, '*', derivedMonthsFrom(db, '0000-00'));
  })();
}
