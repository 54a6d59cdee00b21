import type { SqliteDb } from '../store/sqlite.js';
import { deriveMonth, totals, type Assignment, type DayRecord, type EmployeeInput, type ExceptionIn, type MonthContext, type PunchIn, type ServiceGap } from './derive.js';
import { loadMonthContext, monthPunchRange, monthsOfPunch } from './inputs.js';
import { packDays } from './pack.js';
import { deriveMonthRowsAsync, deriveMonthRowsParallel } from './derive-parallel.js';
import { dateOf, dayIndex, monthDates } from './time.js';
import type { ExceptionType } from '../tpp/rules.js';

/**
 * Keeps att_months current. Inputs are loaded in bulk (a month of punches in one query), each
 * employee-month is derived by the pure deriver, and the results are written in transactions of WRITE_CHUNK rows.
 * An employee-month is rewritten only if its content changed (compared in SQL), and `changed_at` says when.
 */

export interface StaffRow {
  nip: string;
  unit_code: string;
  opd_code: string;
  schedule_code: string;
}

/**
 * A punch as the deriver needs it, computed in SQL: the effective UTC minute (the admin-corrected
 * time of an accepted punch), the site, and whether it still waits for review. Rejected punches are
 * left out. unixepoch() in SQL instead of parsing millions of ISO strings in JS.
 */
type PunchRow = [nip: string, utcMin: number, site: string | null, pending: number];
const PUNCH_COLS = `nip,
  unixepoch(CASE WHEN review_status = 'accepted' AND corrected_at IS NOT NULL THEN corrected_at ELSE captured_at END) / 60,
  site_code, review_status = 'pending'`;

/** Loaded in time order already, except the rare corrected punch: sort only when needed. */
export function sortPunches(list: PunchIn[]): PunchIn[] {
  for (let i = 1; i < list.length; i++) if (list[i - 1]!.utcMin > list[i]!.utcMin) return list.sort((a, b) => a.utcMin - b.utcMin);
  return list;
}

export interface Inputs {
  staff: StaffRow[];
  assignments: Map<string, Assignment[]>;
  exceptions: Map<string, ExceptionIn[]>;
  roster: Map<string, Map<string, string>>;
  exits: Map<string, ServiceGap[]>;
  punches: PunchTable;
}

/**
 * A month of punches held compactly: per employee one array of small integers (minute, then
 * site number × 2 + pending), sites interned. A province's month is 4.3 million punches; as one
 * object each they kept the heap so large that garbage collection took 40 % of the recompute.
 * PunchIn objects are made per employee when derived, and die young.
 */
export class PunchTable {
  private readonly byNip = new Map<string, number[]>();
  private readonly siteIds = new Map<string | null, number>();
  private readonly sites: (string | null)[] = [];
  add(nip: string, utcMin: number, site: string | null, pending: boolean): void {
    let sid = this.siteIds.get(site);
    if (sid === undefined) this.siteIds.set(site, (sid = this.sites.push(site) - 1));
    const list = this.byNip.get(nip);
    if (list) list.push(utcMin, sid * 2 + (pending ? 1 : 0));
    else this.byNip.set(nip, [utcMin, sid * 2 + (pending ? 1 : 0)]);
  }
  get(nip: string): PunchIn[] {
    const list = this.byNip.get(nip);
    if (!list) return [];
    const out: PunchIn[] = new Array(list.length / 2);
    for (let i = 0; i < list.length; i += 2) out[i / 2] = { id: '', utcMin: list[i]!, site: this.sites[list[i + 1]! >> 1]!, pending: (list[i + 1]! & 1) === 1 };
    return out;
  }
  delete(nip: string): void {
    this.byNip.delete(nip);
  }
  /** The sites the punches were made at. */
  siteCodes(): string[] {
    return this.sites.filter((s): s is string => s !== null);
  }
}

export function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const l = m.get(k);
  if (l) l.push(v);
  else m.set(k, [v]);
}

/**
 * Whose inputs to load: everyone (null), a few employees (a list), or a NIP range [from, to) —
 * the share of one thread in a parallel full-month recompute (derive-parallel.ts).
 */
export type StaffSelection = string[] | null | { from: string; to: string };

/**
 * The staff derived for a month (parameters @first, @last: its first and last date): those in
 * service now, and those whose end of service (staff_exits, hub/org/exit.ts) leaves them in service
 * on some day of it — an exit after the 1st, or a reinstatement by its last day.
 */
