import { Hono } from 'hono';
import { zValidator } from '@hono/zod-validator';
import { z } from 'zod';
import { nipSchema } from '../../protocol/index.js';
import type { SqliteDb } from '../store/sqlite.js';
import type { Async } from '../store/async.js';
import type { HubEnv } from '../module-contract.js';
import { opdScope } from '../http/auth.js';
import { errorResponse, json, type OpenApiPaths } from '../http/openapi.js';
import { validationHook as hook } from '../http/validation.js';
import type { Clock } from '../../lib/clock.js';

/**
 * Enrolment sessions. A kiosk may replace someone's biometrics only because an authorised user
 * asked for exactly that: `enrol_mode` for this NIP (in the user's OPD) on this kiosk opens a
 * session; the kiosk's template upload claims it — once, before it expires — and is refused
 * otherwise. Without this, any kiosk (or a stolen kiosk's credentials) could overwrite any
 * employee's templates regency-wide.
 */

/** The enrol_mode arguments as the kiosk reads them (kiosk/commands/extension.ts), checked at the hub before sending. */
export const enrolArgsSchema = z.strictObject({
  nip: nipSchema,
  method: z.enum(['face', 'finger']),
  finger: z.number().int().min(0).max(10).optional(),
  timeoutS: z.number().min(5).max(900).default(120),
});
export type EnrolArgs = z.output<typeof enrolArgsSchema>;

/** After the kiosk's capture timeout, how long its upload may still take (slow link, hub busy). */
export const UPLOAD_GRACE_MS = 5 * 60_000;

export interface EnrolSession {
  id: string;
  deviceId: string;
  nip: string;
  method: 'face' | 'finger';
  finger: number | null;
  opdCode: string | null;
  startedBy: string;
  startedAt: string;
  expiresAt: string;
  usedAt: string | null;
  usedFor: string | null;
}
export type SessionRow = { id: string; device_id: string; nip: string; method: 'face' | 'finger'; finger: number | null; opd_code: string | null; started_by: string; started_at: string; expires_at: string; used_at: string | null; used_for: string | null };
export const toSession = (r: SessionRow): EnrolSession => ({
  id: r.id, deviceId: r.device_id, nip: r.nip, method: r.method, finger: r.finger, opdCode: r.opd_code, startedBy: r.started_by,
  startedAt: r.started_at, expiresAt: r.expires_at, usedAt: r.used_at, usedFor: r.used_for,
});

/** Enrolment sessions on SQLite (migration 320); the hub reaches them through EnrolSessionRepository. */
export class EnrolSessions {
  private readonly s;
  constructor(private readonly db: SqliteDb) {
    this.s = {
      insert: db.prepare(`INSERT INTO enrol_sessions (id, device_id, nip, method, finger, opd_code, started_by, started_at, expires_at)
                          VALUES (@id, @deviceId, @nip, @method, @finger, @opdCode, @startedBy, @startedAt, @expiresAt)`),
      open: db.prepare<{ deviceId: string; nip: string; method: string; finger: number | null; now: string }, SessionRow>(
        `SELECT * FROM enrol_sessions WHERE device_id = @deviceId AND nip = @nip AND method = @method AND used_at IS NULL AND expires_at > @now
           AND (finger IS NULL OR @finger IS NULL OR finger = @finger) ORDER BY started_at LIMIT 1`),
      use: db.prepare('UPDATE enrol_sessions SET used_at = ?, used_for = ? WHERE id = ? AND used_at IS NULL'),
      staff: db.prepare<[string], { nip: string; opd_code: string; active: number }>('SELECT nip, opd_code, active FROM staff WHERE nip = ?'),
    };
  }

  /** The employee an enrol_mode names (null: unknown NIP). */
  staff(nip: string) {
    return this.s.staff.get(nip) ?? null;
  }

  start(o: { id: string; deviceId: string; args: EnrolArgs; opdCode: string | null; by: string; now: Date }): EnrolSession {
    const row = {
      id: o.id, deviceId: o.deviceId, nip: o.args.nip, method: o.args.method, finger: o.args.finger ?? null, opdCode: o.opdCode, startedBy: o.by,
      startedAt: o.now.toISOString(), expiresAt: new Date(o.now.getTime() + o.args.timeoutS * 1000 + UPLOAD_GRACE_MS).toISOString(),
    };
    this.s.insert.run(row);
    return { ...row, usedAt: null, usedFor: null };
  }

