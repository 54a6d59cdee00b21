'use strict';
// Plain CommonJS on purpose: the hub (verify-pool.ts) and the verification worker threads
// (verify-worker.cjs, which have no TypeScript loader) run this same code.
const { createHash, createPublicKey, verify } = require('node:crypto');

/**
 * libsodium through sodium-native (prebuilt for linux x64/arm64 inside the npm package, nothing
 * downloaded), or null where it cannot load: then OpenSSL through node:crypto is used.
 */
function loadSodium() {
  try {
    const s = require('sodium-native');
    return typeof s.crypto_sign_verify_detached === 'function' ? s : null;
  } catch {
    return null;
  }
}

/**
 * One punch check: `item.json` is the message text (schema-checked: exactly the punch fields),
 * `item.pem` the device's SPKI key. The signed bytes are the RFC 8785 canonical JSON of every field
 * but `sig` (protocol/signing.ts). Keys are parsed once per PEM text (the text is the key: a
 * re-enrolled device never hits a stale entry).
 */
function makeVerifyOne(sodium, canonicalize) {
  const one = makeVerifyHashOne(sodium, canonicalize);
  return (item) => one(item, null, 0);
}

/**
 * The same check, and for a valid punch its chain hash (sha256 of the same canonical bytes the
 * signature covers — protocol punchHash) written into `out` at `at` (32 bytes). Done here, next to
 * the signature, so ingest's main thread does not canonicalise each punch a second time.
 */
function makeVerifyHashOne(sodium, canonicalize) {
  const keys = new Map();
  const key = (pem) => {
    let k = keys.get(pem);
    if (!k) {
      if (keys.size > 100000) keys.clear();
      const obj = createPublicKey(pem);
      // libsodium takes the raw 32-byte key: the JWK `x` of an Ed25519 SPKI key
      k = sodium ? Buffer.from(obj.export({ format: 'jwk' }).x, 'base64url') : obj;
      keys.set(pem, k);
    }
    return k;
  };
  return (item, out, at) => {
    try {
      const { sig, ...unsigned } = JSON.parse(item.json);
      const data = canonicalize(unsigned);
      if (typeof sig !== 'string' || data === undefined) return false;
      const sigBuf = Buffer.from(sig, 'base64');
      const k = key(item.pem);
      const bytes = Buffer.from(data, 'utf8');
      const ok = sodium ? sigBuf.length === 64 && k.length === 32 && sodium.crypto_sign_verify_detached(sigBuf, bytes, k) : verify(null, bytes, k, sigBuf);
      if (ok && out) createHash('sha256').update(bytes).digest().copy(out, at);
      return ok;
    } catch {
      return false;
    }
  };
}

module.exports = { loadSodium, makeVerifyOne, makeVerifyHashOne };
