import type { DayRecord } from './derive.js';

/**
 * Day records are stored as one JSON document per employee-month. Fields at their default
 * (null, 0, [], the month's unit/OPD/schedule) are left out: a province-sized month is 3 million
 * day records, and this keeps it to a few hundred MB instead of a gigabyte.
 */
const DEFAULTS: Omit<DayRecord, 'date' | 'status' | 'code'> = {
  unit: null, opd: null, schedule: null, shift: null, override: null, start: null, end: null,
  in: null, mid: null, out: null, minutes_late: 0, minutes_early: 0, pct: 0, rule: null, lines: [],
  holiday: null, exception_id: null, pending_review: 0, other_site: 0,
};
export interface MonthKeys {
  unit: string | null;
  opd: string | null;
  schedule: string | null;
}

export function packDays(days: readonly DayRecord[], m: MonthKeys): string {
  const out: Record<string, unknown>[] = [];
  for (const d of days) {
    const o: Record<string, unknown> = { date: d.date, status: d.status, code: d.code };
    for (const k of Object.keys(DEFAULTS) as (keyof typeof DEFAULTS)[]) {
      const v = d[k];
      if (v === null || v === 0 || (Array.isArray(v) && v.length === 0)) continue;
      if ((k === 'unit' || k === 'opd' || k === 'schedule') && v === m[k]) continue;
      o[k] = v;
    }
    // an assigned day whose unit is null would be indistinguishable from "same as month": mark it
    if (d.status === 'not_employed') o.unit = null;
    out.push(o);
  }
  return JSON.stringify(out);
}

export function unpackDays(json: string, m: MonthKeys): DayRecord[] {
  const arr = JSON.parse(json) as Record<string, unknown>[];
  return arr.map((o) => {
    const d = { ...DEFAULTS, unit: m.unit, opd: m.opd, schedule: m.schedule, lines: [], ...o } as unknown as DayRecord;
    if (o.status === 'not_employed') {
      d.unit = d.opd = d.schedule = null;
    }
    return d;
  });
}