export const STAFF_OF_MONTH = `(active = 1 OR nip IN (SELECT nip FROM staff_exits WHERE from_date > @first OR reinstated_from <= @last))`;

/** Loads the per-employee inputs of a month for a selection of employees. */
function loadInputs(db: SqliteDb, month: string, sel: StaffSelection): Inputs {
  const nips = Array.isArray(sel) ? sel : null;
  // a NIP range narrows every bulk query (bounds are bound parameters; NIPs are digits only)
  const range_ = sel && !Array.isArray(sel) ? sel : null;
  const inRange = (col: string) => (range_ ? ` AND ${col} >= @lo AND ${col} < @hi` : '');
  const rp = range_ ? { lo: range_.from, hi: range_.to } : {};
  const dates = monthDates(month);
  const first = dates[0]!;
  const last = dates[dates.length - 1]!;
  const range = monthPunchRange(month);
  const inputs: Inputs = { staff: [], assignments: new Map(), exceptions: new Map(), roster: new Map(), exits: new Map(), punches: new PunchTable() };
  const addAssignment = (r: { nip: string; from_date: string; unit_code: string; opd_code: string; schedule_code: string | null }, fallback: string) =>
    push(inputs.assignments, r.nip, { from: r.from_date, unit: r.unit_code, opd: r.opd_code, schedule: r.schedule_code ?? fallback });
  const addException = (r: { id: number; nip: string; type: string; from_date: string; to_date: string }) =>
    push(inputs.exceptions, r.nip, { id: r.id, type: r.type as ExceptionType, from: r.from_date, to: r.to_date });
  const addRoster = (r: { nip: string; date: string; shift: string }) => {
    let m = inputs.roster.get(r.nip);
    if (!m) inputs.roster.set(r.nip, (m = new Map()));
    if (r.shift !== 'OFF') m.set(r.date, r.shift);
  };
  const addExit = (r: { nip: string; from_date: string; reinstated_from: string | null }) => push(inputs.exits, r.nip, { from: r.from_date, until: r.reinstated_from });
  const punches = inputs.punches;
  const addPunch = (r: PunchRow) => punches.add(r[0], r[1], r[2], r[3] === 1);
  const sqlStaff = `SELECT nip, unit_code, opd_code, schedule_code FROM staff WHERE ${STAFF_OF_MONTH}`;
  const sqlStaffAll = sqlStaff + inRange('nip');
  const sqlAssign = 'SELECT nip, from_date, unit_code, opd_code, schedule_code FROM staff_assignments';
  const sqlExc = "SELECT id, nip, type, from_date, to_date FROM att_exceptions WHERE status = 'approved' AND from_date <= ? AND to_date >= ?";
  const sqlRoster = 'SELECT nip, date, shift FROM att_roster WHERE date BETWEEN ? AND ?';
  const sqlExit = 'SELECT nip, from_date, reinstated_from FROM staff_exits WHERE from_date <= @last AND (reinstated_from IS NULL OR reinstated_from > @first)';
  // captured_at in range, plus punches corrected into the range from outside it
  const sqlPunch = `SELECT ${PUNCH_COLS} FROM punches WHERE captured_at >= ? AND captured_at < ? AND review_status <> 'rejected'`;
  const sqlCorr = `SELECT ${PUNCH_COLS} FROM punches WHERE corrected_at >= ? AND corrected_at < ? AND (captured_at < ? OR captured_at >= ?) AND review_status = 'accepted'`;

  db.transaction(() => {
    if (nips === null) {
      inputs.staff = db.prepare(sqlStaffAll + ' ORDER BY nip').all({ ...rp, first, last }) as StaffRow[];
      const fallback = new Map(inputs.staff.map((s) => [s.nip, s.schedule_code]));
      for (const r of db.prepare(sqlAssign + (range_ ? ' WHERE nip >= @lo AND nip < @hi' : '') + ' ORDER BY nip, from_date').iterate(rp) as Iterable<Parameters<typeof addAssignment>[0]>) addAssignment(r, fallback.get(r.nip) ?? '');
      // the positional queries shared with the per-employee branch, as named ones (plus the NIP range)
      const named = (sql: string, names: string[]) => names.reduce((q, n) => q.replace('?', `@${n}`), sql);
      for (const r of db.prepare(named(sqlExc, ['last', 'first']) + inRange('nip') + ' ORDER BY from_date').iterate({ ...rp, last, first }) as Iterable<Parameters<typeof addException>[0]>) addException(r);
      for (const r of db.prepare(named(sqlRoster, ['first', 'last']) + inRange('nip')).iterate({ ...rp, first, last }) as Iterable<Parameters<typeof addRoster>[0]>) addRoster(r);
      for (const r of db.prepare(sqlExit + inRange('nip') + ' ORDER BY from_date').iterate({ ...rp, first, last }) as Iterable<Parameters<typeof addExit>[0]>) addExit(r);
      // a time slice per query: all() is much faster than iterate() per row, and a slice bounds the memory
      const qDay = db.prepare(named(sqlPunch, ['a', 'b']) + inRange('nip')).raw();
      const bounds = [range.from];
      const step = 2; // hours per query: a smaller result array dies young (less GC than a day's)
      for (let d = dayIndex(range.from.slice(0, 10)) + 1; d < dayIndex(range.to.slice(0, 10)); d++) for (let h = 0; h < 24; h += step) bounds.push(`${dateOf(d)}T${String(h).padStart(2, '0')}:00:00`);
      bounds.push(range.to);
      for (let i = 0; i + 1 < bounds.length; i++) for (const r of qDay.all({ ...rp, a: bounds[i], b: bounds[i + 1] }) as PunchRow[]) addPunch(r);
      const qCorr = db.prepare(named(sqlCorr, ['a', 'b', 'c', 'd']) + inRange('nip')).raw();
      for (const r of qCorr.iterate({ ...rp, a: range.from, b: range.to, c: range.from, d: range.to }) as Iterable<PunchRow>) addPunch(r);
    } else {
      const qStaff = db.prepare(sqlStaff + ' AND nip = ?');
      const qAssign = db.prepare(sqlAssign + ' WHERE nip = ? ORDER BY from_date');
      const qExc = db.prepare(sqlExc + ' AND nip = ? ORDER BY from_date');
      const qRoster = db.prepare(sqlRoster + ' AND nip = ?');
      const qExit = db.prepare(sqlExit + ' AND nip = @nip ORDER BY from_date');
      const qPunch = db.prepare(sqlPunch + ' AND nip = ?').raw();
      const qCorr = db.prepare(sqlCorr + ' AND nip = ?').raw();
      for (const nip of nips) {
        const s = qStaff.get({ first, last }, nip) as StaffRow | undefined;
        if (!s) continue;
        inputs.staff.push(s);
        for (const r of qAssign.all(nip) as Parameters<typeof addAssignment>[0][]) addAssignment(r, s.schedule_code);
        for (const r of qExc.all(last, first, nip) as Parameters<typeof addException>[0][]) addException(r);
        for (const r of qRoster.all(first, last, nip) as Parameters<typeof addRoster>[0][]) addRoster(r);
        for (const r of qExit.all({ first, last, nip }) as Parameters<typeof addExit>[0][]) addExit(r);
        for (const r of qPunch.all(range.from, range.to, nip) as PunchRow[]) addPunch(r);
        for (const r of qCorr.all(range.from, range.to, range.from, range.to, nip) as PunchRow[]) addPunch(r);
      }
    }
  })();
  return inputs;
}

