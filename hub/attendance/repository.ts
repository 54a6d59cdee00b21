import type { SqliteDb } from '../store/sqlite.js';
import type { ArgsAfterDb as Args, Async } from '../store/async.js';
import { readConfig, loadRules } from './inputs.js';
import { localToday } from './clock.js';
import { addException, decideException, getException, listExceptions, listPendingPunches, reviewPunch, reviewPunchesBulk } from './admin.js';
import { attendanceReport, derivationState, deriveMissing, lateToday, tppReport } from '../reports/data.js';
import { endService, listExits, reinstate, syncServiceStatus } from '../org/exit.js';
import { processDirtyAsync } from './recompute.js';


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
}

/** Attendance storage as the hub module uses it, async (SQLite: SqliteAttendanceStore through asyncOver). */
export type AttendanceRepository = Async<SqliteAttendanceStore>;
