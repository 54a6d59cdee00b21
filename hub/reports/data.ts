import type { SqliteDb } from '../store/sqlite.js';
import { UserError } from '../../lib/errors.js';
import { STAFF_OF_MONTH, processDirty, processDirtyAsync, recomputeMonth, recomputeMonthAsync } from '../attendance/recompute.js';
import { unpackDays } from '../attendance/pack.js';
import { totals, type DayRecord, type MonthTotals } from '../attendance/derive.js';
import { loadRules, requireMonth } from '../attendance/inputs.js';
import { computeTpp, type TppDay } from '../tpp/compute.js';
import type { TppRule } from '../tpp/rules.js';
import { dateOf, dayIndex, monthDates } from '../attendance/time.js';

/** Report data (what every format renders): read from the derived months after bringing them up to date. */

export interface ReportQuery {
  month: string;
  /** Only this OPD (an OPD admin's own; BKPSDM may pick any or none). */
  opd?: string | null;
  /** Local date of "today": days from today on are not yet counted in a running month. */
  today: string;
  /** Timestamp for derived_at/changed_at of anything re-derived now. */
  now: string;
  /** Only this employee (the staff page: their own data). */
  nip?: string | null;
}

/** Employees of the month that have no derived record for it yet. */
function missingOf(db: SqliteDb, month: string): string[] {
  const dates = monthDates(month);
  return db.prepare(MISSING_SQL).pluck().all({ month, first: dates[0], last: dates[dates.length - 1] }) as string[];
}
/** Employees of a month (@month, @first, @last) with no derived record for it (both stores). */
export const MISSING_SQL = `SELECT nip FROM staff WHERE ${STAFF_OF_MONTH} AND nip NOT IN (SELECT nip FROM att_months WHERE month = @month)`;

/** Beyond this many employees without a record, the whole month is derived (not one by one). */
const WHOLE_MONTH_FROM = 2000;

/** Re-derives whatever changed, and derives employees that have no record for the month yet. */
export function prepareMonth(db: SqliteDb, month: string, now: string): void {
  processDirty(db, now);
  const missing = missingOf(db, month);
  if (missing.length) recomputeMonth(db, month, missing.length > WHOLE_MONTH_FROM ? null : missing, now);
}

/**
 * prepareMonth for the hub: a month never derived before is derived on worker threads while the
 * hub keeps serving (a province's first report of a month is ~20 s of work). Then the report's own
 * prepareMonth finds nothing left to do.
 */
export async function prepareMonthAsync(db: SqliteDb, month: string, now: string, opts: { threads?: number; wholeMonthFrom?: number } = {}): Promise<void> {
  await processDirtyAsync(db, now);
  await deriveMissing(db, month, now, opts);
}

/**
 * Derives the employees of a month that have no record for it yet (the queue is not drained:
 * processDirtyAsync does that): many on worker threads, a few on this thread in one transaction.
 */
export async function deriveMissing(db: SqliteDb, month: string, now: string, opts: { threads?: number; wholeMonthFrom?: number } = {}): Promise<void> {
  const missing = missingOf(db, month);
  if (missing.length > (opts.wholeMonthFrom ?? WHOLE_MONTH_FROM)) await recomputeMonthAsync(db, month, now, undefined, { threads: opts.threads });
  else if (missing.length) recomputeMonth(db, month, missing, now);
}

/** A stored employee-month: its packed days and the totals derive.ts computed. */
export interface MonthRow extends MonthTotals {
  nip: string;
  name: string;
  opd_code: string | null;
  opd_name: string | null;
  unit_code: string | null;
  unit_name: string | null;
  schedule_code: string;
  employment: string;
  job_class: string | null;
  tpp_base: number;
  days: string;
  derived_at: string;
  changed_at: string;
}

/**
 * How far the derived months are behind their inputs: queued inputs (att_dirty, every month) plus
 * employees of this month with no record yet (a month that has started), and when the month's
 * records last changed. A read returns the derived state as it is, with this beside it.
 */
