import type { SqliteDb } from '../store/sqlite.js';
import { readConfig } from './inputs.js';

/** The I/O edge reads the clock once and hands plain values to the pure code. */
export function nowIso(): string {
  return new Date().toISOString();
}
/** Today's local date in the regency's zone (for "late today" and running months). */
export function localToday(db: SqliteDb, now = Date.now()): string {
  return new Date(now + readConfig(db).tzOffsetMin * 60_000).toISOString().slice(0, 10);
}
