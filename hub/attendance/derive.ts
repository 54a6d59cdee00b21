import type { CompiledSchedule, CompiledShift } from './schedule.js';
import { weeklyShift } from './schedule.js';
import { MIN_PER_DAY, dayIndex, formatClock, weekdayOf } from './time.js';
import { bandFor, bandLabel, excusedPct, ruleFor, type ExceptionType, type TppRule } from '../tpp/rules.js';

/**
 * Punches → day records for one employee-month. Pure: everything it needs is in the arguments,
 * so it is fast (no I/O per employee) and every number can be hand-checked in tests.
 */

export interface PunchIn {
  id: string;
  /** Effective UTC time in whole minutes since the epoch (corrected time if an admin corrected it). */
  utcMin: number;
  site: string | null;
  /** Clock-unverified and not yet reviewed: not counted, but reported. */
  pending: boolean;
}
export interface Assignment {
  from: string;
  unit: string;
  opd: string;
  schedule: string;
}
export interface ExceptionIn {
  id: number;
  type: ExceptionType;
  from: string;
  to: string;
}
export interface EventIn {
  id: number;
  name: string;
  site: string;
  opd: string | null;
  unit: string | null;
  nips: ReadonlySet<string> | null;
}
export interface MonthContext {
  month: string;
  dates: string[];
  schedules: ReadonlyMap<string, CompiledSchedule>;
  holidays: ReadonlyMap<string, { name: string; kind: string }>;
  /** `${date}|${unitCode}`: a direct-service unit that works on that holiday. */
  holidayExceptions: ReadonlySet<string>;
  /** Sorted by effectiveFrom ascending. */
  rules: readonly TppRule[];
  /** Maps (full month) or memoised database look-ups (one employee): only get/has are used. */
  siteUnit: { get(site: string): string | undefined };
  unitsWithSites: { has(unit: string): boolean };
  unitOffset: { get(unit: string): number | undefined };
  defaultOffset: number;
  /** 'unit': punches count at the sites of the employee's unit (plus relocation events); 'any': everywhere. */
  sitePolicy: 'unit' | 'any';
  events: ReadonlyMap<string, readonly EventIn[]>;
}
export interface EmployeeInput {
  nip: string;
  /** Sorted by `from` ascending; the last one not after a date applies. */
  assignments: readonly Assignment[];
  /** Sorted by utcMin ascending. */
  punches: readonly PunchIn[];
  /** Approved exceptions only. */
  exceptions: readonly ExceptionIn[];
  /** Roster schedules: date → shift key ('OFF' or absent = off). */
  roster: ReadonlyMap<string, string>;
  /**
   * Periods out of service (end of service, hub/org/exit.ts), sorted by `from`: days in
   * [from, until) are not_employed (until null = still out). Such a day that would have been a
   * working day keeps its shift key, so the exit month's TPP is paid pro rata (hub/tpp/compute.ts).
   */
  outOfService?: readonly ServiceGap[];
}
export interface ServiceGap {
  from: string;
  until: string | null;
}

export type DayStatus =
  | 'not_employed'
  | 'off'
  | 'holiday'
  | 'present'
  | 'late'
  | 'early'
  | 'late_early'
  | 'missing_in'
  | 'missing_out'
  | 'missing_mid'
  | 'absent'
  | ExceptionType;

export interface DeductionLine {
  rule: string;
  /** Which rule line: "late[2] 31–60 mnt", "absentPct", "excusedPct.cuti_sakit" … */
  item: string;
  pct: number;
}
export interface DayRecord {
  date: string;
  status: DayStatus;
  /** Short code as on Indonesian recaps: H, TL1–TL4, PSW1–PSW4, TAM, TAP, TK, CT, DL, L, LN … */
  code: string;
  unit: string | null;
  opd: string | null;
  schedule: string | null;
  /** Shift key (weekday, roster key) and the override (Ramadan) that set it. */
  shift: string | null;
  override: string | null;
  start: string | null;
  end: string | null;
  /** Local times (HH:MM, "+1" = next day) of the punches that satisfied each window. */
  in: string | null;
  mid: string | null;
  out: string | null;
  minutes_late: number;
  minutes_early: number;
  pct: number;
  rule: string | null;
  lines: DeductionLine[];
  holiday: string | null;
  exception_id: number | null;
  pending_review: number;
  other_site: number;
}