const NO_ROSTER: ReadonlyMap<string, string> = new Map();

export interface DerivedMonth {
  nip: string;
  month: string;
  opd: string | null;
  unit: string | null;
  days: DayRecord[];
}

/** Pure: one loaded employee's month (null when not employed in it). */
export function deriveEmployee(ctx: MonthContext, inputs: Inputs, s: StaffRow): DerivedMonth | null {
  const emp: EmployeeInput = {
    nip: s.nip,
    // staff without assignment rows: the staff row applies to every day
    assignments: inputs.assignments.get(s.nip) ?? [{ from: '0000-01-01', unit: s.unit_code, opd: s.opd_code, schedule: s.schedule_code }],
    punches: sortPunches(inputs.punches.get(s.nip)),
    exceptions: inputs.exceptions.get(s.nip) ?? [],
    roster: inputs.roster.get(s.nip) ?? NO_ROSTER,
    outOfService: inputs.exits.get(s.nip),
  };
  const days = deriveMonth(ctx, emp);
  let lastAssigned: DayRecord | undefined;
  for (let i = days.length - 1; i >= 0 && !lastAssigned; i--) if (days[i]!.status !== 'not_employed') lastAssigned = days[i];
  if (!lastAssigned) return null;
  return { nip: s.nip, month: ctx.month, opd: lastAssigned.opd, unit: lastAssigned.unit, days };
}

