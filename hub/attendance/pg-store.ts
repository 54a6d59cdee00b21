import type pg from 'pg';
import { UserError } from '../../lib/errors.js';
import { newId } from '../../protocol/ids.js';
import { inTransaction, numbered } from '../store/pg.js';
import type { CsvRow, LineError } from '../org/csv.js';
import { checkOrgRow, checkStaffRow, exitedRowError, unitMoveError, type ImportResult } from '../org/import.js';
import { checkExitHistory, checkExitInput, checkReinstate, unknownStaff, type ExitListRow, type ExitRow } from '../org/exit.js';
import type { ExceptionType, TppRule } from '../tpp/rules.js';
import { configOf, monthContextOf, monthPunchRange, requireMonth, rulesOf, schedulesOf, type AttConfig } from './inputs.js';
import {
  checkEvent, checkExceptionInput, checkHolidayRow, checkKinerjaRow, checkPunchRow, checkRosterRow, overlapError, reviewedTime, scopeCheck,
  type ExceptionRow, type PendingPunch, type Scope,
} from './admin.js';
import type { Schedule } from './schedule.js';
import type { MonthContext } from './derive.js';
import {
  PunchTable, STAFF_OF_MONTH, byMonth, candidateMonths, monthRowOf, monthsBetween, planDirtyRows, push, type DirtyRow, type Inputs, type MonthRow as DerivedRow,
  type StaffRow,
} from './recompute.js';
import {
  MISSING_SQL, attendanceOf, lateOf, metaOf, pendingExceptionsSql, readMonthSql, requireRules, tppOf, type MonthRow, type ReportMeta, type ReportQuery,
} from '../reports/data.js';
import type { AttendanceRepository, HolidayListRow } from './repository.js';
import { isDate, monthDates } from './time.js';

type Q = Pick<pg.PoolClient, 'query'>;
type Row = Record<string, unknown>;

/** `@name` parameters as $1, $2 … with their values in order (SQL shared with the SQLite store). */
function named(sql: string, params: Record<string, unknown>): { text: string; values: unknown[] } {
  const values: unknown[] = [];
  const index = new Map<string, number>();
  const text = sql.replace(/@(\w+)/g, (_m, n: string) => {
    if (!index.has(n)) {
      if (!(n in params)) throw new Error(`no value for @${n}`);
      values.push(params[n]);
      index.set(n, values.length);
    }
    return `$${index.get(n)}`;
  });
  return { text, values };
}
async function rows<T = Row>(q: Q, sql: string, args: unknown[] = []): Promise<T[]> {
  return (await q.query(sql, args)).rows as T[];
}
async function one<T = Row>(q: Q, sql: string, args: unknown[] = []): Promise<T | undefined> {
  return (await q.query(sql, args)).rows[0] as T | undefined;
}
async function value<T>(q: Q, sql: string, args: unknown[] = []): Promise<T | undefined> {
  const r = (await q.query({ text: sql, values: args, rowMode: 'array' })).rows[0] as unknown[] | undefined;
  return r?.[0] as T | undefined;
}

/** Text ordered by code point, as SQLite orders it, whatever the database's default collation. */
const C = ' COLLATE "C"';

/** Queued rows claimed per transaction (each claim transaction derives what its rows ask for). */
const CLAIM_BATCH = 1000;
/** Above this many employees of one month in a transaction, the month is locked whole instead of employee by employee (PostgreSQL's lock table is finite). */
const EMPLOYEE_LOCKS_MAX = 200;
/** Beyond this many employees without a record, the whole month is derived (as on SQLite). */
const WHOLE_MONTH_FROM = 2000;
/** Rows per INSERT of derived months. */
const WRITE_CHUNK = 500;

/** Advisory lock classes (two-key form): a month, and one employee's month. */
const LOCK_MONTH = 0x6874_6d31; // 'htm1'
const LOCK_EMPLOYEE_MONTH = 0x6874_6d32;

export interface PgAttendanceOptions {
  /** Tests only: called after a derivation has read its inputs and before it writes (to force interleavings). */
  afterRead?: (month: string, nips: string[] | null) => Promise<void>;
  /** Tests only: false derives without the employee-month locks (to show the concurrency test detects a lost update). */
  lock?: boolean;
}

/**
 * Attendance on PostgreSQL (pg-migrations/100_attendance.sql): the same repository as
 * SqliteAttendanceStore, with the pure parts shared (deriveMonth, monthContextOf, planDirtyRows,
 * the report builders attendanceOf / tppOf / lateOf, the packed day format). Several hub processes
 * may derive at once: the queue is claimed with DELETE … FOR UPDATE SKIP LOCKED in the transaction
 * that derives and writes, and every employee-month is derived under an advisory lock taken before
 * its inputs are read (docs/hub.md "The attendance queue").
 */
export class PgAttendanceStore implements AttendanceRepository {
  constructor(
    readonly pool: pg.Pool,
    private readonly opts: PgAttendanceOptions = {},
  ) {}

  // ---- settings and lookups ----------------------------------------------------------------

  async config(): Promise<AttConfig> {
    return configOf(await rows(this.pool, 'SELECT key, value FROM att_config'));
  }
  async today(now: number): Promise<string> {
    return new Date(now + (await this.config()).tzOffsetMin * 60_000).toISOString().slice(0, 10);
  }
  async rules(): Promise<TppRule[]> {
    return rulesOf((await rows<{ definition: string }>(this.pool, 'SELECT definition FROM tpp_rules ORDER BY effective_from')).map((r) => r.definition));
  }
  async staffOpd(nip: string): Promise<string | null> {
    return (await value<string>(this.pool, 'SELECT opd_code FROM staff WHERE nip = $1', [nip])) ?? null;
  }
  async schedules(q: Q = this.pool): Promise<Map<string, Schedule>> {
    return schedulesOf(await rows(q, 'SELECT code, definition FROM att_schedules'));
  }
  async setConfig(c: { tzOffsetMin?: number; sitePolicy?: AttConfig['sitePolicy'] }): Promise<AttConfig> {
    await inTransaction(this.pool, async (t) => {
      const put = (k: string, v: string) => t.query('INSERT INTO att_config (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value', [k, v]);
      if (c.tzOffsetMin !== undefined) await put('tz_offset_min', String(c.tzOffsetMin));
      if (c.sitePolicy) await put('site_policy', c.sitePolicy);
      if (c.tzOffsetMin !== undefined || c.sitePolicy) await markDirty(t, '*', await derivedMonthsFrom(t, '0000-00'));
    });
    return this.config();
  }
  async markDirty(nip: string, months: string[]): Promise<void> {
    await markDirty(this.pool, nip, months);
  }

  // ---- reports (read only) -------------------------------------------------------------------

