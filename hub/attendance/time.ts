import { z } from 'zod';

/**
 * Calendar arithmetic on plain numbers: a date is a day index (days since 1970-01-01), a time is
 * minutes. Indonesia has no daylight saving, so a local time is UTC plus a fixed offset
 * (WIB +420, WITA +480, WIT +540 minutes) and no time-zone database is needed.
 */
export const MIN_PER_DAY = 1440;

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
export const MONTH_RE = /^(\d{4})-(0[1-9]|1[0-2])$/;

/** A calendar date YYYY-MM-DD in a zod schema (files, HTTP bodies). */
export const dateSchema = z.string().refine(isDate, 'expected a date YYYY-MM-DD');

export function isDate(s: string): boolean {
  const m = DATE_RE.exec(s);
  if (!m) return false;
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
}
export function isMonth(s: string): boolean {
  return MONTH_RE.test(s);
}

export function dayIndex(date: string): number {
  return Math.floor(Date.parse(`${date}T00:00:00Z`) / 86_400_000);
}
export function dateOf(dayIdx: number): string {
  return new Date(dayIdx * 86_400_000).toISOString().slice(0, 10);
}
/** 0 = Sunday … 6 = Saturday. */
export function weekdayOf(dayIdx: number): number {
  return (((dayIdx + 4) % 7) + 7) % 7; // 1970-01-01 was a Thursday
}
export function monthOf(date: string): string {
  return date.slice(0, 7);
}
export function monthDates(month: string): string[] {
  const [y, m] = month.split('-').map(Number) as [number, number];
  const n = new Date(Date.UTC(y, m, 0)).getUTCDate();
  const out: string[] = [];
  for (let d = 1; d <= n; d++) out.push(`${month}-${String(d).padStart(2, '0')}`);
  return out;
}
export function nextMonth(month: string): string {
  const [y, m] = month.split('-').map(Number) as [number, number];
  return m === 12 ? `${y + 1}-01` : `${y}-${String(m + 1).padStart(2, '0')}`;
}

/** "07:30" → 450; "07:00+1" (next day) → 1860. */
export function parseClock(s: string): number {
  const m = /^(\d{2}):(\d{2})(\+1)?$/.exec(s);
  if (!m) throw new Error(`bad time ${s}`);
  return Number(m[1]) * 60 + Number(m[2]) + (m[3] ? MIN_PER_DAY : 0);
}
const clockCache: string[] = [];
const CACHE_FROM = -MIN_PER_DAY;
const CACHE_TO = 3 * MIN_PER_DAY;
/** 450 → "07:30"; 1860 → "07:00+1" (cached: called for every punch of every derived day). */
export function formatClock(min: number): string {
  if (min >= CACHE_FROM && min < CACHE_TO) return (clockCache[min - CACHE_FROM] ??= formatClockRaw(min));
  return formatClockRaw(min);
}
function formatClockRaw(min: number): string {
  const day = Math.floor(min / MIN_PER_DAY);
  const r = min - day * MIN_PER_DAY;
  const s = `${String(Math.floor(r / 60)).padStart(2, '0')}:${String(r % 60).padStart(2, '0')}`;
  return day === 0 ? s : `${s}${day > 0 ? '+' : ''}${day}`;
}

/** UTC ISO-8601 → whole minutes since the epoch (seconds dropped: 07:30:59 is 07:30). */
export function utcMinutes(iso: string): number {
  return Math.floor(Date.parse(iso) / 60_000);
}

/** Local wall time of a UTC ISO instant as "YYYY-MM-DDTHH:MM" for an offset in minutes. */
export function localStamp(iso: string, offsetMin: number): string {
  return new Date(Date.parse(iso) + offsetMin * 60_000).toISOString().slice(0, 16);
}

export function offsetLabel(offsetMin: number): string {
  return offsetMin === 420 ? 'WIB' : offsetMin === 480 ? 'WITA' : offsetMin === 540 ? 'WIT' : `UTC${offsetMin >= 0 ? '+' : '-'}${formatClock(Math.abs(offsetMin))}`;
}
