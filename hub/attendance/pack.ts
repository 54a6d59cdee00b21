import type { DayRecord } from './derive.js';

/**
 * Day records are stored as one JSON document per employee-month. Fields at their default
 * (null, 0, [], the month's unit/OPD) are left out: a province-sized month is 3 million
 * day records, and this keeps it to a few hundred MB instead of a gigabyte.
 */
export interface MonthKeys {
  unit: string | null;
  opd: string | null;
  schedule?: string | null;
}

export function packDays(days: readonly DayRecord[], m: MonthKeys): string {
  // Written as a string, field by field: this runs for every day of every employee on a full
  // recompute, and skipping the intermediate objects halves its cost. Values our code formats
  // (dates, statuses, codes, HH:MM) need no escaping; codes and names from admins go through JSON.stringify.
  const q = JSON.stringify;
  let out = '[';
  for (let i = 0; i < days.length; i++) {
    const d = days[i]!;
    if (i) out += ',';
    out += `{"date":"${d.date}","status":"${d.status}","code":"${d.code}"`;
    if (d.status === 'not_employed') out += ',"unit":null'; // distinguishes "no assignment" from "same as the month"
    else {
      if (d.unit !== m.unit) out += `,"unit":${q(d.unit)}`;
      if (d.opd !== m.opd) out += `,"opd":${q(d.opd)}`;
      if (d.schedule !== null) out += `,"schedule":${q(d.schedule)}`; // always: the month row stores no schedule
    }
    if (d.shift !== null) out += `,"shift":${q(d.shift)}`;
    if (d.override !== null) out += `,"override":${q(d.override)}`;
    if (d.start !== null) out += `,"start":"${d.start}"`;
    if (d.end !== null) out += `,"end":"${d.end}"`;
    if (d.in !== null) out += `,"in":"${d.in}"`;
    if (d.mid !== null) out += `,"mid":"${d.mid}"`;
    if (d.out !== null) out += `,"out":"${d.out}"`;
    if (d.minutes_late) out += `,"minutes_late":${d.minutes_late}`;
    if (d.minutes_early) out += `,"minutes_early":${d.minutes_early}`;
    if (d.pct) out += `,"pct":${d.pct}`;
    if (d.rule !== null) out += `,"rule":${q(d.rule)}`;
    if (d.lines.length) out += `,"lines":${q(d.lines)}`;
    if (d.holiday !== null) out += `,"holiday":${q(d.holiday)}`;
    if (d.exception_id !== null) out += `,"exception_id":${d.exception_id}`;
    if (d.pending_review) out += `,"pending_review":${d.pending_review}`;
    if (d.other_site) out += `,"other_site":${d.other_site}`;
    out += '}';
  }
  return out + ']';
}

export function unpackDays(json: string, m: MonthKeys): DayRecord[] {
  const arr = JSON.parse(json) as Partial<DayRecord>[];
  const out: DayRecord[] = new Array(arr.length);
  for (let i = 0; i < arr.length; i++) {
    const o = arr[i]!;
    const none = o.status === 'not_employed';
    // built field by field (no object spread): reports unpack every day of every employee
    out[i] = {
      date: o.date!,
      status: o.status!,
      code: o.code!,
      unit: none ? null : o.unit !== undefined ? o.unit : m.unit,
      opd: none ? null : o.opd !== undefined ? o.opd : m.opd,
      schedule: none ? null : (o.schedule ?? null),
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
      rule: o.rule ?? null,
      lines: o.lines ?? [],
      holiday: o.holiday ?? null,
      exception_id: o.exception_id ?? null,
      pending_review: o.pending_review ?? 0,
      other_site: o.other_site ?? 0,
    };
  }
  return out;
}