export function derivationState(db: SqliteDb, month: string, today: string): { pending: number; derived_at: string | null } {
  const queued = db.prepare('SELECT count(*) FROM att_dirty').pluck().get() as number;
  const missing = month <= today.slice(0, 7) ? missingOf(db, month).length : 0;
  const derivedAt = (db.prepare('SELECT max(derived_at) FROM att_months WHERE month = ?').pluck().get(month) as string | null) ?? null;
  return { pending: queued + missing, derived_at: derivedAt };
}

/** The derived months of a report; `derive` (benchmarks only) brings the month up to date first. The hub and the command line read only: derivation is the job's (attendance/job.ts). */
function readMonth(db: SqliteDb, q: ReportQuery, derive: boolean): MonthRow[] {
  requireMonth(q.month);
  if (q.opd && !db.prepare('SELECT 1 FROM opd WHERE code = ?').pluck().get(q.opd)) throw new UserError(`unknown OPD code "${q.opd}" (kode OPD tidak dikenal)`, 'see hadir import org', 404);
  // a month that has not started has no attendance yet: nothing to derive (and no 100,000-staff recompute by accident)
  if (derive && q.month <= q.today.slice(0, 7)) prepareMonth(db, q.month, q.now);
  else if (derive) processDirty(db, q.now);
  const { sql, args } = readMonthSql(q);
  return db.prepare(sql).all(...args) as MonthRow[];
}

/**
 * The derived months of a report (both stores): `?` placeholders; `collate` orders text as SQLite
 * does (code points) on a PostgreSQL database with another default collation.
 */
export function readMonthSql(q: Pick<ReportQuery, 'month' | 'opd' | 'nip'>, collate = ''): { sql: string; args: string[] } {
  return {
    sql: `SELECT m.nip, s.name, m.opd_code, o.name AS opd_name, m.unit_code, u.name AS unit_name, s.schedule_code, s.employment, s.job_class, s.tpp_base,
        m.days, m.deduction_pct, m.work_days, m.present_days, m.late_days, m.early_days, m.absent_days, m.missing_days, m.excused_days,
        m.pending_review, m.derived_at, m.changed_at
      FROM att_months m JOIN staff s ON s.nip = m.nip LEFT JOIN opd o ON o.code = m.opd_code LEFT JOIN units u ON u.code = m.unit_code
      WHERE m.month = ? ${q.opd ? 'AND m.opd_code = ?' : ''} ${q.nip ? 'AND m.nip = ?' : ''} ORDER BY m.opd_code${collate}, m.unit_code${collate}, s.name${collate}, m.nip${collate}`,
    args: [q.month, q.opd, q.nip].filter((x): x is string => !!x),
  };
}

/** Last counted day: yesterday in a running month, the whole month once it is over. */
export function throughDate(month: string, today: string): string {
  const dates = monthDates(month);
  const yesterday = dateOf(dayIndex(today) - 1);
  const last = dates[dates.length - 1]!;
  return yesterday < last ? yesterday : last;
}

export interface ReportMeta {
  month: string;
  opd: string | null;
  opd_name: string | null;
  through: string;
  generated_at: string;
  pending_review: number;
  pending_exceptions: number;
  /** Inputs not yet derived when read (0: up to date); the hub's background job derives them. */
  pending_derivation: number;
  /** When the month's derived records last changed (null: never derived). */
  derived_at: string | null;
}

function meta(db: SqliteDb, q: ReportQuery, rows: MonthRow[]): ReportMeta {
  const { sql, args } = pendingExceptionsSql(q);
  const pendingExc = db.prepare(sql).pluck().get(...args) as number;
  const opdName = q.opd ? ((db.prepare('SELECT name FROM opd WHERE code = ?').pluck().get(q.opd) as string) ?? null) : null;
  return metaOf(q, rows, { pendingExceptions: pendingExc, opdName, state: derivationState(db, q.month, q.today) });
}

