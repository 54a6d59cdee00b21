import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { jsonError } from './errors.js';
import { KIOSK_API, KIOSK_API_BASE } from '../../protocol/index.js';

/**
 * Request body limits, applied to every /api route before authentication or parsing: a body
 * beyond its route's limit is refused with 413 as soon as the declared length (or, when chunked,
 * the bytes read so far) says so — never buffered whole. Sized from the largest legitimate body:
 * a login is a few hundred bytes; a kiosk enrolment request carries a PEM key; a face enrolment
 * up to 5 aligned crops of ≤ 200 KB base64; everything else is small JSON.
 */
export const BODY_LIMITS: { prefix: string; maxBytes: number }[] = [
  { prefix: '/api/v1/auth/', maxBytes: 8 * 1024 },
  { prefix: KIOSK_API.enrol, maxBytes: 16 * 1024 },
  { prefix: KIOSK_API.faceEnrol, maxBytes: 1_200_000 },
  { prefix: `${KIOSK_API_BASE}/finger/`, maxBytes: 16 * 1024 },
  { prefix: '/api/', maxBytes: 1024 * 1024 },
];

export function bodyLimits(limits = BODY_LIMITS): MiddlewareHandler {
  const guards = limits.map((l) => ({
    ...l,
    guard: bodyLimit({
      maxSize: l.maxBytes,
      onError: () => jsonError(413, `isi permintaan terlalu besar / request body larger than ${l.maxBytes} bytes for ${l.prefix}…`),
    }),
  }));
  return async (c, next) => {
    if (c.req.method === 'GET' || c.req.method === 'HEAD') return next();
    const g = guards.find((x) => c.req.path.startsWith(x.prefix))!;
    return g.guard(c, next);
  };
}
