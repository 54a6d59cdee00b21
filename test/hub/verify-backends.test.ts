import { afterAll, describe, expect, it } from 'vitest';
import { GENESIS_HASH, generateDeviceKeys, loadPrivateKey, newId, punchHash, signPunch, type Punch, type UnsignedPunch } from '../../protocol/index.js';
import { InlineVerifier, WorkerPoolVerifier, availableBackend, type VerifyItem } from '../../hub/ingest/verify-pool.js';

/**
 * The hub verifies with libsodium (faster) and falls back to OpenSSL: both must give the same
 * verdict for everything a kiosk or an attacker can send. Signatures come from protocol/signing.ts
 * (node:crypto), exactly as a kiosk makes them.
 */
describe('Ed25519 verification backends agree', () => {
  const a = generateDeviceKeys();
  const b = generateDeviceKeys();
  const keyA = loadPrivateKey(a.privateKeyPem);
  const punch = (seq: number): UnsignedPunch => ({
    id: newId(), deviceId: 'kiosk-a', seq, nip: '198503122010011001', method: 'face', capturedAt: new Date(1_760_000_000_000 + seq * 1000).toISOString(),
    clock: { synced: true, source: 'chrony', offsetMs: 0.2, bootId: 'boot', monoMs: seq }, match: { score: 0.7, liveness: 0.9 }, prevHash: GENESIS_HASH,
  });
  const signed = Array.from({ length: 40 }, (_, i) => signPunch(punch(i + 1), keyA));
  // Ed25519 group order L; S + L is the classic malleated (non-canonical) signature
  const L = (1n << 252n) + 27742317777372353535851937790883648493n;
  const malleate = (sigB64: string) => {
    const sig = Buffer.from(sigB64, 'base64');
    let s = 0n;
    for (let i = 63; i >= 32; i--) s = (s << 8n) | BigInt(sig[i]!);
    s += L;
    for (let i = 32; i < 64; i++) (sig[i] = Number(s & 0xffn)), (s >>= 8n);
    return sig.toString('base64');
  };
  const cases: { name: string; item: VerifyItem; valid: boolean }[] = [
    ...signed.map((p) => ({ name: `valid seq ${p.seq}`, item: { json: JSON.stringify(p), pem: a.publicKeyPem }, valid: true })),
    { name: 'fields in another order', item: { json: JSON.stringify(Object.fromEntries(Object.entries(signed[0]!).reverse())), pem: a.publicKeyPem }, valid: true },
    { name: 'tampered nip', item: { json: JSON.stringify({ ...signed[1]!, nip: '198503122010011002' }), pem: a.publicKeyPem }, valid: false },
    { name: 'tampered time', item: { json: JSON.stringify({ ...signed[2]!, capturedAt: new Date(0).toISOString() }), pem: a.publicKeyPem }, valid: false },
    { name: "another device's key", item: { json: JSON.stringify(signed[3]), pem: b.publicKeyPem }, valid: false },
    { name: 'signature of another punch', item: { json: JSON.stringify({ ...signed[4]!, sig: signed[5]!.sig }), pem: a.publicKeyPem }, valid: false },
    { name: 'non-canonical S (S + L)', item: { json: JSON.stringify({ ...signed[6]!, sig: malleate(signed[6]!.sig) }), pem: a.publicKeyPem }, valid: false },
    { name: 'short signature', item: { json: JSON.stringify({ ...signed[7]!, sig: signed[7]!.sig.slice(0, 40) }), pem: a.publicKeyPem }, valid: false },
    { name: 'signature not base64', item: { json: JSON.stringify({ ...signed[8]!, sig: '!!!' }), pem: a.publicKeyPem }, valid: false },
    { name: 'all-zero signature', item: { json: JSON.stringify({ ...signed[9]!, sig: Buffer.alloc(64).toString('base64') }), pem: a.publicKeyPem }, valid: false },
    { name: 'not JSON', item: { json: '{"id":', pem: a.publicKeyPem }, valid: false },
    { name: 'not a key', item: { json: JSON.stringify(signed[10]), pem: 'garbage' }, valid: false },
  ];
  const pools: WorkerPoolVerifier[] = [];
  afterAll(async () => Promise.all(pools.map((p) => p.close())));

  it('sodium-native loads on this machine (the fast path is the one tested)', () => {
    expect(availableBackend('sodium')).toBe('sodium');
  });

  for (const backend of ['sodium', 'openssl'] as const) {
    it(`${backend}: inline and on worker threads, every case as expected`, async () => {
      const expected = cases.map((c) => c.valid);
      const inline = new InlineVerifier(backend);
      expect(inline.backend).toBe(backend);
      const got = await inline.verifyMany(cases.map((c) => c.item));
      expect(Object.fromEntries(cases.map((c, i) => [c.name, got[i]]))).toEqual(Object.fromEntries(cases.map((c) => [c.name, c.valid])));
      const pool = new WorkerPoolVerifier(2, 1, backend);
      pools.push(pool);
      expect(await pool.verifyMany(cases.map((c) => c.item))).toEqual(expected);
      // with the chain hash (ingest): the same verdicts, and each valid punch's hash is protocol punchHash
      const want = cases.map((c) => (c.valid ? punchHash(JSON.parse(c.item.json) as Punch) : null));
      for (const v of [inline, pool]) expect(await v.verifyManyHashed(cases.map((c) => c.item))).toEqual({ ok: expected, hashes: want });
    });
  }
});
