import type { z } from 'zod';
import { formatIssues } from '../lib/config-file.js';

export type Decoded<T> = { ok: true; value: T } | { ok: false; reason: string };

/**
 * Decodes an MQTT payload with a schema; never throws. The reason is one line suitable for
 * a log entry and a metrics label (`malformed_json`, `schema`, `oversized`).
 */
export function decodePayload<S extends z.ZodType>(schema: S, payload: Buffer, maxBytes: number): Decoded<z.output<S>> & { code?: string } {
  if (payload.length > maxBytes) return { ok: false, code: 'oversized', reason: `payload of ${payload.length} bytes exceeds ${maxBytes}` };
  let raw: unknown;
  try {
    raw = JSON.parse(payload.toString('utf8'));
  } catch (e) {
    return { ok: false, code: 'malformed_json', reason: `not JSON: ${(e as Error).message.split('\n')[0]}` };
  }
  const r = schema.safeParse(raw);
  if (!r.success) return { ok: false, code: 'schema', reason: formatIssues(r.error) };
  return { ok: true, value: r.data };
}
