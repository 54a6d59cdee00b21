import { z } from 'zod';
import { isMonth, MONTH_RE } from '../attendance/time.js';

/**
 * Query and body fields more than one route (and the CLI) checks: one schema each, so a month or
 * an instant is accepted and refused alike everywhere.
 */

/** A calendar month `YYYY-MM` (01–12). */
export const monthSchema = z.string().refine(isMonth, 'month must be YYYY-MM, e.g. 2026-10');

/** The pattern of a month, for OpenAPI documents. */
export const MONTH_PATTERN = MONTH_RE.source;

const INSTANT_MSG = 'expected ISO-8601 date or date-time, e.g. 2026-11-24T07:00:00+07:00';

/** ISO-8601 with offset, or a plain date (taken as UTC midnight) → UTC ISO. */
export const instantSchema = z
  .string()
  .refine((s) => /^\d{4}-\d{2}-\d{2}(T.*)?$/.test(s) && !Number.isNaN(Date.parse(s)), INSTANT_MSG)
  .transform((s) => new Date(/^\d{4}-\d{2}-\d{2}$/.test(s) ? `${s}T00:00:00Z` : s).toISOString());
