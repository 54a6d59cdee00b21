import { z } from 'zod';
import { UserError } from '../../lib/errors.js';
import type { CoreStore, PunchRow } from '../store/core-store.js';
import { toCsv, type CsvDialect } from './csv.js';
import { instantSchema } from '../http/schemas.js';

const optsSchema = z.object({
  from: instantSchema.optional(),
  to: instantSchema.optional(),
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
  if (!r.success) {
    const flag = (i: { path: PropertyKey[] }) => (i.path[0] === 'from' || i.path[0] === 'to' ? `--${i.path[0]} ${JSON.stringify(o[i.path[0]])}: ` : '');
    throw new UserError(r.error.issues.map((i) => `${flag(i)}${i.message}`).join('; '), 'e.g. --from 2026-11-01 --to 2026-12-01 --format csv');
  }
  const q = r.data;
  const rows = await store.queryPunches({ from: q.from, to: q.to, deviceId: q.device, nip: q.nip });
  if (q.format === 'json') return JSON.stringify(rows, null, 2) + '\n';
  const header = PUNCH_CSV_COLUMNS.map((k) => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`));
  return toCsv([header, ...rows.map((p) => PUNCH_CSV_COLUMNS.map((k) => p[k]))], o.csvDialect);
}