export const WORK_STATUSES: ReadonlySet<DayStatus> = new Set(['present', 'late', 'early', 'late_early', 'missing_in', 'missing_out', 'missing_mid', 'absent']);
const EXC_CODE: Record<ExceptionType, string> = {
  cuti_tahunan: 'CT',
  cuti_besar: 'CB',
  cuti_sakit: 'CS',
  cuti_melahirkan: 'CM',
  cuti_alasan_penting: 'CAP',
  cltn: 'CLTN',
  dinas_luar: 'DL',
  tugas_belajar: 'TB',
};

function outOfServiceOn(gaps: readonly ServiceGap[], date: string): boolean {
  for (const g of gaps) if (g.from <= date && (g.until === null || date < g.until)) return true;
  return false;
}

/** Holidays close offices; roster (direct-service) schedules and excepted units work through them. */
function closedOn(ctx: MonthContext, date: string, sched: CompiledSchedule, unit: string): { name: string; kind: string } | null {
  const hol = ctx.holidays.get(date);
  return hol && !sched.roster && !ctx.holidayExceptions.has(`${date}|${unit}`) ? hol : null;
}

function assignmentOn(list: readonly Assignment[], date: string): Assignment | null {
  let a: Assignment | null = null;
  for (const x of list) {
    if (x.from <= date) a = x;
    else break;
  }
  return a;
}

