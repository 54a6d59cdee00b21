import type { SqliteDb } from '../store/sqlite.js';
import type { ArgsAfterDb as Args, Async } from '../store/async.js';
import { readConfig, loadRules, loadSchedules, writeConfig } from './inputs.js';
import { localToday } from './clock.js';
import {
  addEvent, addException, addSchedule, decideException, getException, importHolidays, importKinerja, importPunches, importRoster, listExceptions, listPendingPunches,
  removeHoliday, reviewPunch, reviewPunchesBulk,
} from './admin.js';
import { attendanceReport, derivationState, deriveMissing, lateToday, tppReport } from '../reports/data.js';
import { endService, listExits, reinstate, syncServiceStatus } from '../org/exit.js';
import { derivedMonthsFrom, markDirty, processDirty, processDirtyAsync, recomputeMonth } from './recompute.js';
import { importOrg, importStaff, transferStaff } from '../org/import.js';
import { addRule, listRules } from '../tpp/store.js';
import type { CsvRow } from '../org/csv.js';
import type { AttConfig } from './inputs.js';

/** A holiday as listed: the units that work on it joined by `|`. */
export interface HolidayListRow {
  date: string;
  name: string;
  kind: string;
  ex: string | null;
}


/**
 * Attendance on SQLite: settings, derived months and their reports, leave/duty, punch review,
 * end of service, and the derivation queue. The SQL lives in the functions it calls (shared with
 * the command line); the module reaches it through AttendanceRepository only.
 */
export class SqliteAttendanceStore {
  constructor(private readonly db: SqliteDb) {}

  config(...a: Args<typeof readConfig>) {
    return readConfig(this.db, ...a);
  }
  today(...a: Args<typeof localToday>) {
    return localToday(this.db, ...a);
  }
  rules(...a: Args<typeof loadRules>) {
    return loadRules(this.db, ...a);
  }
  staffOpd(nip: string): string | null {
    return (this.db.prepare('SELECT opd_code FROM staff WHERE nip = ?').pluck().get(nip) as string | undefined) ?? null;
  }

  // reports: reads only (derivation is the background job's: derive / prepareMonth)
  attendanceReport(q: Args<typeof attendanceReport>[0]) {
    return attendanceReport(this.db, q, { derive: false });
  }
  tppReport(q: Args<typeof tppReport>[0]) {
    return tppReport(this.db, q, { derive: false });
  }
  lateToday(q: Args<typeof lateToday>[0]) {
    return lateToday(this.db, q, { derive: false });
  }
  derivationState(...a: Args<typeof derivationState>) {
    return derivationState(this.db, ...a);
  }

  // leave / duty
  listExceptions(...a: Args<typeof listExceptions>) {
    return listExceptions(this.db, ...a);
  }
  addException(...a: Args<typeof addException>) {
    return addException(this.db, ...a);
  }
  getException(...a: Args<typeof getException>) {
    return getException(this.db, ...a);
  }
  decideException(...a: Args<typeof decideException>) {
    return decideException(this.db, ...a);
  }

  // review of clock-unverified punches
  listPendingPunches(...a: Args<typeof listPendingPunches>) {
    return listPendingPunches(this.db, ...a);
  }
  reviewPunch(...a: Args<typeof reviewPunch>) {
    return reviewPunch(this.db, ...a);
  }
  reviewPunchesBulk(...a: Args<typeof reviewPunchesBulk>) {
    return reviewPunchesBulk(this.db, ...a);
  }
  /** A punch's review fields (audit before/after). */
  punchReview(id: string): { id: string; nip: string; [k: string]: unknown } | undefined {
    return this.db.prepare('SELECT id, nip, captured_at, review_status, review_reason, corrected_at, reviewed_by FROM punches WHERE id = ?').get(id) as never;
  }
  pendingReviewCount(): number {
    return this.db.prepare("SELECT count(*) FROM punches WHERE review_status = 'pending'").pluck().get() as number;
  }