  private async readMonth(q: Pick<ReportQuery, 'month' | 'opd' | 'nip'>): Promise<MonthRow[]> {
    requireMonth(q.month);
    if (q.opd && !(await value(this.pool, 'SELECT 1 FROM opd WHERE code = $1', [q.opd]))) throw new UserError(`unknown OPD code "${q.opd}" (kode OPD tidak dikenal)`, 'see hadir import org', 404);
    const { sql, args } = readMonthSql(q, C);
    return rows<MonthRow>(this.pool, numbered(sql), args);
  }
  private async meta(q: ReportQuery, list: MonthRow[]): Promise<ReportMeta> {
    const { sql, args } = pendingExceptionsSql(q);
    const pendingExceptions = Number(await value(this.pool, numbered(sql), args));
    const opdName = q.opd ? ((await value<string>(this.pool, 'SELECT name FROM opd WHERE code = $1', [q.opd])) ?? null) : null;
    return metaOf(q, list, { pendingExceptions, opdName, state: await this.derivationState(q.month, q.today) });
  }
  async attendanceReport(q: ReportQuery) {
    const list = await this.readMonth(q);
    return attendanceOf(q, list, await this.meta(q, list));
  }
  async tppReport(q: ReportQuery) {
    const list = await this.readMonth(q);
    const rules = await this.rules();
    requireRules(rules);
    const scores = await rows<{ nip: string; score: number }>(this.pool, 'SELECT nip, score FROM tpp_kinerja WHERE month = $1', [q.month]);
    return tppOf(q, list, rules, scores, await this.meta(q, list));
  }
  async lateToday(q: { date: string; opd?: string | null; now: string }) {
    return lateOf(q.date, await this.readMonth({ month: q.date.slice(0, 7), opd: q.opd }));
  }
  async derivationState(month: string, today: string): Promise<{ pending: number; derived_at: string | null }> {
    const queued = Number(await value(this.pool, 'SELECT count(*) FROM att_dirty'));
    const missing = month <= today.slice(0, 7) ? (await missingOf(this.pool, month)).length : 0;
    const derivedAt = (await value<string | null>(this.pool, 'SELECT max(derived_at) FROM att_months WHERE month = $1', [month])) ?? null;
    return { pending: queued + missing, derived_at: derivedAt };
  }

  // ---- leave / duty ------------------------------------------------------------------------

