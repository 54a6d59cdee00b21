import type { Context, MiddlewareHandler } from 'hono';
import { httpError } from './errors.js';
import type { AuthUser, HubEnv, KioskEnv } from '../module-contract.js';
import type { CoreStore } from '../store/core-store.js';
import { hashDeviceSecret, randomSecret, sha256Hex, verifyPassword } from '../secrets.js';
import { checkDeviceSecret } from '../devices/secret.js';
import { LoginLimiter } from '../web/login-limiter.js';
import { SESSION_EXPIRED, sessionExpired } from '../users.js';
import type { Clock } from '../../lib/clock.js';

/** The token of `Authorization: Bearer <token>`, or null (absent or another scheme). */
export function bearerToken(c: Context): string | null {
  return /^Bearer\s+(\S+)$/i.exec(c.req.header('authorization') ?? '')?.[1] ?? null;
}

/**
 * User authentication for /api/v1/*: `Authorization: Bearer <token>` from `hadir user add`.
 * Sets c.get('user'). Tokens are stored as sha256 and looked up on every request (a disabled user
 * is locked out at once). A web-session token used after its idle time or lifetime is refused and
 * deleted on the spot (hub/users.ts sessionExpired); API tokens do not expire.
 */
export function userAuth(store: CoreStore, clock: Clock): MiddlewareHandler<HubEnv> {
  return async (c, next) => {
    const h = c.req.header('authorization');
    if (!h) httpError(401, 'authentication required: send Authorization: Bearer <token> (create one with `hadir user add`)', { 'www-authenticate': 'Bearer realm="hadir"' });
    const token = bearerToken(c);
    if (!token) httpError(401, 'Authorization header must be "Bearer <token>"', { 'www-authenticate': 'Bearer realm="hadir"' });
    const hash = sha256Hex(token);
    const at = new Date(clock());
    const user = await store.userByTokenHash(hash, at.toISOString());
    if (!user) httpError(401, 'unknown or revoked API token', { 'www-authenticate': 'Bearer realm="hadir"' });
    if (sessionExpired(user.token, at)) {
      await store.deleteApiToken(hash);
      httpError(401, SESSION_EXPIRED, { 'www-authenticate': 'Bearer realm="hadir", error="invalid_token"' });
    }
    if (user.disabledAt) httpError(403, `user ${user.username} is disabled`);
    const au: AuthUser = { username: user.username, name: user.name, role: user.role, opdCode: user.opdCode };
    c.set('user', au);
    await next();
  };
}

/**
 * A device hash no secret matches, of the same kind new devices get (hashDeviceSecret): an unknown
 * device id costs the same check as a known one, so response times do not tell which ids exist.
 */
export const DUMMY_DEVICE_HASH = hashDeviceSecret(randomSecret(16));

/**
 * Failed device logins (HTTP Basic and MQTT share one limiter per hub): per device id 10 in
 * 15 minutes, per address 50. A kiosk with the right password is never near either; a guesser is.
 */
export function deviceLoginLimiter(): LoginLimiter {
  return new LoginLimiter({ windowMs: 15 * 60_000, perUser: 10, perIp: 50 });
}

/**
 * Device authentication for /api/v1/kiosk/*: HTTP Basic deviceId:mqttPassword (the same secret
 * as MQTT). Sets c.get('device'). Failures are throttled (429 with Retry-After) and counted
 * before the hash is checked; unknown ids are checked against a dummy hash (no timing oracle).
 */
export function deviceAuth(store: CoreStore, clock: Clock, limiter: LoginLimiter = deviceLoginLimiter(), addressOf: (c: Context) => string = () => 'unknown'): MiddlewareHandler<KioskEnv> {
  return async (c, next) => {
    const h = c.req.header('authorization');
    const m = h ? /^Basic\s+(\S+)$/i.exec(h) : null;
    if (!m) httpError(401, 'device authentication required: HTTP Basic deviceId:password from the kiosk config', { 'www-authenticate': 'Basic realm="hadir-kiosk"' });
    const dec = Buffer.from(m[1]!, 'base64').toString('utf8');
    const i = dec.indexOf(':');
    const id = i < 0 ? dec : dec.slice(0, i);
    const pw = i < 0 ? '' : dec.slice(i + 1);
    const ip = addressOf(c);
    const t = clock();
    const wait = limiter.attempt(id, ip, t);
    if (wait > 0) {
      const s = Math.ceil(wait / 1000);
      httpError(429, `terlalu banyak percobaan gagal / too many failed device logins, try again in ${s} s`, { 'retry-after': String(s) });
    }
    const d = await store.getDevice(id);
    const ok = d?.mqttSecretHash ? await checkDeviceSecret(store, d, pw) : await verifyPassword(pw, DUMMY_DEVICE_HASH);
    if (!d || !d.mqttSecretHash || !ok) httpError(401, 'unknown device or wrong password', { 'www-authenticate': 'Basic realm="hadir-kiosk"' });
    limiter.withdraw(id, ip, t);
    if (d.disabledAt) httpError(403, `device ${id} is disabled`);
    c.set('device', { id: d.id, siteCode: d.siteCode });
    await next();
  };
}

/**
 * OPD scoping for report modules: the OPD an authenticated user is limited to, or null for
 * BKPSDM (whole regency). An opd_admin (or an OPD technician) asking for another OPD gets 403.
 */
export function opdScope(user: AuthUser, requested?: string | null): string | null {
  // BKPSDM and a regency-wide technician (no OPD) see every OPD (technicians only the routes hub/http/roles.ts allows them)
  if (user.role === 'bkpsdm' || (user.role === 'technician' && !user.opdCode)) return requested ?? null;
  if (!user.opdCode) httpError(403, `user ${user.username} is an OPD admin without an OPD`);
  if (requested && requested !== user.opdCode) httpError(403, `pengguna ${user.username} hanya untuk OPD ${user.opdCode} / user ${user.username} may see OPD ${user.opdCode} only — drop the opd parameter or ask BKPSDM`);
  return user.opdCode;
}

/** Convenience for handlers: `scopeOf(c, c.req.query('opd'))`. */
export function scopeOf(c: Context<HubEnv>, requested?: string | null): string | null {
  return opdScope(c.get('user'), requested);
}

/** Only BKPSDM (regency-wide) users; others get 403 with `reason`, before anything else is looked at. */
export function bkpsdmOnly(reason = 'only BKPSDM users may do this'): MiddlewareHandler<HubEnv> {
  return async (c, next) => {
    if (c.get('user').role !== 'bkpsdm') httpError(403, reason);
    await next();
  };
}
