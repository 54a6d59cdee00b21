import { z } from 'zod';
import { UserError } from '../../lib/errors.js';
import type { CoreStore, PunchRow } from '../store/core-store.js';
import { toCsv, type CsvDialect } from './csv.js';

const instant = (flag: string) =>
  z
    .string()
    .optional()
    .transform((s, ctx) => {
      if (s === undefined) return undefined;
      const t = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(s) ? `${s}T00:00:00Z` : s);
      if (!/^\d{4}-\d{2}-\d{2}/.test(s) || Number.isNaN(t)) {
        ctx.addIssue({ code: 'custom', message: `${flag} ${JSON.stringify(s)} is not an ISO-8601 date or date-time` });
        return z.NEVER;
      }
      return new Date(t).toISOString();
    });

const optsSchema = z.object({
  from: instant('--from'),
  to: instant('--to'),
  device: z.string().optional(),
  nip: z.string().optional(),
  format: z.enum(['json', 'csv'], { message: '--format must be json or csv' }),
});

export const PUNCH_CSV_COLUMNS: (keyof PunchRow)[] = [
  'id', 'deviceId', 'seq', 'nip', 'method', 'capturedAt', 'siteCode', 'clockSynced', 'clockSource', 'clockOffsetMs',
  'score', 'liveness', 'hasPhoto', 'receivedAt', 'reviewStatus',
];

/** `hadir report punches`: every matching punch, ordered by capture time, as a JSON array or CSV with a header. */
export async function renderPunchReport(store: CoreStore, o: { from?: string; to?: string; device?: string; nip?: string; format: string; csvDialect?: CsvDialect }): Promise<string> {
  const r = optsSchema.safeParse(o);
  if (!r.success) throw new UserError(r.error.issues.map((i) => i.message).join('; '), 'e.g. --from 2026-11-01 --to 2026-12-01 --format csv');
  const q = r.data;
  const rows = await store.queryPunches({ from: q.from, to: q.to, deviceId: q.device, nip: q.nip });
  if (q.format === 'json') return JSON.stringify(rows, null, 2) + '\n';
  const header = PUNCH_CSV_COLUMNS.map((k) => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`));
  return toCsv([header, ...rows.map((p) => PUNCH_CSV_COLUMNS.map((k) => p[k]))], o.csvDialect);
}
