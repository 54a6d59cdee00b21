import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import canonicalize from 'canonicalize';
import type { Punch, UnsignedPunch } from './schemas.js';

/**
 * Punch integrity: Ed25519 (node:crypto) over the RFC 8785 canonical JSON of every field but
 * `sig`, and a hash chain (`prevHash` = sha256 of the previous punch's canonical bytes) so a
 * deleted or reordered punch is detectable even with a valid key.
 */

export const GENESIS_HASH = '0'.repeat(64);

export function canonicalBytes(value: unknown): Buffer {
  const s = canonicalize(value);
  if (s === undefined) throw new Error('value cannot be canonicalised');
  return Buffer.from(s, 'utf8');
}

/** The chain hash of a punch (over its unsigned fields). */
export function punchHash(p: UnsignedPunch | Punch): string {
  const { sig: _sig, ...unsigned } = p as Punch;
  return createHash('sha256').update(canonicalBytes(unsigned)).digest('hex');
}

export interface KeyPairPem {
  publicKeyPem: string;
  privateKeyPem: string;
}

export function generateDeviceKeys(): KeyPairPem {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  return {
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

export function loadPrivateKey(pem: string): KeyObject {
  return createPrivateKey(pem);
}

export function loadPublicKey(pem: string): KeyObject {
  const k = createPublicKey(pem);
  if (k.asymmetricKeyType !== 'ed25519') throw new Error('public key is not Ed25519');
  return k;
}

export function signPunch(p: UnsignedPunch, key: KeyObject): Punch {
  const sig = sign(null, canonicalBytes(p), key).toString('base64');
  return { ...p, sig };
}

export function verifyPunch(p: Punch, key: KeyObject): boolean {
  const { sig, ...unsigned } = p;
  try {
    return verify(null, canonicalBytes(unsigned), key, Buffer.from(sig, 'base64'));
  } catch {
    return false;
  }
}
