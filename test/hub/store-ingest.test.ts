import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { GENESIS_HASH, Topics, generateDeviceKeys, loadPrivateKey, MAX_PUNCH_BYTES, punchHash } from '../../protocol/index.js';
import { openHubStores } from '../../hub/store/open.js';
import type { CoreStore, DeviceRecord } from '../../hub/store/core-store.js';
import { precheckPunchMessage, checkPunchMessage } from '../../hub/ingest/validate.js';
import { InlineVerifier, WorkerPoolVerifier } from '../../hub/ingest/verify-pool.js';
import { registerDevice } from '../../hub/devices/registry.js';
import { renderPunchReport } from '../../hub/reports/punches.js';
import { resolveHubConfig } from '../../hub/config.js';
import { makeDevice, seedOrgSql, tmpDir, type TestDevice } from './helpers.js';
import { TEST_DB, freshPostgres, sqlOf, type TestSql } from '../store.js';

describe(`core store: ingest batches (${TEST_DB})`, () => {
  let store: CoreStore;
  let sql: TestSql;
  let d: TestDevice;
  let drop = async () => {};
  const at = '2026-11-24T01:00:00.000Z';

  beforeEach(async () => {
    const pgDb = TEST_DB === 'postgres' ? await freshPostgres() : null;
    if (pgDb) drop = pgDb.drop;
    const opened = await openHubStores(pgDb ? { dbPath: '', postgresUrl: pgDb.url } : { dbPath: join(tmpDir('store'), 'hub.db'), postgresUrl: null });
    store = opened.store;
    sql = sqlOf(opened);
    await seedOrgSql(sql);
    const keys = generateDeviceKeys();
    await registerDevice(store, { siteCode: 'PKM-01-A', deviceId: 'kiosk-a', now: new Date() });
    await store.setDeviceEnrolled('kiosk-a', keys.publicKeyPem, 'x', at);
    d = makeDevice('kiosk-a', '', loadPrivateKey(keys.privateKeyPem), keys.publicKeyPem);
  });
  afterEach(async () => {
    await store.close();
    await drop();
  });
  const ingest = (ps: ReturnType<TestDevice['next']>[]) => store.ingestBatch(ps.map((punch) => ({ punch, siteCode: 'PKM-01-A', receivedAt: at })), []);

  it('tracks contiguous seq, opens gaps and closes them when filled (also out of order within a batch)', async () => {
    const p = Array.from({ length: 8 }, () => d.next());
    let r = await ingest([p[2]!, p[1]!, p[0]!]); // reversed within one batch: no gap
    expect(r.devices.get('kiosk-a')!.contiguousSeq).toBe(3);
    expect(await store.seqGaps('kiosk-a')).toEqual([]);
    r = await ingest([p[5]!]); // 4..5 missing
    expect(r.devices.get('kiosk-a')!.contiguousSeq).toBe(3);
    r = await ingest([p[7]!]); // 7 missing
    expect((await store.seqGaps('kiosk-a', true)).map((g) => [g.fromSeq, g.toSeq])).toEqual([[4, 5], [7, 7]]);
    expect((await store.getDevice('kiosk-a'))!.maxSeq).toBe(8);
    r = await ingest([p[4]!]); // partly fills 4..5
    expect((await store.seqGaps('kiosk-a', true)).map((g) => g.fromSeq)).toEqual([4, 7]);
    r = await ingest([p[6]!]); // 7 filled while 4 is still missing
    expect((await store.seqGaps('kiosk-a', true)).map((g) => g.fromSeq)).toEqual([4]);
    r = await ingest([p[3]!]);
    expect(r.devices.get('kiosk-a')!.contiguousSeq).toBe(8);
    expect(await store.seqGaps('kiosk-a', true)).toEqual([]);
    expect((await store.seqGaps('kiosk-a')).every((g) => g.closedAt)).toBe(true);
  });

  it('stores each id once, acks duplicates, refuses same-id-other-content and a reused seq', async () => {
    const a = d.next();
    expect((await ingest([a, a])).devices.get('kiosk-a')!.ids).toEqual([a.id, a.id]);
    const dup = await ingest([a]);
    expect(dup.duplicates).toBe(1);
    expect(dup.stored).toEqual([]);
    expect(dup.devices.get('kiosk-a')!.ids).toEqual([a.id]);
    const forged = d.next({ id: a.id }); // validly signed, same id, other seq/content
    const r1 = await ingest([forged]);
    expect(r1.devices.get('kiosk-a')!.rejected.map((x) => x.code)).toEqual(['replay_conflict']);
    d.seq = 0; // a kiosk whose journal was reset re-uses seq 1 under a new id
    d.prevHash = a.prevHash;
    const reuse = d.next();
    const r2 = await ingest([reuse]);
    expect(r2.devices.get('kiosk-a')!.rejected.map((x) => x.code)).toEqual(['seq_conflict']);
    expect(await store.countPunches({})).toBe(1);
    expect((await sql.all<{ code: string }>('SELECT code FROM rejections ORDER BY id')).map((r) => r.code)).toEqual(['replay_conflict', 'seq_conflict']);
  });

  it('flags chain breaks from either side, across batches and within one, and against a seq_conflict', async () => {
    const breaks = async () => (await sql.all<{ seq: number }>('SELECT seq FROM punches WHERE chain_break = 1 ORDER BY seq')).map((r) => Number(r.seq));
    const [p1, p2] = [d.next(), d.next()];
    expect((await ingest([p1, p2])).chainBreaks).toEqual([]);
    d.prevHash = GENESIS_HASH; // a wiped journal continuing after maxSeq: its chain restarts
    const [p3, p4] = [d.next(), d.next()];
    expect((await ingest([p3, p4])).chainBreaks).toEqual([{ id: p3.id, deviceId: 'kiosk-a', seq: 3 }]);
    // seq 6 arrives before 5 and chains to something else: unknown at first, flagged when 5 comes
    const p5 = d.next();
    const p6 = d.next({ prevHash: GENESIS_HASH });
    expect((await ingest([p6])).chainBreaks).toEqual([]);
    expect((await ingest([p5])).chainBreaks).toEqual([{ id: p6.id, deviceId: 'kiosk-a', seq: 6 }]);
    // within one batch, out of order: 8 follows 7, 7 does not follow 6
    const p7 = d.next({ prevHash: GENESIS_HASH });
    const p8 = d.next();
    expect((await ingest([p8, p7])).chainBreaks).toEqual([{ id: p7.id, deviceId: 'kiosk-a', seq: 7 }]);
    // a seq_conflict at 9 with a duplicate of 8 in the same batch: 10 is checked against the stored 9
    const p9 = d.next();
    const p10 = d.next();
    await ingest([p9]);
    d.seq = 8;
    d.prevHash = punchHash(p8);
    const other9 = d.next({ nip: '199001012015032001' });
    const r = await ingest([p8, other9, p10]);
    expect(r.devices.get('kiosk-a')!.rejected.map((x) => x.code)).toEqual(['seq_conflict']);
    expect(r.duplicates).toBe(1);
    expect(r.chainBreaks).toEqual([]);
    expect(await breaks()).toEqual([3, 6, 7]);
    expect((await store.getDevice('kiosk-a'))!.contiguousSeq).toBe(10);
  });

  it('keeps the photo and puts clock-unsynced punches up for review', async () => {
    const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 0xff, 0xd9]);
    const p = d.next({ photo: jpeg.toString('base64'), clock: { synced: false, source: 'system', bootId: 'b', monoMs: 5 } });
    await ingest([p]);
    const [row] = await sql.all('SELECT review_status, has_photo, clock_synced FROM punches WHERE id = ?', p.id);
    expect(row).toEqual({ review_status: 'pending', has_photo: 1, clock_synced: 0 });
    expect((await sql.all<{ jpeg: Buffer }>('SELECT jpeg FROM punch_photos WHERE punch_id = ?', p.id))[0]!.jpeg).toEqual(jpeg);
  });

  it('reports punches as CSV with a header and as a JSON array (times ISO UTC)', async () => {
    const a = d.next({ capturedAt: '2026-11-02T00:30:00.000Z' });
    const b = d.next({ capturedAt: '2026-11-03T00:30:00.000Z' });
    await ingest([a, b]);
    const csv = await renderPunchReport(store, { format: 'csv', from: '2026-11-02', to: '2026-11-03' });
    const lines = csv.trim().split('\n');
    expect(lines[0]).toBe('id,device_id,seq,nip,method,captured_at,site_code,clock_synced,clock_source,clock_offset_ms,score,liveness,has_photo,received_at,review_status');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain(`${a.id},kiosk-a,1,198503122010011002,face,2026-11-02T00:30:00.000Z,PKM-01-A,true`);
    const json = JSON.parse(await renderPunchReport(store, { format: 'json', nip: '198503122010011002' })) as { id: string }[];
    expect(json.map((p) => p.id)).toEqual([a.id, b.id]);
    await expect(renderPunchReport(store, { format: 'xml' })).rejects.toThrow(/--format must be json or csv/);
    await expect(renderPunchReport(store, { format: 'csv', from: 'kemarin' })).rejects.toThrow(/--from "kemarin"/);
  });
});

