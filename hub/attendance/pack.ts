import type { DayRecord } from './derive.js';
import { dateOf, dayIndex } from './time.js';

/**
 * Day records are stored as one JSON document per employee-month:
 *   {"v":2,"first":"2026-10-01","schedule":"KANTOR5","rule":"perbup-2026-01","days":[{…},…]}
 * Day i is the date first+i. Fields at their default are left out: null, 0, [], the month's unit
 * and OPD (att_months columns), and the document's schedule and rule. A province's month is
 * 3 million day records; this keeps it near 100 bytes a day.
 */
export interface MonthKeys {
  unit: string | null;
  opd: string | null;
}

function mostCommon(values: (string | null)[]): string | null {
  const n = new Map<string, number>();
  let best: string | null = null;
  let bestN = 0;
  for (const v of values) {
    if (v === null) continue;
    const c = (n.get(v) ?? 0) + 1;
    n.set(v, c);
    if (c > bestN) (best = v), (bestN = c);
  }
  return best;
}

export function packDays(days: readonly DayRecord[], m: MonthKeys): string {
  // Written as a string, field by field: this runs for every day of every employee on a full
  // recompute. Values our code formats (statuses, codes, HH:MM) need no escaping; codes and names
  // from admins go through JSON.stringify.
  const q = JSON.stringify;
  const schedule = mostCommon(days.map((d) => d.schedule));
  const rule = mostCommon(days.map((d) => d.rule));
  // Pieces go into an array joined once: `out +=` made a rope of ~600 pieces per employee, all
  // kept alive until the month is written (1.4 GB and most of the GC time for 100,000 staff).
  const out: string[] = [`{"v":2,"first":"${days[0]?.date ?? ''}","schedule":${q(schedule)},"rule":${q(rule)},"days":[`];
  for (let i = 0; i < days.length; i++) {
    const d = days[i]!;
    if (i) out.push(',');
    out.push(`{"status":"${d.status}","code":"${d.code}"`);
    if (d.status !== 'not_employed') {
      if (d.unit !== m.unit) out.push(`,"unit":${q(d.unit)}`);
      if (d.opd !== m.opd) out.push(`,"opd":${q(d.opd)}`);
      if (d.schedule !== schedule) out.push(`,"schedule":${q(d.schedule)}`);
    }
    if (d.shift !== null) out.push(`,"shift":${q(d.shift)}`);
    if (d.override !== null) out.push(`,"override":${q(d.override)}`);
    if (d.start !== null) out.push(`,"start":"${d.start}"`);
    if (d.end !== null) out.push(`,"end":"${d.end}"`);
    if (d.in !== null) out.push(`,"in":"${d.in}"`);
    if (d.mid !== null) out.push(`,"mid":"${d.mid}"`);
    if (d.out !== null) out.push(`,"out":"${d.out}"`);
    if (d.minutes_late) out.push(`,"minutes_late":${d.minutes_late}`);
    if (d.minutes_early) out.push(`,"minutes_early":${d.minutes_early}`);
    if (d.pct) out.push(`,"pct":${d.pct}`);
    if (d.rule !== rule) out.push(`,"rule":${q(d.rule)}`);
    if (d.lines.length) out.push(`,"lines":${q(d.lines)}`);
    if (d.holiday !== null) out.push(`,"holiday":${q(d.holiday)}`);
    if (d.exception_id !== null) out.push(`,"exception_id":${d.exception_id}`);
    if (d.pending_review) out.push(`,"pending_review":${d.pending_review}`);
    if (d.other_site) out.push(`,"other_site":${d.other_site}`);
    out.push('}');
  }
  out.push(']}');
  return out.join('');
}

export function unpackDays(json: string, m: MonthKeys): DayRecord[] {
  const parsed = JSON.parse(json) as { first: string; schedule: string | null; rule: string | null; days: Partial<DayRecord>[] } | Partial<DayRecord>[];
  // rows written by the first format (a bare array, each day with its date) are still readable
  const doc = Array.isArray(parsed) ? { first: parsed[0]?.date ?? '1970-01-01', schedule: null, rule: null, days: parsed } : parsed;
  const arr = doc.days;
  const first = dayIndex(doc.first);
  const out: DayRecord[] = new Array(arr.length);
  for (let i = 0; i < arr.length; i++) {
    const o = arr[i]!;
    const none = o.status === 'not_employed';
    // built field by field (no object spread): reports unpack every day of every employee
    out[i] = {
      date: dateOf(first + i),
      status: o.status!,
      code: o.code!,
      unit: none ? null : o.unit !== undefined ? o.unit : m.unit,
      opd: none ? null : o.opd !== undefined ? o.opd : m.opd,
      schedule: none ? null : o.schedule !== undefined ? o.schedule : doc.schedule,
      shift: o.shift ?? null,
      override: o.override ?? null,
      start: o.start ?? null,
      end: o.end ?? null,
      in: o.in ?? null,
      mid: o.mid ?? null,
      out: o.out ?? null,
      minutes_late: o.minutes_late ?? 0,
      minutes_early: o.minutes_early ?? 0,
      pct: o.pct ?? 0,
      rule: o.rule !== undefined ? o.rule : doc.rule,
      lines: o.lines ?? [],
      holiday: o.holiday ?? null,
      exception_id: o.exception_id ?? null,
      pending_review: o.pending_review ?? 0,
      other_site: o.other_site ?? 0,
    };
  }
  return out;
}