  private async checkScope(q: Q, nip: string, scope: Scope): Promise<void> {
    scopeCheck(nip, await value<string>(q, 'SELECT opd_code FROM staff WHERE nip = $1', [nip]), scope);
  }
  async listExceptions(f: { status?: string; scope: Scope; month?: string }): Promise<(ExceptionRow & { name: string; opd_code: string })[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    if (f.status) (where.push('e.status = ?'), args.push(f.status));
    if (f.scope) (where.push('s.opd_code = ?'), args.push(f.scope));
    if (f.month) (where.push('e.from_date <= ? AND e.to_date >= ?'), args.push(`${f.month}-31`, `${f.month}-01`));
    return rows(this.pool, numbered(`SELECT e.*, s.name, s.opd_code FROM att_exceptions e JOIN staff s ON s.nip = e.nip ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY e.from_date, e.id`), args);
  }
  async addException(e: { nip: string; type: string; from: string; to: string; evidence?: string | null; note?: string | null; by: string; now: string; scope: Scope }): Promise<ExceptionRow> {
    await this.checkScope(this.pool, e.nip, e.scope);
    checkExceptionInput(e);
    return (await one<ExceptionRow>(
      this.pool,
      `INSERT INTO att_exceptions (nip, type, from_date, to_date, evidence, note, status, requested_by, requested_at) VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, $8) RETURNING *`,
      [e.nip, e.type, e.from, e.to, e.evidence ?? null, e.note ?? null, e.by, e.now],
    ))!;
  }
  async getException(id: number): Promise<ExceptionRow | undefined> {
    return one<ExceptionRow>(this.pool, 'SELECT * FROM att_exceptions WHERE id = $1', [id]);
  }
  async decideException(d: { id: number; approve: boolean; by: string; now: string; scope: Scope }): Promise<ExceptionRow> {
    const e = await this.getException(d.id);
    if (!e) throw new UserError(`exception #${d.id} does not exist`, 'list them with hadir leave list', 404);
    await this.checkScope(this.pool, e.nip, d.scope);
    const status = d.approve ? 'approved' : 'rejected';
    if (e.status === status) return e;
    await inTransaction(this.pool, async (t) => {
      if (d.approve) {
        // one approval at a time per employee: two overlapping requests approved at once by two workers cannot both pass the check
        await t.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [LOCK_EMPLOYEE_MONTH, `exc|${e.nip}`]);
        const clash = await one<{ id: number; type: string; from_date: string; to_date: string }>(
          t,
          "SELECT id, type, from_date, to_date FROM att_exceptions WHERE nip = $1 AND status = 'approved' AND id <> $2 AND from_date <= $3 AND to_date >= $4",
          [e.nip, e.id, e.to_date, e.from_date],
        );
        if (clash) throw overlapError(clash);
      }
      await t.query('UPDATE att_exceptions SET status = $1, decided_by = $2, decided_at = $3 WHERE id = $4', [status, d.by, d.now, d.id]);
      await markDirty(t, e.nip, monthsBetween(e.from_date, e.to_date));
    });
    return (await this.getException(d.id))!;
  }

  // ---- review of clock-unverified punches ----------------------------------------------------

  async listPendingPunches(scope: Scope): Promise<PendingPunch[]> {
    return rows(
      this.pool,
      `SELECT p.id, p.nip, s.name, s.opd_code, p.device_id, p.site_code, p.captured_at, p.clock_source, p.clock_offset_ms, p.suggested_at, p.suggested_span_ms
       FROM punches p LEFT JOIN staff s ON s.nip = p.nip WHERE p.review_status = 'pending' ${scope ? 'AND s.opd_code = $1' : ''} ORDER BY p.captured_at, p.id`,
      scope ? [scope] : [],
    );
  }
  async reviewPunch(r: { id: string; action: 'accept' | 'reject'; correctedAt?: string | null; useSuggested?: boolean; by: string; now: string; scope: Scope }, q: Q = this.pool): Promise<void> {
    const p = await one<{ nip: string; review_status: string; suggested_at: string | null }>(q, 'SELECT nip, review_status, suggested_at FROM punches WHERE id = $1', [r.id]);
    if (!p) throw new UserError(`punch ${r.id} does not exist`, 'list pending punches with hadir punches pending', 404);
    await this.checkScope(q, p.nip, r.scope);
    const corrected = reviewedTime(r, p);
    await q.query('UPDATE punches SET review_status = $1, corrected_at = $2, reviewed_by = $3, reviewed_at = $4 WHERE id = $5', [r.action === 'accept' ? 'accepted' : 'rejected', corrected, r.by, r.now, r.id]);
  }
  async reviewPunchesBulk(r: { deviceId: string; from: string; to: string; action: 'suggested' | 'accept' | 'reject'; by: string; now: string; scope: Scope }): Promise<{ reviewed: number; without_suggestion: number }> {
    const list = await rows<{ id: string; suggested_at: string | null }>(
      this.pool,
      numbered(`SELECT p.id, p.suggested_at FROM punches p JOIN staff s ON s.nip = p.nip
        WHERE p.review_status = 'pending' AND p.device_id = ? AND p.captured_at >= ? AND p.captured_at < ? ${r.scope ? 'AND s.opd_code = ?' : ''}`),
      [r.deviceId, r.from, r.to, r.scope].filter((x): x is string => !!x),
    );
    const out = { reviewed: 0, without_suggestion: 0 };
    await inTransaction(this.pool, async (t) => {
      for (const p of list) {
        if (r.action === 'suggested' && !p.suggested_at) {
          out.without_suggestion++;
          continue;
        }
        await this.reviewPunch({ id: p.id, action: r.action === 'reject' ? 'reject' : 'accept', useSuggested: r.action === 'suggested', by: r.by, now: r.now, scope: r.scope }, t);
        out.reviewed++;
      }
    });
    return out;
  }
  async punchReview(id: string): Promise<{ id: string; nip: string; [k: string]: unknown } | undefined> {
    return one(this.pool, 'SELECT id, nip, captured_at, review_status, review_reason, corrected_at, reviewed_by FROM punches WHERE id = $1', [id]);
  }
  async pendingReviewCount(): Promise<number> {
    return Number(await value(this.pool, "SELECT count(*) FROM punches WHERE review_status = 'pending'"));
  }

  // ---- end of service ------------------------------------------------------------------------

  private async requireStaff(q: Q, nip: string): Promise<void> {
    if (!(await value(q, 'SELECT 1 FROM staff WHERE nip = $1', [nip]))) throw unknownStaff(nip);
  }
  async listExits(f: { opd?: string | null; open?: boolean } = {}): Promise<ExitListRow[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    if (f.opd) (where.push('s.opd_code = ?'), args.push(f.opd));
    if (f.open) where.push('e.reinstated_from IS NULL');
    return rows(this.pool, numbered(`SELECT e.*, s.name, s.opd_code FROM staff_exits e JOIN staff s ON s.nip = e.nip ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY e.from_date DESC, e.id DESC`), args);
  }
  async endService(e: { nip: string; from: string; reason: string; note?: string | null; by: string; now: string }): Promise<ExitRow> {
    await this.requireStaff(this.pool, e.nip);
    checkExitInput(e);
    const today = await this.today(Date.parse(e.now));
    return inTransaction(this.pool, async (t) => {
      await t.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [LOCK_EMPLOYEE_MONTH, `exit|${e.nip}`]);
      checkExitHistory(e, {
        open: await one<ExitRow>(t, 'SELECT * FROM staff_exits WHERE nip = $1 AND reinstated_from IS NULL', [e.nip]),
        first: (await value<string | null>(t, 'SELECT min(from_date) FROM staff_assignments WHERE nip = $1', [e.nip])) ?? null,
        back: (await value<string | null>(t, 'SELECT max(reinstated_from) FROM staff_exits WHERE nip = $1', [e.nip])) ?? null,
      });
      const row = (await one<ExitRow>(t, 'INSERT INTO staff_exits (nip, from_date, reason, note, ended_by, ended_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING *', [e.nip, e.from, e.reason, e.note ?? null, e.by, e.now]))!;
      await queueFrom(t, e.nip, e.from);
      await t.query("DELETE FROM att_months WHERE nip = $1 AND month || '-01' >= $2", [e.nip, e.from]);
      await syncServiceStatus(t, today);
      return row;
    });
  }
  async reinstate(r: { nip: string; from: string; by: string; now: string }): Promise<ExitRow> {
    await this.requireStaff(this.pool, r.nip);
    const today = await this.today(Date.parse(r.now));
    return inTransaction(this.pool, async (t) => {
      await t.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [LOCK_EMPLOYEE_MONTH, `exit|${r.nip}`]);
      const open = checkReinstate(r, await one<ExitRow>(t, 'SELECT * FROM staff_exits WHERE nip = $1 AND reinstated_from IS NULL', [r.nip]));
      const row = (await one<ExitRow>(t, 'UPDATE staff_exits SET reinstated_from = $1, reinstated_by = $2, reinstated_at = $3 WHERE id = $4 RETURNING *', [r.from, r.by, r.now, open.id]))!;
      await queueFrom(t, r.nip, r.from);
      await syncServiceStatus(t, today);
      return row;
    });
  }
  async syncServiceStatus(today: string): Promise<string[]> {
    return syncServiceStatus(this.pool, today);
  }

  // ---- organisation and imports --------------------------------------------------------------

  async importOrg(list: CsvRow[]): Promise<ImportResult> {
    const res: ImportResult = { created: 0, updated: 0, unchanged: 0, errors: [] };
    const seenSite = new Map<string, number>();
    await inTransaction(this.pool, async (t) => {
      for (const { line, values: v } of list) {
        const bad = (reason: string) => res.errors.push({ line, reason });
        const chk = checkOrgRow(v, line, seenSite);
        if ('error' in chk) { bad(chk.error); continue; }
        const { offset } = chk;
        const unit = await one<{ opd_code: string; name: string }>(t, 'SELECT opd_code, name FROM units WHERE code = $1', [v.unit_code]);
        if (unit && unit.opd_code !== v.opd_code) { bad(unitMoveError(v.unit_code!, unit.opd_code, v.opd_code!)); continue; }
        const opdName = await value<string>(t, 'SELECT name FROM opd WHERE code = $1', [v.opd_code]);
        const site = await one<{ unit_code: string; name: string; utc_offset_min: number | null }>(t, 'SELECT unit_code, name, utc_offset_min FROM sites WHERE code = $1', [v.site_code]);
        await t.query('INSERT INTO opd (code, name) VALUES ($1, $2) ON CONFLICT (code) DO UPDATE SET name = excluded.name', [v.opd_code, v.opd_name]);
        await t.query('INSERT INTO units (code, opd_code, name) VALUES ($1, $2, $3) ON CONFLICT (code) DO UPDATE SET name = excluded.name', [v.unit_code, v.opd_code, v.unit_name]);
        await t.query('INSERT INTO sites (code, unit_code, name, utc_offset_min) VALUES ($1, $2, $3, $4) ON CONFLICT (code) DO UPDATE SET unit_code = excluded.unit_code, name = excluded.name, utc_offset_min = excluded.utc_offset_min', [v.site_code, v.unit_code, v.site_name, offset]);
        if (!site) res.created++;
        else if (site.unit_code !== v.unit_code || site.name !== v.site_name || site.utc_offset_min !== offset || opdName !== v.opd_name || unit?.name !== v.unit_name) res.updated++;
        else res.unchanged++;
      }
    });
    return res;
  }

  async importStaff(list: CsvRow[], opts: { by: string; now: string; effective: string }): Promise<ImportResult & { transfers: number }> {
    const res = { created: 0, updated: 0, unchanged: 0, transfers: 0, errors: [] as LineError[] };
    const today = await this.today(Date.parse(opts.now));
    const seen = new Map<string, number>();
    await inTransaction(this.pool, async (t) => {
      const schedules = await this.schedules(t);
      // the lookups of the row checks (OPDs and units are a few hundred rows)
      const opds = new Set((await rows<{ code: string }>(t, 'SELECT code FROM opd')).map((r) => r.code));
      const units = new Map((await rows<{ code: string; opd_code: string }>(t, 'SELECT code, opd_code FROM units')).map((r) => [r.code, r.opd_code]));
      for (const { line, values: v } of list) {
        const bad = (reason: string) => res.errors.push({ line, reason });
        const chk = checkStaffRow(v, line, seen, schedules, { hasOpd: (c) => opds.has(c ?? ''), unitOpd: (c) => units.get(c ?? '') });
        if ('error' in chk) { bad(chk.error); continue; }
        const row = chk;
        const nip = row.nip;
        const args = [row.nip, row.name, row.opd, row.unit, row.employment, row.job_class, row.tpp_base, row.schedule, opts.now, opts.by];
        const cur = await one<{ name: string; opd_code: string; unit_code: string; employment: string; job_class: string | null; tpp_base: number; schedule_code: string; active: number }>(
          t, 'SELECT name, opd_code, unit_code, employment, job_class, tpp_base, schedule_code, active FROM staff WHERE nip = $1', [nip]);
        if (!cur) {
          await t.query(`INSERT INTO staff (nip, name, opd_code, unit_code, employment, job_class, tpp_base, schedule_code, active, updated_at, updated_by)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, $9, $10)`, args);
          await setAssignment(t, nip, '0000-01-01', row.unit, row.opd, row.schedule);
          res.created++;
          continue;
        }
        const out = await one<{ from_date: string; reason: string; reinstated_from: string | null }>(
          t, 'SELECT from_date, reason, reinstated_from FROM staff_exits WHERE nip = $1 AND from_date <= $2 AND (reinstated_from IS NULL OR reinstated_from > $2)', [nip, today]);
        if (out) { bad(exitedRowError(nip, out)); continue; }
        const moved = cur.unit_code !== row.unit || cur.opd_code !== row.opd || cur.schedule_code !== row.schedule;
        const same = !moved && cur.name === row.name && cur.employment === row.employment && cur.job_class === row.job_class && cur.tpp_base === row.tpp_base && cur.active === 1;
        if (same) { res.unchanged++; continue; }
        await t.query(`UPDATE staff SET name = $2, opd_code = $3, unit_code = $4, employment = $5, job_class = $6, tpp_base = $7, schedule_code = $8, active = 1,
          updated_at = $9, updated_by = $10 WHERE nip = $1`, args);
        if (moved) {
          await setAssignment(t, nip, opts.effective, row.unit, row.opd, row.schedule);
          await markDirty(t, nip, [opts.effective.slice(0, 7), ...(await derivedMonthsFrom(t, opts.effective.slice(0, 7)))]);
          res.transfers++;
        }
        if (cur.active !== 1) await markDirty(t, nip, await derivedMonthsFrom(t, '0000-00'));
        res.updated++;
      }
    });
    return res;
  }

  async transferStaff(x: { nip: string; unit: string; from: string; schedule?: string; by: string; now: string }): Promise<{ opd: string; schedule: string }> {
    if (!isDate(x.from)) throw new UserError(`date "${x.from}" is not YYYY-MM-DD`, 'write e.g. --from 2026-10-15');
    const cur = await one<{ schedule_code: string }>(this.pool, 'SELECT schedule_code FROM staff WHERE nip = $1', [x.nip]);
    if (!cur) throw new UserError(`NIP ${x.nip} is not in the staff list (pegawai tidak ditemukan)`, 'import it with hadir import staff');
    const opd = await value<string>(this.pool, 'SELECT opd_code FROM units WHERE code = $1', [x.unit]);
    if (!opd) throw new UserError(`unknown unit code "${x.unit}" (kode unit tidak dikenal)`, 'import it with hadir import org');
    const schedule = (x.schedule ?? cur.schedule_code).toUpperCase();
    if (!(await this.schedules()).has(schedule)) throw new UserError(`unknown schedule code "${schedule}"`, 'add it with hadir schedules add FILE');
    await inTransaction(this.pool, async (t) => {
      await setAssignment(t, x.nip, x.from, x.unit, opd, schedule);
      const last = (await one<{ unit_code: string; opd_code: string; schedule_code: string }>(t, 'SELECT unit_code, opd_code, schedule_code FROM staff_assignments WHERE nip = $1 ORDER BY from_date DESC LIMIT 1', [x.nip]))!;
      await t.query('UPDATE staff SET unit_code = $1, opd_code = $2, schedule_code = $3, updated_at = $4, updated_by = $5 WHERE nip = $6', [last.unit_code, last.opd_code, last.schedule_code, x.now, x.by, x.nip]);
      await markDirty(t, x.nip, [x.from.slice(0, 7), ...(await derivedMonthsFrom(t, x.from.slice(0, 7)))]);
    });
    return { opd, schedule };
  }

  async importPunches(list: CsvRow[], opts: { by: string; now: string }): Promise<{ created: number; unchanged: number; errors: LineError[] }> {
    const res = { created: 0, unchanged: 0, errors: [] as LineError[] };
    await inTransaction(this.pool, async (t) => {
      const staff = await knownNips(t, list);
      const sites = new Set((await rows<{ code: string }>(t, 'SELECT code FROM sites')).map((r) => r.code));
      for (const { line, values: v } of list) {
        const chk = checkPunchRow(v, { hasStaff: (n) => staff.has(n ?? ''), hasSite: (c) => sites.has(c ?? '') });
        if ('error' in chk) { res.errors.push({ line, reason: chk.error }); continue; }
        const { at, method } = chk;
        // once per employee, time and site (punches_import_key); its key in punch_keys, its body in its month partition
        if (await value(t, 'SELECT 1 FROM punches WHERE device_id IS NULL AND nip = $1 AND captured_at = $2 AND site_code = $3', [v.nip, at, v.site])) { res.unchanged++; continue; }
        const id = newId();
        await t.query('INSERT INTO punch_keys (id, device_id, seq, captured_at) VALUES ($1, NULL, NULL, $2)', [id, at]);
        await ensurePartition(t, at);
        await t.query(`INSERT INTO punches (id, device_id, seq, nip, method, captured_at, site_code, clock_synced, clock_source, received_at, imported_by, note, review_status)
          VALUES ($1, NULL, NULL, $2, $3, $4, $5, 1, 'import', $6, $7, $8, 'none')`, [id, chk.nip, method, at, chk.site, opts.now, opts.by, chk.note]);
        res.created++;
      }
    });
    return res;
  }

  async importKinerja(list: CsvRow[], opts: { by: string; now: string }): Promise<{ created: number; updated: number; unchanged: number; errors: LineError[] }> {
    const res = { created: 0, updated: 0, unchanged: 0, errors: [] as LineError[] };
    const seen = new Map<string, number>();
    await inTransaction(this.pool, async (t) => {
      const staff = await knownNips(t, list);
      for (const { line, values: v } of list) {
        const chk = checkKinerjaRow(v, line, seen, (n) => staff.has(n ?? ''));
        if ('error' in chk) { res.errors.push({ line, reason: chk.error }); continue; }
        const { score } = chk;
        const old = await value<number>(t, 'SELECT score FROM tpp_kinerja WHERE nip = $1 AND month = $2', [v.nip, v.month]);
        if (old === score) { res.unchanged++; continue; }
        await t.query(`INSERT INTO tpp_kinerja (nip, month, score, imported_by, imported_at) VALUES ($1, $2, $3, $4, $5)
          ON CONFLICT (nip, month) DO UPDATE SET score = excluded.score, imported_by = excluded.imported_by, imported_at = excluded.imported_at`, [v.nip, v.month, score, opts.by, opts.now]);
        if (old === undefined) res.created++;
        else res.updated++;
      }
    });
    return res;
  }

  async importHolidays(list: CsvRow[]): Promise<{ created: number; updated: number; errors: LineError[] }> {
    const res = { created: 0, updated: 0, errors: [] as LineError[] };
    const months = new Set<string>();
    await inTransaction(this.pool, async (t) => {
      const known = new Set((await rows<{ code: string }>(t, 'SELECT code FROM units')).map((r) => r.code));
      for (const { line, values: v } of list) {
        const chk = checkHolidayRow(v, (u) => known.has(u));
        if ('error' in chk) { res.errors.push({ line, reason: chk.error }); continue; }
        const { kind, units } = chk;
        if (await value(t, 'SELECT 1 FROM att_holidays WHERE date = $1', [v.date])) res.updated++;
        else res.created++;
        await t.query('INSERT INTO att_holidays (date, name, kind) VALUES ($1, $2, $3) ON CONFLICT (date) DO UPDATE SET name = excluded.name, kind = excluded.kind', [v.date, v.name, kind]);
        await t.query('DELETE FROM att_holiday_exceptions WHERE date = $1', [v.date]);
        for (const u of units) await t.query('INSERT INTO att_holiday_exceptions (date, unit_code) VALUES ($1, $2) ON CONFLICT DO NOTHING', [v.date, u]);
        months.add(v.date!.slice(0, 7));
      }
      await markDirty(t, '*', [...months]);
    });
    return res;
  }
  async removeHoliday(date: string): Promise<boolean> {
    return inTransaction(this.pool, async (t) => {
      await t.query('DELETE FROM att_holiday_exceptions WHERE date = $1', [date]);
      const n = (await t.query('DELETE FROM att_holidays WHERE date = $1', [date])).rowCount ?? 0;
      if (n) await markDirty(t, '*', [date.slice(0, 7)]);
      return n > 0;
    });
  }
  async listHolidays(year?: string): Promise<HolidayListRow[]> {
    return rows(
      this.pool,
      `SELECT h.date, h.name, h.kind, string_agg(e.unit_code, '|') AS ex FROM att_holidays h LEFT JOIN att_holiday_exceptions e ON e.date = h.date
       WHERE h.date LIKE $1 GROUP BY h.date, h.name, h.kind ORDER BY h.date`,
      [`${year ?? ''}%`],
    );
  }
  async addEvent(e: { date: string; site: string; name: string; opd?: string; unit?: string; nips?: string[]; by: string; now: string }): Promise<number> {
    const site = !!(await value(this.pool, 'SELECT 1 FROM sites WHERE code = $1', [e.site]));
    checkEvent(e, () => site);
    return inTransaction(this.pool, async (t) => {
      const id = await value<number>(t, 'INSERT INTO att_events (date, site_code, name, opd_code, unit_code, nips, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id',
        [e.date, e.site, e.name, e.opd ?? null, e.unit ?? null, e.nips?.join(',') ?? null, e.by, e.now]);
      await markDirty(t, '*', [e.date.slice(0, 7)]);
      return Number(id);
    });
  }
  async importRoster(list: CsvRow[]): Promise<{ created: number; updated: number; errors: LineError[] }> {
    const res = { created: 0, updated: 0, errors: [] as LineError[] };
    const dirty = new Map<string, Set<string>>();
    await inTransaction(this.pool, async (t) => {
      const schedulesByCode = await this.schedules(t);
      for (const { line, values: v } of list) {
        const chk = checkRosterRow(v, await value<string>(t, 'SELECT schedule_code FROM staff WHERE nip = $1', [v.nip]), schedulesByCode);
        if ('error' in chk) { res.errors.push({ line, reason: chk.error }); continue; }
        const { shift } = chk;
        const old = await value<string>(t, 'SELECT shift FROM att_roster WHERE nip = $1 AND date = $2', [v.nip, v.date]);
        if (old === shift) continue;
        await t.query('INSERT INTO att_roster (nip, date, shift) VALUES ($1, $2, $3) ON CONFLICT (nip, date) DO UPDATE SET shift = excluded.shift', [v.nip, v.date, shift]);
        if (old === undefined) res.created++;
        else res.updated++;
        const s = dirty.get(v.nip!) ?? new Set();
        s.add(v.date!.slice(0, 7));
        dirty.set(v.nip!, s);
      }
      for (const [nip, months] of dirty) await markDirty(t, nip, [...months]);
    });
    return res;
  }
  async addSchedule(s: Schedule, by: string, now: string): Promise<void> {
    await inTransaction(this.pool, async (t) => {
      await t.query(`INSERT INTO att_schedules (code, name, definition, updated_at, updated_by) VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (code) DO UPDATE SET name = excluded.name, definition = excluded.definition, updated_at = excluded.updated_at, updated_by = excluded.updated_by`, [s.code, s.name, JSON.stringify(s), now, by]);
      await markDirty(t, '*', await derivedMonthsFrom(t, '0000-00'));
    });
  }
  async addRule(rule: TppRule, by: string, now: string): Promise<'added' | 'unchanged'> {
    const def = JSON.stringify(rule);
    return inTransaction(this.pool, async (t) => {
      await t.query('LOCK TABLE tpp_rules IN SHARE ROW EXCLUSIVE MODE');
      for (const r of await rows<{ id: string; definition: string }>(t, 'SELECT id, definition FROM tpp_rules WHERE id = $1 OR effective_from = $2', [rule.id, rule.effectiveFrom])) {
        if (r.id === rule.id && r.definition === def) return 'unchanged';
        if (r.id === rule.id) throw new UserError(`rule ${rule.id} is already installed with different content (aturan sudah ada dengan isi berbeda)`, 'give the new Perbup version its own id');
        throw new UserError(`rule ${r.id} already takes effect on ${rule.effectiveFrom} (tanggal berlaku sama)`, 'each version needs its own effectiveFrom date');
      }
      await t.query('INSERT INTO tpp_rules (id, effective_from, definition, added_at, added_by) VALUES ($1, $2, $3, $4, $5)', [rule.id, rule.effectiveFrom, def, now, by]);
      await markDirty(t, '*', await derivedMonthsFrom(t, rule.effectiveFrom.slice(0, 7)));
      return 'added' as const;
    });
  }
  async listRules(): Promise<{ id: string; effective_from: string; added_at: string; added_by: string | null }[]> {
    return rows(this.pool, 'SELECT id, effective_from, added_at, added_by FROM tpp_rules ORDER BY effective_from');
  }

  // ---- derivation ----------------------------------------------------------------------------

  async queueLength(): Promise<number> {
    return Number(await value(this.pool, 'SELECT count(*) FROM att_dirty'));
  }

  /**
   * Drains the queue, a claimed batch per transaction, until no unclaimed row is left (rows another
   * worker holds are skipped: that worker derives them). Safe with any number of hub processes.
   */
  async derive(now: string): Promise<{ months: number; employees: number; changed: number }> {
    const total = { months: 0, employees: 0, changed: 0 };
    for (;;) {
      const r = await this.deriveBatch(now);
      if (!r) return total;
      total.months += r.months;
      total.employees += r.employees;
      total.changed += r.changed;
    }
  }
  /** The command line's drain: the same as the hub's. */
  settle(now: string) {
    return this.derive(now);
  }

  /**
   * One claim: queued rows are deleted and returned (FOR UPDATE SKIP LOCKED: rows another worker
   * claimed are not waited for), and the months they ask for are derived and written in the same
   * transaction. A failure or a dying process rolls back: the rows are queued again. A row queued
   * while this runs is not in the claim and stays queued.
   */
  private async deriveBatch(now: string): Promise<{ months: number; employees: number; changed: number } | null> {
    return inTransaction(this.pool, async (t) => {
      const claimed = await rows<DirtyRow & { id: number }>(
        t,
        'DELETE FROM att_dirty WHERE id IN (SELECT id FROM att_dirty ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED) RETURNING id, nip, month, captured_at',
        [CLAIM_BATCH],
      );
      if (!claimed.length) return null;
      const seq = Math.max(...claimed.map((r) => Number(r.id)));
      const months = [...new Set(claimed.flatMap(candidateMonths))];
      const nips = [...new Set(claimed.map((r) => r.nip).filter((n) => n !== '*'))];
      const derived = new Set((await rows<{ nip: string; month: string }>(t, 'SELECT nip, month FROM att_months WHERE month = ANY($1) AND nip = ANY($2)', [months, nips])).map((r) => `${r.nip}|${r.month}`));
      // one index probe per month (DISTINCT over the month's rows read every employee's entry: 100,000 in a province)
      const anyMonth = new Set((await rows<{ month: string }>(t, 'SELECT m AS month FROM unnest($1::text[]) AS m WHERE EXISTS (SELECT 1 FROM att_months WHERE month = m)', [months])).map((r) => r.month));
      const work = planDirtyRows(claimed, (nip, m) => derived.has(`${nip}|${m}`), (m) => anyMonth.has(m));
      let employees = 0;
      let changed = 0;
      for (const [month, who] of byMonth(work)) {
        const r = await this.recomputeIn(t, month, who === 'all' ? null : [...who].sort(), now, seq);
        employees += r.derived;
        changed += r.changed;
      }
      return { months: work.size, employees, changed };
    });
  }

  /** Derives the employees of a month that have no record for it yet. */
  async prepareMonth(month: string, now: string): Promise<void> {
    if ((await missingOf(this.pool, month)).length === 0) return;
    await inTransaction(this.pool, async (t) => {
      // under the month's lock, whoever else derived them meanwhile is seen
      await t.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [LOCK_MONTH, month]);
      const missing = await missingOf(t, month);
      if (missing.length) await this.recomputeIn(t, month, missing.length > WHOLE_MONTH_FROM ? null : missing.sort(), now, 0, true);
    });
  }

  /** Re-derives a whole month for everyone. */
  async recomputeMonth(month: string, now: string): Promise<{ derived: number; changed: number }> {
    return inTransaction(this.pool, (t) => this.recomputeIn(t, month, null, now, 0));
  }

  /**
   * Derives and writes a month for everyone (null) or these employees (sorted), in transaction t.
   * Locks first, then reads: a month whole (exclusive) for everyone or many employees, else the
   * month shared and each employee-month exclusive. Whoever derives an employee-month after
   * another waits for the other's commit and then reads inputs that include everything the other
   * saw and everything queued since — so the last write is never older than the last claimed change.
   */
  private async recomputeIn(t: pg.PoolClient, month: string, nips: string[] | null, now: string, seq: number, monthLocked = false): Promise<{ derived: number; changed: number }> {
    if (this.opts.lock !== false && !monthLocked) {
      if (nips === null || nips.length > EMPLOYEE_LOCKS_MAX) await t.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [LOCK_MONTH, month]);
      else {
        await t.query('SELECT pg_advisory_xact_lock_shared($1, hashtext($2))', [LOCK_MONTH, month]);
        // in NIP order: every worker takes employee locks in the same order (no deadlock)
        for (const nip of nips) await t.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [LOCK_EMPLOYEE_MONTH, `${nip}|${month}`]);
      }
    }
    const inputs = await loadInputs(t, month, nips);
    const ctx = await loadMonthContext(t, month, nips ? sitesFor(inputs) : null);
    const out: DerivedRow[] = [];
    for (const st of inputs.staff) {
      const row = monthRowOf(ctx, inputs, st, now, seq);
      if (row) out.push(row);
    }
    if (this.opts.afterRead) await this.opts.afterRead(month, nips);
    let changed = 0;
    for (let i = 0; i < out.length; i += WRITE_CHUNK) changed += await writeMonths(t, month, out.slice(i, i + WRITE_CHUNK));
    if (nips) {
      // employees asked for but no longer employed / active this month
      const seen = new Set(out.map((r) => r.nip));
      const gone = nips.filter((n) => !seen.has(n));
      if (gone.length) changed += (await t.query('DELETE FROM att_months WHERE nip = ANY($1) AND month = $2', [gone, month])).rowCount ?? 0;
    }
    return { derived: out.length, changed };
  }
}