  /** The open session an upload would claim (no change). */
  peek(q: { deviceId: string; nip: string; method: 'face' | 'finger'; finger?: number; now: Date }): EnrolSession | null {
    const r = this.s.open.get({ deviceId: q.deviceId, nip: q.nip, method: q.method, finger: q.finger ?? null, now: q.now.toISOString() });
    return r ? toSession(r) : null;
  }

  /** Claims the open session for this upload, atomically (two uploads race: one wins). */
  claim(q: { deviceId: string; nip: string; method: 'face' | 'finger'; finger?: number; now: Date; usedFor: string }): EnrolSession | null {
    return this.db.transaction(() => {
      const s = this.peek(q);
      if (!s) return null;
      if (this.s.use.run(q.now.toISOString(), q.usedFor, s.id).changes !== 1) return null;
      return { ...s, usedAt: q.now.toISOString(), usedFor: q.usedFor };
    }).immediate();
  }

  list(f: { opdCode: string | null; deviceId?: string; open?: boolean; now: Date; limit: number }): (EnrolSession & { state: 'open' | 'used' | 'expired' })[] {
    const rows = this.db
      .prepare<Record<string, unknown>, SessionRow>(
        `SELECT * FROM enrol_sessions WHERE (@opd IS NULL OR opd_code = @opd) AND (@dev IS NULL OR device_id = @dev)
           AND (@open = 0 OR (used_at IS NULL AND expires_at > @now)) ORDER BY started_at DESC LIMIT @limit`,
      )
      .all({ opd: f.opdCode, dev: f.deviceId ?? null, open: f.open ? 1 : 0, now: f.now.toISOString(), limit: f.limit });
    const now = f.now.toISOString();
    return rows.map((r) => ({ ...toSession(r), state: r.used_at ? 'used' : r.expires_at > now ? 'open' : 'expired' }));
  }
}

/** Enrolment session storage, async (SQLite: EnrolSessions through asyncOver). */
export type EnrolSessionRepository = Async<EnrolSessions>;

/** The refusal a kiosk gets for an upload nobody asked for. */
export const NO_SESSION = (nip: string, method: string, deviceId: string) =>
  `tidak ada sesi pendaftaran / no open enrolment session for NIP ${nip} (${method}) on ${deviceId} — an admin must start enrol_mode for this NIP on this kiosk first (POST /api/v1/devices/${deviceId}/commands)`;

const listQuery = z.strictObject({
  device: z.string().max(63).optional(),
  status: z.enum(['open', 'all']).default('all'),
  opd: z.string().max(64).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(200),
});

/** GET /api/v1/enrol-sessions: who started which enrolment where, and whether it was used. */
export function enrolSessionRoutes(sessions: EnrolSessionRepository, clock: Clock): Hono<HubEnv> {
  const r = new Hono<HubEnv>();
  r.get('/enrol-sessions', zValidator('query', listQuery, hook), async (c) => {
    const q = c.req.valid('query');
    const opd = opdScope(c.get('user'), q.opd);
    return c.json({ items: await sessions.list({ opdCode: opd, ...(q.device ? { deviceId: q.device } : {}), open: q.status === 'open', now: new Date(clock()), limit: q.limit }) });
  });
  return r;
}

export const ENROL_SESSIONS_OPENAPI: OpenApiPaths = {
  '/enrol-sessions': {
    get: {
      summary: 'Enrolment sessions (enrol_mode commands): open, used or expired; a kiosk upload is accepted only against an open one',
      tags: ['face', 'finger'],
      parameters: [
        { name: 'device', in: 'query', schema: { type: 'string' } },
        { name: 'status', in: 'query', schema: { type: 'string', enum: ['open', 'all'] } },
        { name: 'opd', in: 'query', schema: { type: 'string' } },
      ],
      responses: { '200': json({ type: 'object', properties: { items: { type: 'array' } } }), '403': errorResponse('another OPD') },
    },
  },
};