/** Leave/duty requests of the month still waiting for a decision (both stores; `?` placeholders). */
export function pendingExceptionsSql(q: Pick<ReportQuery, 'month' | 'opd'>): { sql: string; args: string[] } {
  const dates = monthDates(q.month);
  return {
    sql: `SELECT count(*) FROM att_exceptions e JOIN staff s ON s.nip = e.nip WHERE e.status = 'pending' AND e.from_date <= ? AND e.to_date >= ? ${q.opd ? 'AND s.opd_code = ?' : ''}`,
    args: [dates[dates.length - 1]!, dates[0]!, ...(q.opd ? [q.opd] : [])],
  };
}

/** Pure: a report's meta from what was read. */
export function metaOf(q: ReportQuery, rows: MonthRow[], r: { pendingExceptions: number; opdName: string | null; state: { pending: number; derived_at: string | null } }): ReportMeta {
  return {
    month: q.month,
    opd: q.opd ?? null,
    opd_name: r.opdName,
    through: throughDate(q.month, q.today),
    generated_at: q.now,
    pending_review: rows.reduce((a, x) => a + x.pending_review, 0),
    pending_exceptions: r.pendingExceptions,
    pending_derivation: r.state.pending,
    derived_at: r.state.derived_at,
  };
}

/** One employee's month in the attendance report: identity plus the month's totals. */
export interface AttendanceRow extends MonthTotals {
  nip: string;
  name: string;
  opd: string | null;
  opd_name: string | null;
  unit: string | null;
  unit_name: string | null;
  schedule: string;
  changed_at: string;
  days: DayRecord[];
}

export function attendanceReport(db: SqliteDb, q: ReportQuery, opts: { derive?: boolean } = {}): { meta: ReportMeta; rows: AttendanceRow[] } {
  const rows = readMonth(db, q, opts.derive ?? true);
  return attendanceOf(q, rows, meta(db, q, rows));
}

/** Pure: the attendance report from the month's stored rows (both stores). */
export function attendanceOf(q: ReportQuery, rows: MonthRow[], meta: ReportMeta): { meta: ReportMeta; rows: AttendanceRow[] } {
  const through = throughDate(q.month, q.today);
  const out = rows.map((r) => {
    const days = unpackDays(r.days, { unit: r.unit_code, opd: r.opd_code }).filter((d) => d.date <= through);
    // counts up to the last counted day (a running month), the same way the stored totals are made
    const { deduction_pct, pending_review, ...counts } = totals(days);
    const lastAssigned = days.findLast((d) => d.schedule !== null);
    return {
      nip: r.nip, name: r.name, opd: r.opd_code, opd_name: r.opd_name, unit: r.unit_code, unit_name: r.unit_name, schedule: lastAssigned?.schedule ?? r.schedule_code,
      ...counts,
      pending_review,
      deduction_pct,
      changed_at: r.changed_at,
      days,
    };
  });
  return { meta, rows: out };
}

export interface TppRow {
  nip: string;
  name: string;
  opd: string | null;
  opd_name: string | null;
  unit: string | null;
  employment: string;
  job_class: string | null;
  base: number;
  rule: string | null;
  deduction_pct: number;
  cap_pct: number;
  applied_pct: number;
  disiplin: number;
  produktivitas_score: number | null;
  produktivitas_missing: boolean;
  produktivitas: number;
  total: number;
  /** The exit month of an employee who left service: base × work days in service / work days. */
  prorata: { work_days_in_service: number; work_days: number; base: number } | null;
  pending_review: number;
  changed_at: string;
  days: TppDay[];
}