// ---- SQL helpers shared by the methods ------------------------------------------------------

/** Which of the NIPs named in these rows are in the staff list (one query). */
async function knownNips(q: Q, list: CsvRow[]): Promise<Set<string>> {
  const nips = [...new Set(list.map((r) => r.values.nip).filter((n): n is string => !!n))];
  return new Set((await rows<{ nip: string }>(q, 'SELECT nip FROM staff WHERE nip = ANY($1)', [nips])).map((r) => r.nip));
}

async function markDirty(q: Q, nip: string, months: Iterable<string>): Promise<void> {
  const list = [...new Set(months)];
  if (list.length) await q.query('INSERT INTO att_dirty (nip, month) SELECT $1, m FROM unnest($2::text[]) AS m', [nip, list]);
}
async function derivedMonthsFrom(q: Q, month: string): Promise<string[]> {
  return (await rows<{ month: string }>(q, `SELECT DISTINCT month FROM att_months WHERE month >= $1 ORDER BY month`, [month])).map((r) => r.month);
}
async function queueFrom(q: Q, nip: string, from: string): Promise<void> {
  const month = from.slice(0, 7);
  await markDirty(q, nip, [month, ...(await derivedMonthsFrom(q, month))]);
}
async function setAssignment(q: Q, nip: string, from: string, unit: string, opd: string, schedule: string): Promise<void> {
  await q.query(`INSERT INTO staff_assignments (nip, from_date, unit_code, opd_code, schedule_code) VALUES ($1, $2, $3, $4, $5)
    ON CONFLICT (nip, from_date) DO UPDATE SET unit_code = excluded.unit_code, opd_code = excluded.opd_code, schedule_code = excluded.schedule_code`, [nip, from, unit, opd, schedule]);
}
async function syncServiceStatus(q: Q, today: string): Promise<string[]> {
  const list = await rows<{ nip: string; active: number; out: boolean }>(
    q,
    `SELECT s.nip, s.active, EXISTS (SELECT 1 FROM staff_exits e WHERE e.nip = s.nip AND e.from_date <= $1
        AND (e.reinstated_from IS NULL OR e.reinstated_from > $1)) AS out
      FROM staff s WHERE s.nip IN (SELECT nip FROM staff_exits)`,
    [today],
  );
  const changed: string[] = [];
  for (const r of list) {
    const active = r.out ? 0 : 1;
    if (r.active === active) continue;
    await q.query('UPDATE staff SET active = $1 WHERE nip = $2', [active, r.nip]);
    changed.push(r.nip);
  }
  return changed;
}
async function missingOf(q: Q, month: string): Promise<string[]> {
  const dates = monthDates(month);
  const { text, values } = named(MISSING_SQL, { month, first: dates[0], last: dates[dates.length - 1] });
  return (await rows<{ nip: string }>(q, text, values)).map((r) => r.nip);
}

