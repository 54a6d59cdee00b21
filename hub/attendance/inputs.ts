import type { SqliteDb } from '../store/sqlite.js';
import { UserError } from '../../lib/errors.js';
import { compileSchedule, scheduleSchema, BUILTIN_SCHEDULES, type CompiledSchedule, type Schedule } from './schedule.js';
import type { EventIn, MonthContext } from './derive.js';
import { dateOf, dayIndex, isMonth, monthDates, monthOf } from './time.js';
import { tppRuleSchema, type TppRule } from '../tpp/rules.js';

/** Reading the attendance inputs that are shared by every employee of a month. */

export interface AttConfig {
  tzOffsetMin: number;
  sitePolicy: 'unit' | 'any';
}
export function readConfig(db: SqliteDb): AttConfig {
  return configOf(db.prepare('SELECT key, value FROM att_config').all() as { key: string; value: string }[]);
}
/** The settings from att_config rows (both stores). */
export function configOf(rows: { key: string; value: string }[]): AttConfig {
  const m = new Map(rows.map((r) => [r.key, r.value]));
  return {
    tzOffsetMin: m.has('tz_offset_min') ? Number(m.get('tz_offset_min')) : 420,
    sitePolicy: m.get('site_policy') === 'any' ? 'any' : 'unit',
  };
}
export function writeConfig(db: SqliteDb, key: 'tz_offset_min' | 'site_policy', value: string): void {
  db.prepare('INSERT INTO att_config (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, value);
}

/** Built-in schedules, replaced by a stored one of the same code. */
export function loadSchedules(db: SqliteDb): Map<string, Schedule> {
  return schedulesOf(db.prepare('SELECT code, definition FROM att_schedules').all() as { code: string; definition: string }[]);
}
/** Built-in schedules and the stored ones (att_schedules rows; both stores). */
export function schedulesOf(rows: { code: string; definition: string }[]): Map<string, Schedule> {
  const out = new Map<string, Schedule>(BUILTIN_SCHEDULES.map((s) => [s.code, s]));
  for (const r of rows) out.set(r.code, scheduleSchema.parse(JSON.parse(r.definition)));
  return out;
}

export function loadRules(db: SqliteDb): TppRule[] {
  return rulesOf(db.prepare('SELECT definition FROM tpp_rules ORDER BY effective_from').pluck().all() as string[]);
}
/** Rule versions from their stored definitions, in effective_from order (both stores). */
export function rulesOf(definitions: string[]): TppRule[] {
  return definitions.map((d) => tppRuleSchema.parse(JSON.parse(d)));
}

/** The rows a month's shared context is made of (as both stores read them). */
export interface MonthContextRows {
  config: AttConfig;
  schedules: Map<string, Schedule>;
  holidays: { date: string; name: string; kind: string }[];
  holidayExceptions: { date: string; unit_code: string }[];
  /** every site (PostgreSQL, a few employees: the sites their derivation looks at), in code order */
  sites: { code: string; unit_code: string; utc_offset_min: number | null }[];
  events: EventRow[];
  rules: TppRule[];
}
type EventRow = { id: number; date: string; site_code: string; name: string; opd_code: string | null; unit_code: string | null; nips: string | null };

/** Pure: a month's context from its rows (sites loaded whole). */
export function monthContextOf(month: string, r: MonthContextRows): MonthContext {
  const dates = monthDates(month);
  const schedules = new Map<string, CompiledSchedule>();
  for (const [code, s] of r.schedules) schedules.set(code, compileSchedule(s));
  const offsets = new Map<string, number>();
  for (const s of r.sites) if (s.utc_offset_min !== null && !offsets.has(s.unit_code)) offsets.set(s.unit_code, s.utc_offset_min);
  return {
    month, dates, schedules,
    holidays: new Map(r.holidays.map((h) => [h.date, { name: h.name, kind: h.kind }])),
    holidayExceptions: new Set(r.holidayExceptions.map((x) => `${x.date}|${x.unit_code}`)),
    rules: r.rules,
    siteUnit: new Map(r.sites.map((s) => [s.code, s.unit_code])),
    unitsWithSites: new Set(r.sites.map((s) => s.unit_code)),
    unitOffset: offsets,
    defaultOffset: r.config.tzOffsetMin, sitePolicy: r.config.sitePolicy,
    events: eventsOf(r.events),
  };
}
function eventsOf(rows: EventRow[]): Map<string, EventIn[]> {
  const events = new Map<string, EventIn[]>();
  for (const e of rows) {
    const list = events.get(e.date) ?? [];
    list.push({ id: e.id, name: e.name, site: e.site_code, opd: e.opd_code, unit: e.unit_code, nips: e.nips ? new Set(e.nips.split(',')) : null });
    events.set(e.date, list);
  }
  return events;
}

function memo<T>(stmt: { get(...a: unknown[]): unknown }, map: (v: unknown) => T): { get(k: string): T } {
  const cache = new Map<string, T>();
  return {
    get(k: string): T {
      if (cache.has(k)) return cache.get(k)!;
      const v = map(stmt.get(k));
      cache.set(k, v);
      return v;
    },
  };
}

/** `few`: the context serves a handful of employees (incremental re-derivation). */
export function loadMonthContext(db: SqliteDb, month: string, few = false): MonthContext {
  const dates = monthDates(month);
  const first = dates[0]!;
  const last = dates[dates.length - 1]!;
  const cfg = readConfig(db);
  const schedules = new Map<string, CompiledSchedule>();
  for (const [code, s] of loadSchedules(db)) schedules.set(code, compileSchedule(s));
  const holidays = new Map(
    (db.prepare('SELECT date, name, kind FROM att_holidays WHERE date BETWEEN ? AND ?').all(first, last) as { date: string; name: string; kind: string }[]).map((h) => [h.date, { name: h.name, kind: h.kind }]),
  );
  const holidayExceptions = new Set(
    (db.prepare('SELECT date, unit_code FROM att_holiday_exceptions WHERE date BETWEEN ? AND ?').all(first, last) as { date: string; unit_code: string }[]).map((r) => `${r.date}|${r.unit_code}`),
  );
  let siteUnit: MonthContext['siteUnit'];
  let unitsWithSites: MonthContext['unitsWithSites'];
  let unitOffset: MonthContext['unitOffset'];
  if (few) {
    // a few employees (a late punch): look sites up as needed instead of loading a province's sites
    siteUnit = memo(db.prepare('SELECT unit_code FROM sites WHERE code = ?').pluck(), (v) => (v as string | undefined) ?? undefined);
    unitsWithSites = { has: memo(db.prepare('SELECT 1 FROM sites WHERE unit_code = ? LIMIT 1').pluck(), (v) => v !== undefined).get };
    unitOffset = memo(db.prepare('SELECT utc_offset_min FROM sites WHERE unit_code = ? AND utc_offset_min IS NOT NULL ORDER BY code LIMIT 1').pluck(), (v) => (v as number | undefined) ?? undefined);
  } else {
    const sites = db.prepare('SELECT s.code, s.unit_code, s.utc_offset_min FROM sites s ORDER BY s.code').all() as { code: string; unit_code: string; utc_offset_min: number | null }[];
    siteUnit = new Map(sites.map((s) => [s.code, s.unit_code]));
    unitsWithSites = new Set(sites.map((s) => s.unit_code));
    const offsets = new Map<string, number>();
    for (const s of sites) if (s.utc_offset_min !== null && !offsets.has(s.unit_code)) offsets.set(s.unit_code, s.utc_offset_min);
    unitOffset = offsets;
  }
  const events = eventsOf(db.prepare('SELECT id, date, site_code, name, opd_code, unit_code, nips FROM att_events WHERE date BETWEEN ? AND ?').all(first, last) as EventRow[]);
  return {
    month, dates, schedules, holidays, holidayExceptions, rules: loadRules(db), siteUnit, unitsWithSites, unitOffset,
    defaultOffset: cfg.tzOffsetMin, sitePolicy: cfg.sitePolicy, events,
  };
}

/**
 * UTC ISO bounds that cover every punch that can belong to a local day of the month: windows lie
 * between 00:00 of a day and 23:59 of the next (HH:MM+1), in any zone from WIB (+7) to WIT (+9).
 */
export function monthPunchRange(month: string): { from: string; to: string } {
  const dates = monthDates(month);
  return {
    from: `${dateOf(dayIndex(dates[0]!) - 1)}T15:00:00`, // 00:00 WIT of the 1st
    to: `${dateOf(dayIndex(dates[dates.length - 1]!) + 2)}T00:00:00`, // after 23:59 WIB of the day after the last
  };
}

/** Months whose days a punch at this UTC instant may belong to (any Indonesian zone; night shift of the day before). */
export function monthsOfPunch(capturedAt: string): string[] {
  const t = Date.parse(capturedAt);
  if (Number.isNaN(t)) return [];
  const a = monthOf(new Date(t + 7 * 3_600_000 - 86_400_000).toISOString());
  const b = monthOf(new Date(t + 9 * 3_600_000).toISOString());
  return a === b ? [a] : [a, b];
}

export function requireMonth(month: string): void {
  if (!isMonth(month)) throw new UserError(`month "${month}" is not YYYY-MM`, 'write e.g. --month 2026-10');
}