export function tppReport(db: SqliteDb, q: ReportQuery, opts: { derive?: boolean } = {}): { meta: ReportMeta; rows: TppRow[]; totals: { base: number; total: number; missing_scores: number } } {
  const rows = readMonth(db, q, opts.derive ?? true);
  const rules = loadRules(db);
  requireRules(rules);
  const scores = db.prepare('SELECT nip, score FROM tpp_kinerja WHERE month = ?').all(q.month) as { nip: string; score: number }[];
  return tppOf(q, rows, rules, scores, meta(db, q, rows));
}

export function requireRules(rules: TppRule[]): void {
  if (!rules.length) throw new UserError('no TPP rule is installed (belum ada aturan TPP)', 'install the Perbup version with hadir rules add FILE');
}

/** Pure: the TPP report from the month's stored rows, the rule versions and the month's performance scores (both stores). */
export function tppOf(q: ReportQuery, rows: MonthRow[], rules: TppRule[], scoreRows: { nip: string; score: number }[], meta: ReportMeta): { meta: ReportMeta; rows: TppRow[]; totals: { base: number; total: number; missing_scores: number } } {
  const scores = new Map(scoreRows.map((r) => [r.nip, r.score]));
  const through = throughDate(q.month, q.today);
  const out: TppRow[] = rows.map((r) => {
    const days = unpackDays(r.days, { unit: r.unit_code, opd: r.opd_code });
    const t = computeTpp({ month: q.month, base: r.tpp_base, days, rules, score: scores.get(r.nip) ?? null, through });
    return {
      nip: r.nip, name: r.name, opd: r.opd_code, opd_name: r.opd_name, unit: r.unit_code, employment: r.employment, job_class: r.job_class,
      base: r.tpp_base, rule: t.rule, deduction_pct: t.deduction_pct, cap_pct: t.cap_pct, applied_pct: t.applied_pct, disiplin: t.disiplin,
      produktivitas_score: t.produktivitas_score, produktivitas_missing: t.produktivitas_missing, produktivitas: t.produktivitas, total: t.total,
      prorata: t.prorata, pending_review: r.pending_review, changed_at: r.changed_at,
      days: t.days.filter((d) => d.status !== 'not_employed'),
    };
  });
  return {
    meta,
    rows: out,
    totals: { base: out.reduce((a, r) => a + r.base, 0), total: out.reduce((a, r) => a + r.total, 0), missing_scores: out.filter((r) => r.produktivitas_missing).length },
  };
}

export interface LateRow {
  nip: string;
  name: string;
  opd: string | null;
  unit: string | null;
  start: string | null;
  in: string | null;
  minutes_late: number;
  code: string;
  status: string;
}

/** The OPD head's "who is late today": late check-ins, and who has no check-in yet on a working day. */
export function lateToday(db: SqliteDb, q: { date: string; opd?: string | null; now: string }, opts: { derive?: boolean } = {}): { date: string; late: LateRow[]; not_in: LateRow[] } {
  const month = q.date.slice(0, 7);
  return lateOf(q.date, readMonth(db, { month, opd: q.opd, today: q.date, now: q.now }, opts.derive ?? true));
}

/** Pure: "late today" from the month's stored rows (both stores). */
export function lateOf(date: string, rows: MonthRow[]): { date: string; late: LateRow[]; not_in: LateRow[] } {
  const q = { date };
  const late: LateRow[] = [];
  const notIn: LateRow[] = [];
  for (const r of rows) {
    const d = unpackDays(r.days, { unit: r.unit_code, opd: r.opd_code }).find((x) => x.date === q.date);
    if (!d) continue;
    const row = { nip: r.nip, name: r.name, opd: d.opd, unit: d.unit, start: d.start, in: d.in, minutes_late: d.minutes_late, code: d.code.split(' ')[0] ?? '', status: d.status };
    if (d.minutes_late > 0) late.push(row);
    else if (d.status === 'absent' || d.status === 'missing_in') notIn.push(row);
  }
  late.sort((a, b) => b.minutes_late - a.minutes_late);
  return { date: q.date, late, not_in: notIn };
}
