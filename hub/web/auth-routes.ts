import { Hono } from 'hono';
import { zValidator } from '@hono/zod-validator';
import { z } from 'zod';
import type { Logger } from '../../lib/logger.js';
import type { HubEnv } from '../module-contract.js';
import type { CoreStore } from '../store/core-store.js';
import { bearerToken, userAuth } from '../http/auth.js';
import { errorResponse, json, type OpenApiPaths } from '../http/openapi.js';
import { login, revokeSession, visibleOpds } from '../users.js';
import { LoginLimiter } from './login-limiter.js';
import type { AuditLog } from '../audit/index.js';
import { clientAddress } from '../audit/http.js';
import { httpError } from '../http/errors.js';
import type { Clock } from '../../lib/clock.js';

const loginSchema = z.strictObject({
  username: z.string().min(1).max(64),
  password: z.string().min(1).max(256),
});

const REASONS = {
  bad_credentials: 'nama pengguna atau kata sandi salah / wrong username or password',
  // Same words as a wrong password for the client (no hint that the account exists); the hub log says which.
  no_password: 'nama pengguna atau kata sandi salah / wrong username or password',
  disabled: 'akun dinonaktifkan / this account is disabled',
} as const;

/**
 * /api/v1/auth: POST /login (public: username + password → a bearer token for a web session),
 * POST /logout and GET /me (bearer). Failed logins are counted per username and per client
 * address; past the limit the answer is 429 with Retry-After, even for the right password.
 */
export function createAuthRoutes(deps: { store: CoreStore; log: Logger; clock: Clock; limiter?: LoginLimiter; audit?: AuditLog }): Hono<HubEnv> {
  const { store, log, clock } = deps;
  const limiter = deps.limiter ?? new LoginLimiter();
  const r = new Hono<HubEnv>();

  r.post(
    '/login',
    zValidator('json', loginSchema, (res, c) => {
      if (!res.success) httpError(400, 'kirim JSON {username, password} / send JSON {username, password}');
    }),
    async (c) => {
      const { username, password } = c.req.valid('json');
      const ip = clientAddress(c);
      const t = clock();
      // Counted before the hash is checked: 30 attempts sent at once get at most the limit through.
      const wait = limiter.attempt(username, ip, t);
      if (wait > 0) {
        const s = Math.ceil(wait / 1000);
        log.warn({ username, ip }, 'login refused: too many failures');
        return c.json({ error: `terlalu banyak percobaan gagal, coba lagi dalam ${s} detik / too many failed attempts, try again in ${s} s`, retryAfterS: s }, 429, { 'retry-after': String(s) });
      }
      const res = await login(store, username, password, new Date(clock()));
      if (!res.ok) {
        log.warn({ username, ip, reason: res.reason }, 'login failed');
        return c.json({ error: REASONS[res.reason] }, res.status);
      }
      limiter.succeed(username, ip, t);
      log.info({ username, ip }, 'login');
      if (deps.audit) {
        await deps.audit
          .record({ actor: username, actorKind: 'user', role: res.user.role, source: ip, action: 'auth.login', target: `user:${username}`, opdCode: res.user.opdCode, status: 200 })
          .catch((e: unknown) => log.error({ err: e }, 'audit entry for a login not written'));
      }
      return c.json({ token: res.token, user: res.user });
    },
  );

  r.use('/logout', userAuth(store, clock));
  r.post('/logout', async (c) => {
    const token = bearerToken(c) ?? '';
    const revoked = await revokeSession(store, token);
    return c.json({ revoked });
  });

  r.use('/me', userAuth(store, clock));
  r.get('/me', async (c) => {
    const user = c.get('user');
    return c.json({ user, opds: await visibleOpds(store, user) });
  });
  return r;
}

export const AUTH_OPENAPI: OpenApiPaths = {
  '/auth/login': {
    post: {
      summary: 'Web login: username + password → bearer token (web session)',
      tags: ['auth'],
      security: [],
      requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', required: ['username', 'password'], properties: { username: { type: 'string' }, password: { type: 'string' } } } } } },
      responses: {
        '200': json({ type: 'object', properties: { token: { type: 'string' }, user: { type: 'object' } } }),
        '400': errorResponse('Malformed request'),
        '401': errorResponse('Wrong username or password'),
        '403': errorResponse('Account disabled'),
        '429': errorResponse('Too many failed attempts (Retry-After)'),
      },
    },
  },
  '/auth/logout': { post: { summary: 'Revoke the presented web-session token', tags: ['auth'], responses: { '200': json({ type: 'object', properties: { revoked: { type: 'boolean' } } }) } } },
  '/auth/me': { get: { summary: 'The authenticated user and the OPDs they may see', tags: ['auth'], responses: { '200': json({ type: 'object' }), '401': errorResponse('No or bad token') } } },
};