  // end of service
  listExits(...a: Args<typeof listExits>) {
    return listExits(this.db, ...a);
  }
  endService(...a: Args<typeof endService>) {
    return endService(this.db, ...a);
  }
  reinstate(...a: Args<typeof reinstate>) {
    return reinstate(this.db, ...a);
  }
  syncServiceStatus(...a: Args<typeof syncServiceStatus>) {
    return syncServiceStatus(this.db, ...a);
  }

  // derivation (writes: only the background job calls these)
  queueLength(): number {
    return this.db.prepare('SELECT count(*) FROM att_dirty').pluck().get() as number;
  }
  /** Drains the queue; whole months are derived on worker threads. */
  derive(now: string) {
    return processDirtyAsync(this.db, now);
  }
  /** Derives the employees of a month that have no record for it yet (whole months on worker threads). */
  prepareMonth(month: string, now: string) {
    return deriveMissing(this.db, month, now);
  }
  /** Drains the queue on this thread (a one-shot command: nothing else runs beside it). */
  settle(now: string) {
    return processDirty(this.db, now);
  }
  /** Re-derives a whole month for everyone (`hadir attendance recompute`). */
  recomputeMonth(month: string, now: string): { derived: number; changed: number } {
    const { derived, changed } = recomputeMonth(this.db, month, null, now);
    return { derived, changed };
  }
  /** Queues a re-derivation (nip '*' = everyone). */
  markDirty(nip: string, months: string[]): void {
    markDirty(this.db, nip, months);
  }

  // organisation, imports and settings (the command line)
  importOrg(...a: Args<typeof importOrg>) {
    return importOrg(this.db, ...a);
  }
  importStaff(...a: Args<typeof importStaff>) {
    return importStaff(this.db, ...a);
  }
  transferStaff(...a: Args<typeof transferStaff>) {
    return transferStaff(this.db, ...a);
  }
  importPunches(...a: Args<typeof importPunches>) {
    return importPunches(this.db, ...a);
  }
  importKinerja(...a: Args<typeof importKinerja>) {
    return importKinerja(this.db, ...a);
  }
  importHolidays(...a: Args<typeof importHolidays>) {
    return importHolidays(this.db, ...a);
  }
  removeHoliday(...a: Args<typeof removeHoliday>) {
    return removeHoliday(this.db, ...a);
  }
  listHolidays(year?: string): HolidayListRow[] {
    return this.db
      .prepare("SELECT h.date, h.name, h.kind, group_concat(e.unit_code, '|') AS ex FROM att_holidays h LEFT JOIN att_holiday_exceptions e ON e.date = h.date WHERE h.date LIKE ? GROUP BY h.date ORDER BY h.date")
      .all(`${year ?? ''}%`) as HolidayListRow[];
  }
  addEvent(...a: Args<typeof addEvent>) {
    return addEvent(this.db, ...a);
  }
  importRoster(rows: CsvRow[]) {
    return importRoster(this.db, rows, loadSchedules(this.db));
  }
  schedules() {
    return loadSchedules(this.db);
  }
  addSchedule(...a: Args<typeof addSchedule>) {
    return addSchedule(this.db, ...a);
  }
  addRule(...a: Args<typeof addRule>) {
    return addRule(this.db, ...a);
  }
  listRules() {
    return listRules(this.db);
  }
  /** Changes the regency's zone / site policy (every derived month is re-derived); returns the settings. */
  setConfig(c: { tzOffsetMin?: number; sitePolicy?: AttConfig['sitePolicy'] }): AttConfig {
    this.db.transaction(() => {
      if (c.tzOffsetMin !== undefined) writeConfig(this.db, 'tz_offset_min', String(c.tzOffsetMin));
      if (c.sitePolicy) writeConfig(this.db, 'site_policy', c.sitePolicy);
      if (c.tzOffsetMin !== undefined || c.sitePolicy) markDirty(this.db, '*', derivedMonthsFrom(this.db, '0000-00'));
    })();
    return readConfig(this.db);
  }
}

/** Attendance storage as the hub module uses it, async (SQLite: SqliteAttendanceStore through asyncOver). */
export type AttendanceRepository = Async<SqliteAttendanceStore>;
