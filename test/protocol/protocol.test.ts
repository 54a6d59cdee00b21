import { describe, expect, it } from 'vitest';
import {
  GENESIS_HASH,
  Topics,
  ackSchema,
  decodePayload,
  generateDeviceKeys,
  isUuidV7,
  loadPrivateKey,
  loadPublicKey,
  newId,
  punchHash,
  punchSchema,
  signPunch,
  verifyPunch,
  MAX_PUNCH_BYTES,
  sharedFilter,
  type UnsignedPunch,
} from '../../protocol/index.js';

function unsigned(over: Partial<UnsignedPunch> = {}): UnsignedPunch {
  return {
    id: newId(),
    deviceId: 'kiosk-dinkes-01',
    seq: 1,
    nip: '198503122010011002',
    method: 'face',
    capturedAt: '2026-11-24T00:28:00.000Z',
    clock: { synced: true, source: 'chrony', offsetMs: 0.4, bootId: 'b1', monoMs: 123456 },
    match: { score: 0.71, liveness: 0.98 },
    prevHash: GENESIS_HASH,
    ...over,
  };
}

describe('topics', () => {
  const t = new Topics();
  it('builds and parses the DESIGN.md topics', () => {
    expect(t.punch('kiosk-1')).toBe('hadir/v1/kiosk/kiosk-1/punch');
    expect(t.all('punch')).toBe('hadir/v1/kiosk/+/punch');
    expect(t.parse('hadir/v1/kiosk/kiosk-1/ack')).toEqual({ deviceId: 'kiosk-1', kind: 'ack' });
  });
  it('rejects foreign, malformed and wildcard topics', () => {
    expect(t.parse('hadir/v2/kiosk/kiosk-1/punch')).toBeNull();
    expect(t.parse('hadir/v1/kiosk/kiosk-1/punch/extra')).toBeNull();
    expect(t.parse('hadir/v1/kiosk/+/punch')).toBeNull();
    expect(t.parse('hadir/v1/kiosk/kiosk-1/nope')).toBeNull();
    expect(() => t.punch('#')).toThrow(/invalid device id/);
  });
  it('authorises a device only under its own id', () => {
    expect(t.devicePublishAllowed('kiosk-1', 'hadir/v1/kiosk/kiosk-1/punch')).toBe(true);
    expect(t.devicePublishAllowed('kiosk-1', 'hadir/v1/kiosk/kiosk-2/punch')).toBe(false);
    expect(t.devicePublishAllowed('kiosk-1', 'hadir/v1/kiosk/kiosk-1/ack')).toBe(false); // only the hub acks
    expect(t.deviceSubscribeAllowed('kiosk-1', 'hadir/v1/kiosk/kiosk-1/ack')).toBe(true);
    expect(t.deviceSubscribeAllowed('kiosk-1', 'hadir/v1/kiosk/+/ack')).toBe(false);
  });
  it('keeps a test prefix apart', () => {
    const p = new Topics('t-abc/hadir/v1');
    expect(p.parse(t.punch('kiosk-1'))).toBeNull();
    expect(p.parse(p.punch('kiosk-1'))?.deviceId).toBe('kiosk-1');
  });
});

describe('ids', () => {
  it('makes time-ordered UUIDv7', () => {
    const a = newId();
    const b = newId();
    expect(isUuidV7(a)).toBe(true);
    expect(a < b).toBe(true);
    expect(isUuidV7('6f1c3a4e-1f2b-4c3d-8e9f-0a1b2c3d4e5f')).toBe(false); // v4
  });
});