describe('ingest validation', () => {
  const topics = new Topics();
  const keys = generateDeviceKeys();
  const d = makeDevice('kiosk-a', '', loadPrivateKey(keys.privateKeyPem), keys.publicKeyPem);
  const device: DeviceRecord = {
    id: 'kiosk-a', siteCode: 'S', publicKeyPem: keys.publicKeyPem, mqttSecretHash: 'x', brokerPasswordHash: null, createdAt: '', enrolledAt: '', disabledAt: null,
    lastSeenAt: null, online: false, statusAt: null, contiguousSeq: 0, maxSeq: 0, backlog: null, backlogOldestAt: null,
  };
  const lookup = async (id: string) => (id === 'kiosk-a' ? device : null);
  const v = new InlineVerifier();
  const check = (topic: string, body: unknown) =>
    checkPunchMessage(topics, topic, Buffer.isBuffer(body) ? body : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)), lookup, v);

  it('gives each kind of bad input its own code', async () => {
    const p = d.next();
    expect(await check(topics.punch('kiosk-a'), p)).toMatchObject({ ok: true });
    expect(await check(topics.punch('kiosk-a'), '{oops')).toMatchObject({ ok: false, code: 'malformed_json' });
    expect(await check(topics.punch('kiosk-a'), { ...p, extra: 1 })).toMatchObject({ ok: false, code: 'schema', punchId: p.id });
    expect(await check(topics.punch('kiosk-a'), Buffer.alloc(MAX_PUNCH_BYTES + 1))).toMatchObject({ ok: false, code: 'oversized' });
    expect(await check(topics.punch('kiosk-b'), p)).toMatchObject({ ok: false, code: 'wrong_topic', topicDeviceId: 'kiosk-b' });
    expect(await check(topics.health('kiosk-a'), p)).toMatchObject({ ok: false, code: 'wrong_topic' });
    expect(await check(topics.punch('kiosk-a'), { ...p, seq: p.seq + 1 })).toMatchObject({ ok: false, code: 'bad_signature' });
    const ghost = makeDevice('kiosk-z', '', loadPrivateKey(keys.privateKeyPem), keys.publicKeyPem).next();
    expect(await check(topics.punch('kiosk-z'), ghost)).toMatchObject({ ok: false, code: 'unknown_device' });
    device.disabledAt = '2026-01-01';
    expect(await precheckPunchMessage(topics, topics.punch('kiosk-a'), Buffer.from(JSON.stringify(p)), lookup)).toMatchObject({ ok: false, code: 'disabled' });
    device.disabledAt = null;
    device.publicKeyPem = null;
    expect(await precheckPunchMessage(topics, topics.punch('kiosk-a'), Buffer.from(JSON.stringify(p)), lookup)).toMatchObject({ ok: false, code: 'not_enrolled' });
    device.publicKeyPem = keys.publicKeyPem;
  });

  it('verifies the same way on worker threads as inline', async () => {
    const { signatureInput } = await import('../../hub/ingest/validate.js');
    const pool = new WorkerPoolVerifier(2, 1);
    try {
      const { verifyPunch, loadPublicKey } = await import('../../protocol/index.js');
      const ps = Array.from({ length: 50 }, (_, i) => (i % 7 === 3 ? { ...d.next(), nip: '1' } : d.next()));
      // key order and spacing of the wire text do not matter: the signed bytes are canonical
      const texts = ps.map((p, i) => (i % 2 ? JSON.stringify(p) : JSON.stringify(Object.fromEntries(Object.entries(p).reverse()), null, 1)));
      const items = texts.map((t) => signatureInput(Buffer.from(t), keys.publicKeyPem));
      const got = await pool.verifyMany(items);
      expect(got).toEqual(await v.verifyMany(items));
      expect(got).toEqual(ps.map((p) => verifyPunch(p, loadPublicKey(keys.publicKeyPem))));
      expect(got.filter((x) => !x)).toHaveLength(7);
    } finally {
      await pool.close();
    }
  });
});

describe('hub settings', () => {
  it('refuses postgres:// clearly for now and parses flags over env', () => {
    expect(() => resolveHubConfig({}, { HADIR_DB_URL: 'postgres://localhost/test' })).toThrow(/SQLite store only so far/);
    const c = resolveHubConfig({ httpPort: 9000 } as never, { HADIR_HTTP_PORT: '8081', HADIR_MQTT_URL: 'mqtt://127.0.0.1:1883', HADIR_DATA_DIR: '/tmp/x' });
    expect(c).toMatchObject({ httpPort: 9000, mqttUrl: 'mqtt://127.0.0.1:1883', dataDir: '/tmp/x', dbPath: '/tmp/x/hub.db', prefix: 'hadir/v1' });
    expect(() => resolveHubConfig({}, { HADIR_HTTP_PORT: 'eighty', HADIR_MQTT_URL: 'localhost' })).toThrow(/httpPort.*mqttUrl|mqttUrl.*httpPort/);
  });
});