/** The punch's month partition (as the core store makes them; an imported punch may be the first of its month). */
async function ensurePartition(q: Q, capturedAt: string): Promise<void> {
  const m = capturedAt.slice(0, 7);
  if (!/^20\d\d-(0[1-9]|1[0-2])$/.test(m)) return;
  const [y, mm] = m.split('-').map(Number) as [number, number];
  const next = mm === 12 ? `${y + 1}-01` : `${y}-${String(mm + 1).padStart(2, '0')}`;
  const name = `punches_${m.replace('-', '_')}`;
  if (await value(q, 'SELECT 1 FROM pg_class WHERE relname = $1', [name])) return;
  await q.query('SELECT pg_advisory_xact_lock($1)', [0x68616470]); // the core store's partition lock
  if (await value(q, 'SELECT 1 FROM pg_class WHERE relname = $1', [name])) return;
  // as the core store makes them (PgCoreStore.ensurePartitions): rows of that month in the default partition move in
  await q.query(`CREATE TABLE ${name} (LIKE punches INCLUDING DEFAULTS)`);
  await q.query(`WITH moved AS (DELETE FROM punches_other WHERE captured_at >= $1 AND captured_at < $2 RETURNING *) INSERT INTO ${name} SELECT * FROM moved`, [m, next]);
  await q.query(`ALTER TABLE punches ATTACH PARTITION ${name} FOR VALUES FROM ('${m}') TO ('${next}')`);
}