describe('signing', () => {
  const keys = generateDeviceKeys();
  const priv = loadPrivateKey(keys.privateKeyPem);
  const pub = loadPublicKey(keys.publicKeyPem);

  it('signs and verifies; any changed field breaks the signature', () => {
    const p = signPunch(unsigned(), priv);
    expect(punchSchema.parse(p)).toEqual(p);
    expect(verifyPunch(p, pub)).toBe(true);
    expect(verifyPunch({ ...p, nip: '198503122010011003' }, pub)).toBe(false);
    expect(verifyPunch({ ...p, capturedAt: '2026-11-24T00:27:00.000Z' }, pub)).toBe(false);
    expect(verifyPunch({ ...p, clock: { ...p.clock, synced: false } }, pub)).toBe(false);
    const other = loadPublicKey(generateDeviceKeys().publicKeyPem);
    expect(verifyPunch(p, other)).toBe(false);
  });

  it('is independent of key order (canonical encoding)', () => {
    const p = signPunch(unsigned(), priv);
    const reordered = JSON.parse(JSON.stringify(Object.fromEntries(Object.entries(p).reverse())));
    expect(verifyPunch(reordered, pub)).toBe(true);
  });

  it('chains punches by hash', () => {
    const p1 = signPunch(unsigned(), priv);
    const p2 = signPunch(unsigned({ seq: 2, prevHash: punchHash(p1) }), priv);
    expect(p2.prevHash).toMatch(/^[0-9a-f]{64}$/);
    expect(punchHash(p1)).toBe(punchHash({ ...p1, sig: 'x'.repeat(88) })); // the hash does not cover sig
    expect(punchHash(p2)).not.toBe(punchHash(p1));
  });

  it('rejects a non-Ed25519 public key', () => {
    expect(() => loadPublicKey('not a key')).toThrow();
  });
});

describe('decodePayload', () => {
  const priv = loadPrivateKey(generateDeviceKeys().privateKeyPem);
  const good = Buffer.from(JSON.stringify(signPunch(unsigned(), priv)));

  it('accepts a valid punch', () => {
    const r = decodePayload(punchSchema, good, MAX_PUNCH_BYTES);
    expect(r.ok).toBe(true);
  });
  it('names malformed JSON, schema errors, unknown fields and oversize', () => {
    expect(decodePayload(punchSchema, Buffer.from('{nope'), MAX_PUNCH_BYTES)).toMatchObject({ ok: false, code: 'malformed_json' });
    const noNip = JSON.parse(good.toString());
    delete noNip.nip;
    expect(decodePayload(punchSchema, Buffer.from(JSON.stringify(noNip)), MAX_PUNCH_BYTES)).toMatchObject({ ok: false, code: 'schema', reason: expect.stringContaining('nip') });
    const extra = { ...JSON.parse(good.toString()), v: 2 };
    expect(decodePayload(punchSchema, Buffer.from(JSON.stringify(extra)), MAX_PUNCH_BYTES)).toMatchObject({ ok: false, code: 'schema', reason: expect.stringContaining('v') });
    const badMethod = { ...JSON.parse(good.toString()), method: 'telepathy' };
    expect(decodePayload(punchSchema, Buffer.from(JSON.stringify(badMethod)), MAX_PUNCH_BYTES)).toMatchObject({ ok: false, code: 'schema' });
    expect(decodePayload(punchSchema, Buffer.alloc(MAX_PUNCH_BYTES + 1, 32), MAX_PUNCH_BYTES)).toMatchObject({ ok: false, code: 'oversized' });
  });
  it('rejects a local-time capturedAt (must be UTC)', () => {
    const local = { ...JSON.parse(good.toString()), capturedAt: '2026-11-24T07:28:00+07:00' };
    expect(decodePayload(punchSchema, Buffer.from(JSON.stringify(local)), MAX_PUNCH_BYTES).ok).toBe(false);
  });
  it('validates acks', () => {
    expect(ackSchema.safeParse({ ids: [newId()], contiguousSeq: 3 }).success).toBe(true);
    expect(ackSchema.safeParse({ ids: [], contiguousSeq: -1 }).success).toBe(false);
  });
});

describe('shared subscriptions', () => {
  it('builds the hub’s $share filter in protocol/, the one place that knows topic strings', () => {
    expect(sharedFilter('hadir/v1/kiosk/+/punch')).toBe('$share/hadir-hub/hadir/v1/kiosk/+/punch');
    expect(sharedFilter('t/+', 'g')).toBe('$share/g/t/+');
  });
});
