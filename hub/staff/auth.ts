import { randomBytes, randomInt } from 'node:crypto';
import type { SqliteDb } from '../store/sqlite.js';
import { hashPassword, sha256Hex, verifyPassword } from '../secrets.js';
import { UserError } from '../../lib/errors.js';

/**
 * Staff sign-in (their own page only), kept apart from the admins' users/sessions (hub/users.ts).
 *
 * 3,400 people cannot wait for an admin to type 3,400 passwords, and most have no e-mail the hub
 * could reach. So the OPD admin prints one **activation code** per person (`hadir staff codes`):
 * 10 characters of Crockford base32 (50 bits: guessing one is hopeless under the rate limit),
 * valid 30 days, usable once. The person opens the staff page on their own phone, types NIP +
 * code, and chooses their own password; from then on NIP + password. A forgotten password is
 * a new code from the OPD (the old password stops working when the new code is used). The codes
 * are stored as sha256 (they are random, not chosen), passwords as scrypt.
 */
export const CODE_DAYS = 30;
export const MIN_STAFF_PASSWORD = 8;
export const STAFF_SESSION_IDLE_MS = 30 * 86_400_000; // a phone stays signed in for a month of use

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'; // Crockford: no I, L, O, U

export function newActivationCode(): string {
  let s = '';
  for (let i = 0; i < 10; i++) s += ALPHABET[randomInt(32)];
  return `${s.slice(0, 4)}-${s.slice(4, 8)}-${s.slice(8)}`;
}
/** What people type: any case, with or without dashes/spaces, O for 0 and I/L for 1. */
export function normaliseCode(s: string): string {
  const c = s.toUpperCase().replace(/[\s-]/g, '').replace(/O/g, '0').replace(/[IL]/g, '1');
  return c.length === 10 ? `${c.slice(0, 4)}-${c.slice(4, 8)}-${c.slice(8)}` : c;
}

export interface IssuedCode {
  nip: string;
  name: string;
  opd: string;
  unit: string | null;
  code: string;
  expiresAt: string;
}

type CodePerson = { nip: string; name: string; opd: string; unit: string | null };
/** Whose codes to print (both stores; `?` placeholders). */
export function codePeopleSql(o: { opd?: string; nip?: string }): { sql: string; args: string[] } {
  if (!o.opd && !o.nip) throw new UserError('say whose codes to print', 'pass --opd CODE or --nip NIP');
  return {
    sql: `SELECT nip, name, opd_code AS opd, unit_code AS unit FROM staff WHERE active = 1 ${o.opd ? 'AND opd_code = ?' : ''} ${o.nip ? 'AND nip = ?' : ''} ORDER BY unit_code, name`,
    args: [o.opd, o.nip].filter((x): x is string => !!x),
  };
}
export function noPeople(o: { opd?: string; nip?: string }): UserError {
  return new UserError(`no active staff ${o.nip ? `with NIP ${o.nip}` : `in OPD ${o.opd}`} (pegawai tidak ditemukan)`, 'check the code/NIP: hadir import staff');
}

/** New codes for the active staff of an OPD (or one NIP); earlier unused codes of those people stop working. */
export function issueCodes(db: SqliteDb, o: { opd?: string; nip?: string; by: string; now: Date }): IssuedCode[] {
  const { sql, args } = codePeopleSql(o);
  const people = db.prepare(sql).all(...args) as CodePerson[];
  if (!people.length) throw noPeople(o);
  const expiresAt = new Date(o.now.getTime() + CODE_DAYS * 86_400_000).toISOString();
  const drop = db.prepare('DELETE FROM staff_activation WHERE nip = ? AND used_at IS NULL');
  const ins = db.prepare('INSERT INTO staff_activation (code_hash, nip, created_at, created_by, expires_at) VALUES (?, ?, ?, ?, ?)');
  const out: IssuedCode[] = [];
  db.transaction(() => {
    for (const p of people) {
      const code = newActivationCode();
      drop.run(p.nip);
      ins.run(sha256Hex(code), p.nip, o.now.toISOString(), o.by, expiresAt);
      out.push({ ...p, code, expiresAt });
    }
  })();
  return out;
}

function newSession(db: SqliteDb, nip: string, now: Date): string {
  const token = newStaffToken();
  db.prepare('INSERT INTO staff_sessions (token_hash, nip, created_at, last_used_at) VALUES (?, ?, ?, ?)').run(sha256Hex(token), nip, now.toISOString(), now.toISOString());
  return token;
}

export const BAD = 'NIP atau kode/kata sandi salah / wrong NIP or code/password';