/**
 * The sites a derivation of these inputs looks at: those its punches were made at, and every site
 * of the employees' units (whether a unit has sites, its time zone: the first of its sites with an
 * offset, in code order). A late punch then reads a handful of sites, not a province's 14,000
 * (measured: that query was most of the incremental re-derivation at 30,000 staff).
 */
function sitesFor(inputs: Inputs): { codes: string[]; units: string[] } {
  const units = new Set(inputs.staff.map((s) => s.unit_code));
  for (const list of inputs.assignments.values()) for (const a of list) units.add(a.unit);
  return { codes: inputs.punches.siteCodes(), units: [...units] };
}

/** A month's context; `only`: just the sites of these codes and units (a few employees' derivation), else every site. */
async function loadMonthContext(q: Q, month: string, only: { codes: string[]; units: string[] } | null = null): Promise<MonthContext> {
  const dates = monthDates(month);
  const first = dates[0]!;
  const last = dates[dates.length - 1]!;
  return monthContextOf(month, {
    config: configOf(await rows(q, 'SELECT key, value FROM att_config')),
    schedules: schedulesOf(await rows(q, 'SELECT code, definition FROM att_schedules')),
    holidays: await rows(q, 'SELECT date, name, kind FROM att_holidays WHERE date BETWEEN $1 AND $2', [first, last]),
    holidayExceptions: await rows(q, 'SELECT date, unit_code FROM att_holiday_exceptions WHERE date BETWEEN $1 AND $2', [first, last]),
    sites: only
      ? await rows(q, `SELECT code, unit_code, utc_offset_min FROM sites WHERE code = ANY($1) OR unit_code = ANY($2) ORDER BY code${C}`, [only.codes, only.units])
      : await rows(q, `SELECT code, unit_code, utc_offset_min FROM sites ORDER BY code${C}`),
    events: await rows(q, 'SELECT id, date, site_code, name, opd_code, unit_code, nips FROM att_events WHERE date BETWEEN $1 AND $2 ORDER BY id', [first, last]),
    rules: rulesOf((await rows<{ definition: string }>(q, 'SELECT definition FROM tpp_rules ORDER BY effective_from')).map((r) => r.definition)),
  });
}