/** First index with utcMin >= t. */
function lowerBound(p: readonly PunchIn[], t: number): number {
  let lo = 0;
  let hi = p.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (p[mid]!.utcMin < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

type Window = CompiledShift['windows'][number];

/** Scratch list of a day's candidate punches (derivation is synchronous: one list serves every day). */
const CAND: number[] = [];

/** Shared by every day without deductions (most days): one array instead of millions. Never mutated. */
const NO_LINES: DeductionLine[] = Object.freeze([]) as unknown as DeductionLine[];

function addLine(day: DayRecord, rule: TppRule, item: string, pct: number): void {
  if (day.lines === NO_LINES) day.lines = [];
  day.lines.push({ rule: rule.id, item, pct });
  day.pct += pct;
}

/** Whether a punch's site counts for this employee on this day (site policy, relocation events). */
function siteOk(ctx: MonthContext, events: readonly EventIn[] | undefined, a: Assignment, nip: string, site: string | null): boolean {
  if (site === null || ctx.sitePolicy === 'any' || !ctx.unitsWithSites.has(a.unit)) return true;
  const su = ctx.siteUnit.get(site);
  if (su === undefined || su === a.unit) return true;
  if (events) for (const e of events) if (e.site === site && (e.nips ? e.nips.has(nip) : e.unit ? e.unit === a.unit : e.opd === a.opd)) return true;
  return false;
}

/** Earliest (or latest) candidate punch inside a window, skipping punches already taken; -1 if none. */
function pick(punches: readonly PunchIn[], cand: readonly number[], base: number, w: Window, latest: boolean, skip1: number, skip2: number): number {
  let best = -1;
  for (const i of cand) {
    if (i === skip1 || i === skip2) continue;
    const t = punches[i]!.utcMin - base;
    if (t < w.from || t > w.to) continue;
    if (!latest) return i; // candidates are in time order
    best = i;
  }
  return best;
}

function blank(date: string, status: DayStatus, code: string, a: Assignment | null): DayRecord {
  return {
    date, status, code,
    unit: a?.unit ?? null, opd: a?.opd ?? null, schedule: a?.schedule ?? null,
    shift: null, override: null, start: null, end: null, in: null, mid: null, out: null,
    minutes_late: 0, minutes_early: 0, pct: 0, rule: null, lines: NO_LINES, holiday: null, exception_id: null,
    pending_review: 0, other_site: 0,
  };
}

/** Per-month facts shared by every employee (computed once per context, not per employee-day). */
interface MonthDays {
  di: number[];
  weekday: number[];
  rule: (TppRule | null)[];
  /** schedule code → weekly shift of each date */
  weekly: Map<string, { shift: CompiledShift | null; override: string | null }[]>;
}
const monthCache = new WeakMap<MonthContext, MonthDays>();
function monthDays(ctx: MonthContext): MonthDays {
  let m = monthCache.get(ctx);
  if (!m) {
    const di = ctx.dates.map(dayIndex);
    m = { di, weekday: di.map(weekdayOf), rule: ctx.dates.map((d) => ruleFor(ctx.rules, d)), weekly: new Map() };
    monthCache.set(ctx, m);
  }
  return m;
}

export function deriveMonth(ctx: MonthContext, emp: EmployeeInput): DayRecord[] {
  const used = new Set<number>();
  const out: DayRecord[] = [];
  const md = monthDays(ctx);
  for (let i = 0; i < ctx.dates.length; i++) out.push(deriveDay(ctx, md, i, emp, used));
  return out;
}

function deriveDay(ctx: MonthContext, md: MonthDays, dayNo: number, emp: EmployeeInput, used: Set<number>): DayRecord {
  const date = ctx.dates[dayNo]!;
  const a = assignmentOn(emp.assignments, date);
  if (!a) return blank(date, 'not_employed', '-', null);
  const sched = ctx.schedules.get(a.schedule);
  if (!sched) throw new Error(`schedule ${a.schedule} of ${emp.nip} is not defined`);
  const di = md.di[dayNo]!;
  let shift: CompiledShift | null;
  let override: string | null = null;
  if (sched.roster) {
    const key = emp.roster.get(date);
    shift = key ? (sched.shifts.get(key) ?? null) : null;
  } else {
    let w = md.weekly.get(sched.code);
    if (!w) md.weekly.set(sched.code, (w = ctx.dates.map((d, i) => weeklyShift(sched, d, md.weekday[i]!))));
    ({ shift, override } = w[dayNo]!);
  }
  if (emp.outOfService && outOfServiceOn(emp.outOfService, date)) {
    const r = blank(date, 'not_employed', '-', null);
    if (shift && !closedOn(ctx, date, sched, a.unit)) r.shift = shift.key; // a working day lost to the exit
    return r;
  }
  const rule = md.rule[dayNo]!;
  if (!shift) {
    const r = blank(date, 'off', 'L', a);
    r.override = override;
    return r;
  }
  const day = blank(date, 'present', 'H', a);
  day.shift = shift.key;
  day.override = override;
  day.start = formatClock(shift.start);
  day.end = formatClock(shift.end);
  day.rule = rule?.id ?? null;

  const hol = closedOn(ctx, date, sched, a.unit);
  if (hol) {
    day.status = 'holiday';
    day.code = hol.kind === 'cuti_bersama' ? 'CB*' : 'LN';
    day.holiday = hol.name;
    day.start = day.end = null;
    return day;
  }

  let exc: ExceptionIn | undefined;
  for (const e of emp.exceptions) if (e.from <= date && e.to >= date) { exc = e; break; }
  if (exc) {
    day.status = exc.type;
    day.code = EXC_CODE[exc.type];
    day.exception_id = exc.id;
    if (rule) {
      day.pct = excusedPct(rule, exc.type);
      if (day.pct > 0) day.lines = [{ rule: rule.id, item: rule.excusedPct[exc.type] !== undefined ? `excusedPct.${exc.type}` : 'absentPct (cltn)', pct: day.pct }];
    }
    return day;
  }

  // Candidate punches of this day's windows.
  const off = ctx.unitOffset.get(a.unit) ?? ctx.defaultOffset;
  const base = di * MIN_PER_DAY - off; // local midnight of the shift date, in UTC minutes
  let wFrom = Number.POSITIVE_INFINITY;
  let wTo = Number.NEGATIVE_INFINITY;
  for (const w of shift.windows) {
    wFrom = Math.min(wFrom, w.from);
    wTo = Math.max(wTo, w.to);
  }
  const events = ctx.events.get(date);
  const cand = CAND;
  cand.length = 0;
  let okSite: string | null = null; // most punches of a day are at the same site: check it once
  for (let i = lowerBound(emp.punches, base + wFrom); i < emp.punches.length; i++) {
    const p = emp.punches[i]!;
    if (p.utcMin > base + wTo) break;
    if (used.has(i)) continue;
    if (p.pending) {
      day.pending_review++;
      continue;
    }
    if (p.site !== okSite) {
      if (!siteOk(ctx, events, a, emp.nip, p.site)) {
        day.other_site++;
        continue;
      }
      okSite = p.site;
    }
    cand.push(i);
  }
  let wIn: Window | undefined;
  let wOut: Window | undefined;
  let wMid: Window | undefined;
  for (const w of shift.windows) {
    if (w.kind === 'in') wIn = w;
    else if (w.kind === 'out') wOut = w;
    else wMid = w;
  }
  const iIn = wIn ? pick(emp.punches, cand, base, wIn, false, -1, -1) : -1;
  const iOut = wOut ? pick(emp.punches, cand, base, wOut, true, iIn, -1) : -1;
  const iMid = wMid ? pick(emp.punches, cand, base, wMid, false, iIn, iOut) : -1;
  day.in = iIn < 0 ? null : formatClock(emp.punches[iIn]!.utcMin - base);
  day.out = iOut < 0 ? null : formatClock(emp.punches[iOut]!.utcMin - base);
  day.mid = iMid < 0 ? null : formatClock(emp.punches[iMid]!.utcMin - base);
  if (iIn < 0 && iOut < 0 && iMid < 0) {
    day.status = 'absent';
    day.code = 'TK';
    if (rule) {
      day.pct = rule.absentPct;
      day.lines = [{ rule: rule.id, item: 'absentPct', pct: rule.absentPct }];
    }
    return day;
  }
  if (iIn >= 0) used.add(iIn);
  if (iOut >= 0) used.add(iOut);
  if (iMid >= 0) used.add(iMid);

  const grace = rule?.graceMinutes ?? 0;
  const codes: string[] = [];
  const missing: DayStatus[] = [];
  if (wIn && iIn < 0) {
    missing.push('missing_in');
    codes.push('TAM');
    if (rule) addLine(day, rule, 'missingCheckInPct', rule.missingCheckInPct);
  } else if (iIn >= 0) {
    day.minutes_late = Math.max(0, emp.punches[iIn]!.utcMin - base - shift.start - grace);
    if (day.minutes_late > 0) {
      const b = rule ? bandFor(rule.late, day.minutes_late) : null;
      codes.push(b ? `TL${b.index + 1}` : 'TL');
      if (b && rule) addLine(day, rule, `late[${b.index + 1}] ${bandLabel(rule.late[b.index]!)}`, b.pct);
    }
  }
  if (wMid && iMid < 0) {
    missing.push('missing_mid');
    codes.push('TAS');
    if (rule) addLine(day, rule, rule.missingMidPct !== undefined ? 'missingMidPct' : 'missingCheckOutPct (siang)', rule.missingMidPct ?? rule.missingCheckOutPct);
  }
  if (wOut && iOut < 0) {
    missing.push('missing_out');
    codes.push('TAP');
    if (rule) addLine(day, rule, 'missingCheckOutPct', rule.missingCheckOutPct);
  } else if (iOut >= 0) {
    day.minutes_early = Math.max(0, shift.end - (emp.punches[iOut]!.utcMin - base) - grace);
    if (day.minutes_early > 0) {
      const b = rule ? bandFor(rule.early, day.minutes_early) : null;
      codes.push(b ? `PSW${b.index + 1}` : 'PSW');
      if (b && rule) addLine(day, rule, `early[${b.index + 1}] ${bandLabel(rule.early[b.index]!)}`, b.pct);
    }
  }
  day.pct = Math.round(day.pct * 1e6) / 1e6;
  if (missing.length) day.status = missing[0]!;
  else if (day.minutes_late > 0 && day.minutes_early > 0) day.status = 'late_early';
  else if (day.minutes_late > 0) day.status = 'late';
  else if (day.minutes_early > 0) day.status = 'early';
  day.code = codes.length ? codes.join(' ') : 'H';
  return day;
}

/** Counts for the monthly totals. */
export interface MonthTotals {
  deduction_pct: number;
  work_days: number;
  present_days: number;
  late_days: number;
  early_days: number;
  absent_days: number;
  missing_days: number;
  excused_days: number;
  pending_review: number;
}
export function totals(days: readonly DayRecord[]): MonthTotals {
  const t: MonthTotals = { deduction_pct: 0, work_days: 0, present_days: 0, late_days: 0, early_days: 0, absent_days: 0, missing_days: 0, excused_days: 0, pending_review: 0 };
  for (const d of days) {
    t.deduction_pct += d.pct;
    t.pending_review += d.pending_review;
    if (d.status === 'not_employed' || d.status === 'off' || d.status === 'holiday') continue;
    t.work_days++;
    if (d.status === 'absent') t.absent_days++;
    else if (WORK_STATUSES.has(d.status) || d.status === 'dinas_luar') t.present_days++; // a duty elsewhere counts as present
    else t.excused_days++;
    if (d.minutes_late > 0) t.late_days++;
    if (d.minutes_early > 0) t.early_days++;
    if (d.status.startsWith('missing_')) t.missing_days++;
  }
  t.deduction_pct = Math.round(t.deduction_pct * 1e6) / 1e6;
  return t;
}
