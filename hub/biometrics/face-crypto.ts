import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { closeSync, openSync, readFileSync, writeSync, fsyncSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { UserError, isErrno } from '../../lib/errors.js';

/**
 * Encryption at rest for biometric enrolment data (UU 27/2022 on personal data: biometrics are
 * "specific" personal data). AES-256-GCM with a random 96-bit IV per item and the NIP as
 * additional authenticated data, so a crop cannot be moved to another person's row unnoticed.
 * The key lives outside the database: HADIR_BIOMETRIC_KEY (64 hex chars or base64 of 32 bytes) or
 * `<data>/biometric.key`, created with mode 0600 on first use. Back the key up with the database:
 * without it the crops cannot be read (templates still work; re-enrolment would be needed).
 */
export interface BiometricKey {
  key: Buffer;
  id: string;
}

export const KEY_FILE = 'biometric.key';

function parseKey(s: string, where: string): Buffer {
  const t = s.trim();
  const k = /^[0-9a-fA-F]{64}$/.test(t) ? Buffer.from(t, 'hex') : Buffer.from(t, 'base64');
  if (k.length !== 32) throw new UserError(`${where} is not a 32-byte key`, 'use 64 hex characters or base64 of 32 random bytes (e.g. `openssl rand -hex 32`)');
  return k;
}

export function loadBiometricKey(dataDir: string, env: NodeJS.ProcessEnv = process.env): BiometricKey {
  let key: Buffer;
  if (env.HADIR_BIOMETRIC_KEY) key = parseKey(env.HADIR_BIOMETRIC_KEY, 'HADIR_BIOMETRIC_KEY');
  else {
    const path = join(dataDir, KEY_FILE);
    try {
      key = parseKey(readFileSync(path, 'utf8'), path);
    } catch (e) {
      if (!isErrno(e, 'ENOENT')) throw e;
      mkdirSync(dataDir, { recursive: true });
      key = randomBytes(32);
      let fd: number;
      try {
        fd = openSync(path, 'wx', 0o600); // never overwrite a key another process just made
      } catch (e2) {
        if (isErrno(e2, 'EEXIST')) return loadBiometricKey(dataDir, env);
        throw e2;
      }
      try {
        writeSync(fd, `${key.toString('hex')}\n`);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    }
  }
  return { key, id: createHash('sha256').update(key).digest('hex').slice(0, 16) };
}

export interface Sealed {
  keyId: string;
  iv: Buffer;
  tag: Buffer;
  ciphertext: Buffer;
}

export function seal(k: BiometricKey, plaintext: Buffer, aad: string): Sealed {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', k.key, iv);
  c.setAAD(Buffer.from(aad));
  const ciphertext = Buffer.concat([c.update(plaintext), c.final()]);
  return { keyId: k.id, iv, tag: c.getAuthTag(), ciphertext };
}

export function open(k: BiometricKey, s: Sealed, aad: string): Buffer {
  if (s.keyId !== k.id) throw new UserError(`face crops were encrypted with key ${s.keyId}, the current key is ${k.id}`, 'restore the matching biometric.key / HADIR_BIOMETRIC_KEY');
  const d = createDecipheriv('aes-256-gcm', k.key, s.iv);
  d.setAAD(Buffer.from(aad));
  d.setAuthTag(s.tag);
  try {
    return Buffer.concat([d.update(s.ciphertext), d.final()]);
  } catch {
    throw new UserError(`an encrypted face crop (${aad}) failed its integrity check`, 'the database row was altered or damaged; re-enrol this person');
  }
}