/** A month's per-employee inputs (as recompute.ts loads them on SQLite), for everyone (null) or these employees. */
async function loadInputs(q: Q, month: string, nips: string[] | null): Promise<Inputs> {
  const dates = monthDates(month);
  const first = dates[0]!;
  const last = dates[dates.length - 1]!;
  const range = monthPunchRange(month);
  const inputs: Inputs = { staff: [], assignments: new Map(), exceptions: new Map(), roster: new Map(), exits: new Map(), punches: new PunchTable() };
  const only = (col: string, n: number) => (nips ? ` AND ${col} = ANY($${n})` : '');
  const withNips = (args: unknown[]) => (nips ? [...args, nips] : args);
  const staffSql = named(`SELECT nip, unit_code, opd_code, schedule_code FROM staff WHERE ${STAFF_OF_MONTH}`, { first, last });
  inputs.staff = await rows<StaffRow>(q, `${staffSql.text}${only('nip', 3)} ORDER BY nip${C}`, withNips(staffSql.values));
  const fallback = new Map(inputs.staff.map((s) => [s.nip, s.schedule_code]));
  for (const r of await rows<{ nip: string; from_date: string; unit_code: string; opd_code: string; schedule_code: string | null }>(
    q, `SELECT nip, from_date, unit_code, opd_code, schedule_code FROM staff_assignments WHERE true${only('nip', 1)} ORDER BY nip${C}, from_date`, withNips([])))
    push(inputs.assignments, r.nip, { from: r.from_date, unit: r.unit_code, opd: r.opd_code, schedule: r.schedule_code ?? fallback.get(r.nip) ?? '' });
  for (const r of await rows<{ id: number; nip: string; type: string; from_date: string; to_date: string }>(
    q, `SELECT id, nip, type, from_date, to_date FROM att_exceptions WHERE status = 'approved' AND from_date <= $1 AND to_date >= $2${only('nip', 3)} ORDER BY from_date, id`, withNips([last, first])))
    push(inputs.exceptions, r.nip, { id: Number(r.id), type: r.type as ExceptionType, from: r.from_date, to: r.to_date });
  for (const r of await rows<{ nip: string; date: string; shift: string }>(q, `SELECT nip, date, shift FROM att_roster WHERE date BETWEEN $1 AND $2${only('nip', 3)}`, withNips([first, last]))) {
    let m = inputs.roster.get(r.nip);
    if (!m) inputs.roster.set(r.nip, (m = new Map()));
    if (r.shift !== 'OFF') m.set(r.date, r.shift);
  }
  for (const r of await rows<{ nip: string; from_date: string; reinstated_from: string | null }>(
    q, `SELECT nip, from_date, reinstated_from FROM staff_exits WHERE from_date <= $1 AND (reinstated_from IS NULL OR reinstated_from > $2)${only('nip', 3)} ORDER BY from_date, id`, withNips([last, first])))
    push(inputs.exits, r.nip, { from: r.from_date, until: r.reinstated_from });
  // captured_at in range, plus punches corrected into the range from outside it; the effective minute as SQLite's unixepoch()/60
  const addPunches = async (sql: string, args: unknown[]) => {
    const res = await q.query({ text: sql, values: args, rowMode: 'array' });
    for (const [nip, at, site, pending] of res.rows as [string, string, string | null, boolean][]) {
      const t = Date.parse(at);
      inputs.punches.add(nip, Number.isNaN(t) ? (null as unknown as number) : Math.floor(t / 60_000), site, pending);
    }
  };
  const eff = `CASE WHEN review_status = 'accepted' AND corrected_at IS NOT NULL THEN corrected_at ELSE captured_at END`;
  await addPunches(
    `SELECT nip, ${eff}, site_code, review_status = 'pending' FROM punches WHERE captured_at >= $1 AND captured_at < $2 AND review_status <> 'rejected'${only('nip', 3)} ORDER BY captured_at, id`,
    withNips([range.from, range.to]),
  );
  await addPunches(
    `SELECT nip, ${eff}, site_code, review_status = 'pending' FROM punches WHERE corrected_at >= $1 AND corrected_at < $2 AND (captured_at < $1 OR captured_at >= $2) AND review_status = 'accepted'${only('nip', 3)} ORDER BY corrected_at, id`,
    withNips([range.from, range.to]),
  );
  return inputs;
}