export function inputSeq(db: SqliteDb): number {
  return (db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'att_dirty'").pluck().get() as number | undefined) ?? 0;
}

/** Rows per write transaction of a month (~0.5 s for 10,000 on the 2-core reference machine). */
const WRITE_CHUNK = 10_000;

/** One employee-month as written to att_months (named parameters of the upsert). */
export type MonthRow = Record<string, unknown> & { nip: string };

/**
 * Loads and derives a month for a selection of employees; returns the rows to write (the compact
 * packed JSON only: a province is 3 million day records). Reads only — safe on any connection.
 */
export function deriveMonthRows(db: SqliteDb, month: string, sel: StaffSelection, now: string, seq: number): MonthRow[] {
  const ctx = loadMonthContext(db, month, Array.isArray(sel) && sel.length < 50);
  const inputs = loadInputs(db, month, sel);
  const rows: MonthRow[] = [];
  for (const st of inputs.staff) {
    const row = monthRowOf(ctx, inputs, st, now, seq);
    if (row) rows.push(row);
  }
  return rows;
}

/** Pure: one loaded employee's month as the row to store (null when not employed in it); frees its punches. */
export function monthRowOf(ctx: MonthContext, inputs: Inputs, st: StaffRow, now: string, seq: number): MonthRow | null {
  const m = deriveEmployee(ctx, inputs, st);
  inputs.punches.delete(st.nip);
  if (!m) return null;
  return { nip: m.nip, month: ctx.month, opd: m.opd, unit: m.unit, days: packDays(m.days, m), ...totals(m.days), digest: '', seq, now };
}

/**
 * Derives and stores a month for everyone (nips null) or the given employees. Returns how many
 * employee-months changed. `now` is the timestamp written to derived_at/changed_at. A whole month
 * of a large organisation is derived on several threads (derive-parallel.ts); the writing is done
 * here, in chunks (monthWriter).
 */
export function recomputeMonth(db: SqliteDb, month: string, nips: string[] | null, now: string, seq = inputSeq(db), opts: { threads?: number; writeChunk?: number } = {}): { derived: number; changed: number; threads: number } {
  const { rows, threads } = nips === null ? deriveMonthRowsParallel(db, month, now, seq, opts.threads) : { rows: deriveMonthRows(db, month, nips, now, seq), threads: 1 };
  const w = monthWriter(db, month, rows, nips, seq, opts.writeChunk);
  while (w.next()) {}
  return { derived: rows.length, changed: w.changed, threads };
}

/**
 * The same for everyone, without blocking this thread: every NIP range is derived on a worker and
 * the chunks are written with a turn of the event loop between them. For the hub, where a
 * province's month (~20 s) must not stop ingest and the dashboard.
 */
export async function recomputeMonthAsync(
  db: SqliteDb,
  month: string,
  now: string,
  seq = inputSeq(db),
  opts: { threads?: number; writeChunk?: number; nips?: string[] | null } = {},
): Promise<{ derived: number; changed: number; threads: number }> {
  const { rows, threads } = await deriveMonthRowsAsync(db, month, now, seq, opts.threads);
  const w = monthWriter(db, month, rows, opts.nips ?? null, seq, opts.writeChunk);
  while (w.next()) await new Promise((r) => setImmediate(r));
  return { derived: rows.length, changed: w.changed, threads };
}

/**
 * Writes derived rows, one transaction of `chunk` rows per next() (false when done): a province's
 * month (100,000 rows, ~5 s) in one transaction would hold SQLite's write lock past the hub
 * ingest's busy timeout. Each row stands on its own (input_seq keeps an older derivation from
 * overwriting a newer one); a crash midway leaves the queue entries in att_dirty, so the month is
 * derived again.
 */
function monthWriter(db: SqliteDb, month: string, rows: MonthRow[], nips: string[] | null, seq: number, chunk = WRITE_CHUNK) {
  const upsert = db.prepare(`INSERT INTO att_months (nip, month, opd_code, unit_code, days, deduction_pct, work_days, present_days, late_days, early_days,
      absent_days, missing_days, excused_days, pending_review, digest, input_seq, derived_at, changed_at)
    VALUES (@nip, @month, @opd, @unit, @days, @deduction_pct, @work_days, @present_days, @late_days, @early_days,
      @absent_days, @missing_days, @excused_days, @pending_review, @digest, @seq, @now, @now)
    ON CONFLICT (nip, month) DO UPDATE SET opd_code = excluded.opd_code, unit_code = excluded.unit_code, days = excluded.days,
      deduction_pct = excluded.deduction_pct, work_days = excluded.work_days, present_days = excluded.present_days,
      late_days = excluded.late_days, early_days = excluded.early_days, absent_days = excluded.absent_days,
      missing_days = excluded.missing_days, excused_days = excluded.excused_days, pending_review = excluded.pending_review,
      digest = excluded.digest, input_seq = excluded.input_seq, derived_at = excluded.derived_at, changed_at = excluded.changed_at
    WHERE att_months.input_seq <= excluded.input_seq AND (att_months.days <> excluded.days OR att_months.opd_code IS NOT excluded.opd_code OR att_months.unit_code IS NOT excluded.unit_code)`);
  const drop = db.prepare('DELETE FROM att_months WHERE nip = ? AND month = ? AND input_seq <= ?');
  const seen = new Set<string>();
  let i = 0;
  const w = {
    changed: 0,
    next(): boolean {
      if (i > 0 && i >= rows.length) return false;
      db.transaction(() => {
        for (const row of rows.slice(i, i + chunk)) {
          seen.add(row.nip);
          // unchanged content is not rewritten (a province's month is 300 MB): derived_at is the last change too
          if (upsert.run(row).changes) w.changed++;
        }
        // employees asked for but no longer employed / active this month
        if (nips && i + chunk >= rows.length) for (const nip of nips) if (!seen.has(nip) && drop.run(nip, month, seq).changes) w.changed++;
      })();
      i += chunk;
      return i < rows.length;
    },
  };
  return w;
}

function monthOfPunchWib(capturedAt: string): string {
  return new Date(Date.parse(capturedAt) + 7 * 3_600_000).toISOString().slice(0, 7);
}

/** Queue a re-derivation (a leave approved, a holiday changed …): nip '*' = everyone. */
export function markDirty(db: SqliteDb, nip: string, months: Iterable<string>): void {
  const ins = db.prepare('INSERT INTO att_dirty (nip, month) VALUES (?, ?)');
  for (const m of new Set(months)) ins.run(nip, m);
}

/** Months already derived from `month` on (a rule or schedule change affects them all). */
export function derivedMonthsFrom(db: SqliteDb, month: string): string[] {
  return db.prepare('SELECT DISTINCT month FROM att_months WHERE month >= ? ORDER BY month').pluck().all(month) as string[];
}

/** Months covering a date range (inclusive). */
export function monthsBetween(from: string, to: string): string[] {
  const out: string[] = [];
  let m = from.slice(0, 7);
  const end = to.slice(0, 7);
  while (m <= end) {
    out.push(m);
    const [y, mm] = m.split('-').map(Number) as [number, number];
    m = mm === 12 ? `${y + 1}-01` : `${y}-${String(mm + 1).padStart(2, '0')}`;
  }
  return out;
}

export type DirtyWork = Map<string, Set<string> | 'all'>;
/** A queued input: a month (nip '*' = everyone) or a punch time. */
export type DirtyRow = { nip: string; month: string | null; captured_at: string | null };

/** What the queue asks for, up to `seq`: per month, everyone ('all') or these employees. */
function planDirty(db: SqliteDb, seq: number): DirtyWork | null {
  const rows = db.prepare('SELECT nip, month, captured_at FROM att_dirty WHERE id <= ?').all(seq) as DirtyRow[];
  if (!rows.length) return null;
  const hasMonth = db.prepare('SELECT 1 FROM att_months WHERE nip = ? AND month = ?').pluck();
  const anyMonth = db.prepare('SELECT 1 FROM att_months WHERE month = ? LIMIT 1').pluck();
  return planDirtyRows(rows, (nip, m) => !!hasMonth.get(nip, m), (m) => !!anyMonth.get(m));
}

/** The months a queued row may touch, before checking which were derived (both stores ask about these). */
export function candidateMonths(r: DirtyRow): string[] {
  return r.month ? [r.month] : monthsOfPunch(r.captured_at ?? '');
}

/**
 * Pure: the work the queued rows ask for, given which employee-months (hasMonth) and months
 * (anyMonth) were derived before. Shared by both stores.
 */
export function planDirtyRows(rows: DirtyRow[], hasMonth: (nip: string, month: string) => boolean, anyMonth: (month: string) => boolean): DirtyWork {
  const work: DirtyWork = new Map();
  for (const r of rows) {
    let months = candidateMonths(r);
    // A punch near a month boundary may belong to either month (zones, night shifts): the other
    // month is re-derived only if it was derived before; otherwise it is derived when first read.
    if (!r.month && months.length > 1 && r.nip !== '*') {
      const kept = months.filter((m) => hasMonth(r.nip, m));
      months = kept.length ? kept : [monthOfPunchWib(r.captured_at!)];
    }
    for (const month of months) {
      // an explicit month (leave, holiday, rule …) that was never derived is derived when first read
      if (r.month && (r.nip === '*' ? !anyMonth(month) : !hasMonth(r.nip, month))) continue;
      const cur = work.get(month);
      if (cur === 'all') continue;
      if (r.nip === '*') work.set(month, 'all');
      else if (cur) cur.add(r.nip);
      else work.set(month, new Set([r.nip]));
    }
  }
  return work;
}

/** At most this many employees (over all months) are derived on the calling thread, in one transaction. */
const SMALL_WORK = 50;
const isSmall = (work: DirtyWork) => [...work.values()].every((w) => w !== 'all') && [...work.values()].reduce((n, w) => n + (w as Set<string>).size, 0) <= SMALL_WORK;
export const byMonth = (work: DirtyWork) => [...work].sort(([a], [b]) => a.localeCompare(b));

/**
 * Drains the queue: every employee-month whose inputs changed (whoever changed them: the hub's
 * ingest, a CLI import, an approval) is re-derived. Safe to run from several processes.
 * Synchronous: for the command line's one-shot processes; the hub uses processDirtyAsync.
 */
export function processDirty(db: SqliteDb, now: string): { months: number; employees: number; changed: number } {
  const seq = inputSeq(db);
  const work = planDirty(db, seq);
  if (!work) return { months: 0, employees: 0, changed: 0 };
  let employees = 0;
  let changed = 0;
  const run = () => {
    for (const [month, who] of byMonth(work)) {
      const r = recomputeMonth(db, month, who === 'all' ? null : [...who], now, seq);
      employees += r.derived;
      changed += r.changed;
    }
    db.prepare('DELETE FROM att_dirty WHERE id <= ?').run(seq);
  };
  // A few employees (a late punch): one transaction, one fsync. Whole months: several short
  // transactions, so the hub's ingest is never locked out for long.
  if (isSmall(work)) db.transaction(run).immediate();
  else run();
  return { months: work.size, employees, changed };
}

/**
 * processDirty for the hub, never blocking its event loop for long: a few employees (a late
 * punch) are derived here in one short transaction as before; anything larger — a whole month
 * after a rule change, or more than SMALL_WORK employees of a month — is derived on worker
 * threads (derive-parallel.ts) and written in chunks with a turn of the event loop between them.
 * Employees asked for who are no longer in the month lose their record, as in recomputeMonth.
 */
export async function processDirtyAsync(db: SqliteDb, now: string, opts: { threads?: number } = {}): Promise<{ months: number; employees: number; changed: number }> {
  const seq = inputSeq(db);
  const work = planDirty(db, seq);
  if (!work) return { months: 0, employees: 0, changed: 0 };
  if (isSmall(work)) return processDirty(db, now);
  let employees = 0;
  let changed = 0;
  for (const [month, who] of byMonth(work)) {
    const r =
      who !== 'all' && who.size <= SMALL_WORK
        ? recomputeMonth(db, month, [...who], now, seq)
        : await recomputeMonthAsync(db, month, now, seq, { threads: opts.threads, nips: who === 'all' ? null : [...who] });
    employees += r.derived;
    changed += r.changed;
  }
  db.prepare('DELETE FROM att_dirty WHERE id <= ?').run(seq);
  return { months: work.size, employees, changed };
}
