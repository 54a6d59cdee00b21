import { z } from 'zod';
import { UserError } from '../lib/errors.js';
import type { Role } from './module-contract.js';
import type { ApiTokenInfo, CoreStore } from './store/core-store.js';
import { hashPassword, randomSecret, sha256Hex, verifyPassword } from './secrets.js';

const usernameSchema = z.string().regex(/^[a-z0-9][a-z0-9._-]{1,63}$/, 'username: 2–64 of a-z 0-9 . _ -');

/** Creates a hub user and its first API token (printed once; only its sha256 is stored). */
export async function addUser(
  store: CoreStore,
  o: { username: string; name: string; role: Role; opdCode?: string | null; now: Date },
): Promise<{ token: string }> {
  if (!usernameSchema.safeParse(o.username).success) throw new UserError(`username ${JSON.stringify(o.username)} is not valid`, 'use 2–64 characters a-z 0-9 . _ -');
  if (!['bkpsdm', 'opd_admin', 'technician'].includes(o.role)) throw new UserError(`role ${JSON.stringify(o.role)} is not valid`, 'use --role bkpsdm, opd_admin or technician');
  if (o.role === 'opd_admin' && !o.opdCode) throw new UserError('an opd_admin needs --opd CODE', 'add --opd with the OPD code');
  if (o.role === 'bkpsdm' && o.opdCode) throw new UserError('a bkpsdm user sees the whole regency and takes no --opd', 'drop --opd or use --role opd_admin');
  if (o.opdCode && !(await store.opdExists(o.opdCode))) throw new UserError(`OPD ${o.opdCode} does not exist`, 'import the organisation first: `hadir import org FILE.csv`');
  if (await store.getUser(o.username)) throw new UserError(`user ${o.username} already exists`, 'choose another --username');
  const at = o.now.toISOString();
  await store.insertUser({ username: o.username, name: o.name, role: o.role, opdCode: o.opdCode ?? null, createdAt: at });
  const token = `hdr_${randomSecret(32)}`;
  await store.insertApiToken({ tokenHash: sha256Hex(token), username: o.username, label: 'created by hadir user add', createdAt: at });
  return { token };
}

// ---------------------------------------------------------------- passwords and web sessions
export const MIN_PASSWORD_LENGTH = 10;
/**
 * Web sessions: bearer tokens labelled so, revoked at logout, refused and deleted when used after
 * SESSION_IDLE_MS without use or SESSION_MAX_MS after login (sessionExpired, checked by userAuth),
 * and purged at each login. API tokens from `hadir user add` (other labels) never expire.
 */
export const SESSION_LABEL = 'web-session';
export const SESSION_IDLE_MS = 12 * 3600_000;
export const SESSION_MAX_MS = 7 * 86_400_000;
/** The 401 reason for an expired web session (the dashboard goes back to its login form). */
export const SESSION_EXPIRED = 'sesi berakhir / session expired: log in again';

/** Why a token is no longer good at `now`: idle too long or too old (web sessions only), else null. */
export function sessionExpired(t: ApiTokenInfo, now: Date): 'idle' | 'max_age' | null {
  if (t.label !== SESSION_LABEL) return null;
  const ms = now.getTime();
  if (ms - Date.parse(t.createdAt) > SESSION_MAX_MS) return 'max_age';
  if (ms - Date.parse(t.lastUsedAt ?? t.createdAt) > SESSION_IDLE_MS) return 'idle';
  return null;
}

/** Sets (or replaces) a user's login password for the web dashboard (scrypt). */
export async function setPassword(store: CoreStore, username: string, password: string): Promise<void> {
  const u = await store.getUser(username);
  if (!u) throw new UserError(`user ${username} does not exist`, 'create it first: `hadir user add --username ...`');
  if (password.length < MIN_PASSWORD_LENGTH) throw new UserError(`password too short (${password.length} characters)`, `use at least ${MIN_PASSWORD_LENGTH} characters`);
  if (password.length > 256) throw new UserError('password longer than 256 characters', 'use a shorter password');
  if (/[\r\n]/.test(password)) throw new UserError('password contains a line break', 'give the password on one line');
  await store.setPasswordHash(username, hashPassword(password));
}

export type LoginResult =
  | { ok: true; token: string; user: { username: string; name: string; role: Role; opdCode: string | null } }
  | { ok: false; status: 401 | 403; reason: 'bad_credentials' | 'no_password' | 'disabled' };

/**
 * Checks username + password and, on success, issues a new bearer token for a web session
 * (stored as sha256 like every API token). Unknown user, wrong password and "no password set"
 * all take one scrypt so their timing does not tell them apart.
 */
export async function login(store: CoreStore, username: string, password: string, now: Date): Promise<LoginResult> {
  const row = await store.passwordHash(username);
  const u = row ? await store.getUser(username) : null;
  const ok = await verifyPassword(password, row?.hash ?? DUMMY_HASH);
  if (!u || !row) return { ok: false, status: 401, reason: 'bad_credentials' };
  if (!row.hash) return { ok: false, status: 401, reason: 'no_password' };
  if (!ok) return { ok: false, status: 401, reason: 'bad_credentials' };
  if (u.disabledAt) return { ok: false, status: 403, reason: 'disabled' };
  const at = now.toISOString();
  await purgeIdleSessions(store, now);
  const token = `hdr_${randomSecret(32)}`;
  await store.insertApiToken({ tokenHash: sha256Hex(token), username, label: SESSION_LABEL, createdAt: at });
  // last_used_at starts at login so the idle purge measures from here
  await store.touchApiToken(sha256Hex(token), at);
  return { ok: true, token, user: { username: u.username, name: u.name, role: u.role, opdCode: u.opdCode } };
}
const DUMMY_HASH = hashPassword(randomSecret(16));

/** Logout: revokes this web-session token (API tokens from `hadir user add` are not touched). */
export function revokeSession(store: CoreStore, token: string): Promise<boolean> {
  return store.deleteApiTokenLabelled(sha256Hex(token), SESSION_LABEL);
}

/** Web sessions idle longer than SESSION_IDLE_MS or older than SESSION_MAX_MS are deleted (run at each login). */
export function purgeIdleSessions(store: CoreStore, now: Date): Promise<number> {
  const idleCut = new Date(now.getTime() - SESSION_IDLE_MS).toISOString();
  const maxCut = new Date(now.getTime() - SESSION_MAX_MS).toISOString();
  return store.purgeApiTokens(SESSION_LABEL, idleCut, maxCut);
}

/** OPDs a user may pick in the dashboard: all for BKPSDM, their own for an OPD admin. */
export function visibleOpds(store: CoreStore, user: { role: Role; opdCode: string | null }): Promise<{ code: string; name: string }[]> {
  return store.listOpds(user.role === 'bkpsdm' ? undefined : user.opdCode);
}
