import { createHash, pbkdf2Sync, randomBytes, scrypt, scryptSync, timingSafeEqual } from 'node:crypto';

/**
 * Secrets the hub hands out (device MQTT/HTTP passwords, enrolment tokens, API tokens).
 * Passwords are stored as scrypt hashes (`scrypt$N$r$p$salt$hash`); one-time tokens and bearer
 * tokens as sha256 (they are long random values, so a fast hash is enough and lookups are by hash).
 */
const N = 16384, R = 8, P = 1, KEYLEN = 32;

export function randomSecret(bytes = 24): string {
  return randomBytes(bytes).toString('base64url');
}

export function sha256Hex(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

export function hashPassword(password: string): string {
  const salt = randomBytes(16);
  const hash = scryptSync(password, salt, KEYLEN, { N, r: R, p: P });
  return `scrypt$${N}$${R}$${P}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

/**
 * A device's MQTT/HTTP secret as stored: `sha256$<digest>`. The secret is 24 random bytes made by
 * the hub (randomSecret), so — as for enrolment and API tokens — a fast hash is as safe as scrypt
 * (192 bits cannot be guessed however fast each guess), and checking it costs microseconds instead
 * of ~50–170 ms of CPU and 16 MiB. That is what lets a restarted hub admit 2,000 kiosks within
 * seconds (issue 16); a human-chosen password (users.ts) keeps scrypt.
 */
export function hashDeviceSecret(secret: string): string {
  return `sha256$${createHash('sha256').update(secret).digest('base64')}`;
}

/** A stored hash that costs a scrypt per check (devices enrolled before hashDeviceSecret). */
export function isSlowHash(stored: string): boolean {
  return stored.startsWith('scrypt$');
}

function parse(stored: string) {
  const [tag, n, r, p, salt, hash] = stored.split('$');
  if (tag !== 'scrypt' || !n || !r || !p || !salt || !hash) return null;
  return { N: Number(n), r: Number(r), p: Number(p), salt: Buffer.from(salt, 'base64'), hash: Buffer.from(hash, 'base64') };
}

/**
 * Verifies a password against its scrypt hash (async: scrypt is deliberately slow, ~50 ms, and
 * must not block ingest). Successful checks are remembered per (stored hash, password digest),
 * so a kiosk polling the HTTP API does not pay scrypt each time; a changed hash is a new key,
 * so nothing goes stale.
 */
const verified = new Map<string, true>();
export async function verifyPassword(password: string, stored: string | null | undefined): Promise<boolean> {
  if (!stored) return false;
  if (stored.startsWith('sha256$')) {
    const want = Buffer.from(stored.slice(7), 'base64');
    const got = createHash('sha256').update(password).digest();
    return want.length === got.length && timingSafeEqual(want, got);
  }
  const memo = `${stored}\u0000${sha256Hex(password)}`;
  if (verified.has(memo)) return true;
  const s = parse(stored);
  if (!s) return false;
  const got = await new Promise<Buffer>((res, rej) =>
    scrypt(password, s.salt, s.hash.length, { N: s.N, r: s.r, p: s.p, maxmem: 256 * s.N * s.r }, (e, k) => (e ? rej(e) : res(k))),
  );
  const ok = got.length === s.hash.length && timingSafeEqual(got, s.hash);
  if (ok) {
    if (verified.size > 10_000) verified.clear();
    verified.set(memo, true);
  }
  return ok;
}

/**
 * The same password in Mosquitto's password_file format (`$7$101$salt$hash`, PBKDF2-SHA512, as
 * `mosquitto_passwd` writes it), for deployments whose external broker authenticates the kiosks.
 */
export function mosquittoHash(password: string, iterations = 101): string {
  const salt = randomBytes(12);
  const hash = pbkdf2Sync(password, salt, iterations, 64, 'sha512');
  return `$7$${iterations}$${salt.toString('base64')}$${hash.toString('base64')}`;
}
