import type { SqliteDb } from '../store/sqlite.js';
import { readConfig } from './inputs.js';

/**
 * Today's local date in the regency's zone at `now` (ms since the epoch, read from the caller's
 * Clock: lib/clock.ts), for "late today" and running months.
 */
export function localToday(db: SqliteDb, now: number): string {
  return new Date(now + readConfig(db).tzOffsetMin * 60_000).toISOString().slice(0, 10);
}