const MONTH_COLS = ['nip', 'month', 'opd_code', 'unit_code', 'days', 'deduction_pct', 'work_days', 'present_days', 'late_days', 'early_days', 'absent_days', 'missing_days', 'excused_days', 'pending_review', 'digest', 'input_seq', 'derived_at', 'changed_at'];

/** Upserts derived rows; unchanged content is not rewritten (changed_at says when it last changed). Returns the rows written. */
async function writeMonths(q: Q, month: string, list: DerivedRow[]): Promise<number> {
  if (!list.length) return 0;
  const args: unknown[] = [];
  const tuples = list.map((r) => {
    const v = [r.nip, month, r.opd, r.unit, r.days, r.deduction_pct, r.work_days, r.present_days, r.late_days, r.early_days, r.absent_days, r.missing_days, r.excused_days, r.pending_review, r.digest, r.seq, r.now, r.now];
    const base = args.length;
    args.push(...v);
    return `(${v.map((_, i) => `$${base + i + 1}`).join(', ')})`;
  });
  const res = await q.query(
    `INSERT INTO att_months (${MONTH_COLS.join(', ')}) VALUES ${tuples.join(', ')}
     ON CONFLICT (nip, month) DO UPDATE SET opd_code = excluded.opd_code, unit_code = excluded.unit_code, days = excluded.days,
       deduction_pct = excluded.deduction_pct, work_days = excluded.work_days, present_days = excluded.present_days,
       late_days = excluded.late_days, early_days = excluded.early_days, absent_days = excluded.absent_days,
       missing_days = excluded.missing_days, excused_days = excluded.excused_days, pending_review = excluded.pending_review,
       digest = excluded.digest, input_seq = excluded.input_seq, derived_at = excluded.derived_at, changed_at = excluded.changed_at
     WHERE att_months.days <> excluded.days OR att_months.opd_code IS DISTINCT FROM excluded.opd_code OR att_months.unit_code IS DISTINCT FROM excluded.unit_code`,
    args,
  );
  return res.rowCount ?? 0;
}