/** A new staff session token (both stores store its sha256). */
export function newStaffToken(): string {
  return `st_${randomBytes(24).toString('base64url')}`;
}
/**
 * Pure: may this activation code row be used for this NIP now (both stores)? Throws the refusal
 * the person sees; the password rule is checked first.
 */
export function checkActivation(o: { nip: string; password: string; now: Date }, row: { nip: string; expires_at: string; used_at: string | null } | undefined): { nip: string } {
  if (o.password.length < MIN_STAFF_PASSWORD) throw new UserError(`kata sandi minimal ${MIN_STAFF_PASSWORD} karakter / the password needs at least ${MIN_STAFF_PASSWORD} characters`, 'choose a longer one', 400);
  if (!row || row.nip !== o.nip.trim()) throw new UserError(BAD, 'check the slip from your OPD', 401);
  if (row.used_at) throw new UserError('kode ini sudah dipakai / this code was already used', 'sign in with your password, or ask your OPD for a new code', 409);
  if (row.expires_at < o.now.toISOString()) throw new UserError('kode kedaluwarsa / the code expired', 'ask your OPD admin for a new code', 410);
  return { nip: row.nip };
}
/** Password sign-in against the stored hash (unknown NIPs take the same time: no account enumeration); both stores. */
export async function checkStaffPassword(password: string, row: { password_hash: string } | undefined): Promise<void> {
  const ok = await verifyPassword(password, row?.password_hash ?? dummyHash());
  if (!row || !ok) throw new UserError(BAD, 'first time? use the activation code from your OPD', 401);
}
/** Pure: is a session last used at `lastUsedAt` idle too long at `now`? */
export function staffSessionIdle(lastUsedAt: string, now: Date): boolean {
  return now.getTime() - Date.parse(lastUsedAt) > STAFF_SESSION_IDLE_MS;
}

/** NIP + one-time code + the password the person chooses → a session. */
export async function activate(db: SqliteDb, o: { nip: string; code: string; password: string; now: Date }): Promise<string> {
  const row = checkActivation(o, db.prepare('SELECT nip, expires_at, used_at FROM staff_activation WHERE code_hash = ?').get(sha256Hex(normaliseCode(o.code))) as { nip: string; expires_at: string; used_at: string | null } | undefined);
  const hash = hashPassword(o.password);
  const at = o.now.toISOString();
  db.transaction(() => {
    db.prepare('UPDATE staff_activation SET used_at = ? WHERE code_hash = ?').run(at, sha256Hex(normaliseCode(o.code)));
    db.prepare('INSERT INTO staff_login (nip, password_hash, activated_at) VALUES (?, ?, ?) ON CONFLICT (nip) DO UPDATE SET password_hash = excluded.password_hash, activated_at = excluded.activated_at').run(row.nip, hash, at);
    db.prepare('DELETE FROM staff_sessions WHERE nip = ?').run(row.nip); // a new code signs out every old phone
  })();
  return newSession(db, row.nip, o.now);
}

export async function staffLogin(db: SqliteDb, o: { nip: string; password: string; now: Date }): Promise<string> {
  const row = db.prepare('SELECT l.password_hash FROM staff_login l JOIN staff s ON s.nip = l.nip WHERE l.nip = ? AND s.active = 1').get(o.nip.trim()) as { password_hash: string } | undefined;
  await checkStaffPassword(o.password, row);
  return newSession(db, o.nip.trim(), o.now);
}
let dummy: string | null = null;
const dummyHash = () => (dummy ??= hashPassword(randomBytes(16).toString('hex')));

/** The NIP of a valid staff session token, or null (idle sessions are deleted when seen). */
export function staffOfToken(db: SqliteDb, token: string, now: Date): string | null {
  if (!token.startsWith('st_')) return null;
  const h = sha256Hex(token);
  const row = db.prepare('SELECT ss.nip, ss.last_used_at FROM staff_sessions ss JOIN staff s ON s.nip = ss.nip WHERE ss.token_hash = ? AND s.active = 1').get(h) as { nip: string; last_used_at: string } | undefined;
  if (!row) return null;
  if (staffSessionIdle(row.last_used_at, now)) {
    db.prepare('DELETE FROM staff_sessions WHERE token_hash = ?').run(h);
    return null;
  }
  db.prepare('UPDATE staff_sessions SET last_used_at = ? WHERE token_hash = ?').run(now.toISOString(), h);
  return row.nip;
}

export function staffLogout(db: SqliteDb, token: string): void {
  db.prepare('DELETE FROM staff_sessions WHERE token_hash = ?').run(sha256Hex(token));
}
