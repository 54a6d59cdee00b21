import { beforeEach, describe, expect, it } from 'vitest';
import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import { Topics, ackSchema, generateDeviceKeys, loadPrivateKey, type Ack } from '../../protocol/index.js';
import { openStore } from '../../hub/store/open.js';
import { Ingestor } from '../../hub/ingest/ingestor.js';
import { createCoreMetrics } from '../../hub/metrics.js';
import { registerDevice } from '../../hub/devices/registry.js';
import type { HubBus, HubMqtt } from '../../hub/module-contract.js';
import type { CoreStore } from '../../hub/store/core-store.js';
import type { SqliteDb } from '../../hub/store/sqlite.js';
import { rootLogger } from '../../lib/logger.js';
import { makeDevice, seedOrg, tmpDir, type TestDevice } from './helpers.js';
import { systemClock } from '../../lib/clock.js';

/** Ack contents, unit level: the real Ingestor and store; the MQTT link records what would be published. */
describe('ingestor acks', () => {
  const topics = new Topics();
  let store: CoreStore;
  let db: SqliteDb;
  let ing: Ingestor;
  let sent: { topic: string; ack: Ack }[];
  let stored: { id: string }[][];
  let d: TestDevice;

  beforeEach(async () => {
    ({ store, db } = openStore({ dbPath: join(tmpDir('acks'), 'hub.db') }));
    seedOrg(db);
    sent = [];
    stored = [];
    const mqtt: HubMqtt = {
      subscribe: async () => {},
      publish: async (topic, payload) => void sent.push({ topic, ack: ackSchema.parse(JSON.parse(payload.toString())) }),
    };
    const bus: HubBus = new EventEmitter();
    bus.on('punches:stored', (s) => stored.push(s));
    ing = new Ingestor({ store, mqtt, topics, bus, clock: systemClock, log: rootLogger, metrics: createCoreMetrics({ defaults: false }), batchMax: 500, batchDelayMs: 1, verifyWorkers: 0 });
    const keys = generateDeviceKeys();
    await registerDevice(store, { siteCode: 'PKM-01-A', deviceId: 'kiosk-a', now: new Date() });
    await store.setDeviceEnrolled('kiosk-a', keys.publicKeyPem, 'x', new Date().toISOString());
    d = makeDevice('kiosk-a', '', loadPrivateKey(keys.privateKeyPem), keys.publicKeyPem);
  });
  const msg = (body: unknown, dev = 'kiosk-a') => ({ topic: topics.punch(dev), payload: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)), at: 0 });

  it('sends one ack per device per batch: stored + duplicate ids, contiguous seq, refusals with reasons', async () => {
    const a = d.next();
    const b = d.next();
    const bad = { ...d.next(), nip: '1' };
    await ing.processBatch([msg(a), msg(b), msg(a), msg(bad), msg('{nope')]);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.topic).toBe(topics.ack('kiosk-a'));
    expect(sent[0]!.ack.ids).toEqual([a.id, a.id, b.id]);
    expect(sent[0]!.ack.contiguousSeq).toBe(2);
    expect(sent[0]!.ack.rejected).toEqual([{ id: bad.id, reason: expect.stringMatching(/^bad_signature: /) }]);
    expect(stored).toEqual([[expect.objectContaining({ id: a.id }), expect.objectContaining({ id: b.id })]]);
  });

  it('acks a duplicate again with the current contiguous seq, and emits nothing new', async () => {
    const a = d.next();
    await ing.processBatch([msg(a)]);
    await ing.processBatch([msg(a)]);
    expect(sent.map((s) => s.ack)).toEqual([{ ids: [a.id], contiguousSeq: 1 }, { ids: [a.id], contiguousSeq: 1 }]);
    expect(stored).toHaveLength(1);
  });

  it('does not tell a disabled device its punches are refused for good; they go through once re-enabled', async () => {
    db.prepare("UPDATE devices SET disabled_at = '2026-01-01T00:00:00.000Z' WHERE id = 'kiosk-a'").run();
    const a = d.next();
    await ing.processBatch([msg(a)]);
    expect(sent.flatMap((s) => s.ack.rejected ?? [])).toEqual([]);
    expect(db.prepare('SELECT code FROM rejections').pluck().all()).toEqual(['disabled']);
    db.prepare("UPDATE devices SET disabled_at = NULL WHERE id = 'kiosk-a'").run();
    await ing.processBatch([msg(a)]);
    expect(sent.at(-1)!.ack).toEqual({ ids: [a.id], contiguousSeq: 1 });
  });

  it('acks nothing to an unknown device and nothing before the commit', async () => {
    const ghost = makeDevice('kiosk-zz', '', d.key, d.publicKeyPem).next();
    await ing.processBatch([msg(ghost, 'kiosk-zz')]);
    expect(sent).toEqual([]);
    // a store failure means no ack at all (the kiosk resends)
    const a = d.next();
    const orig = store.ingestBatch.bind(store);
    store.ingestBatch = async () => {
      throw new Error('disk full');
    };
    await expect(ing.processBatch([msg(a)])).rejects.toThrow(/disk full/);
    expect(sent).toEqual([]);
    store.ingestBatch = orig;
    await ing.processBatch([msg(a)]);
    expect(sent.at(-1)!.ack.ids).toEqual([a.id]);
  });
  it('bounds its queue under a flood: beyond queueMax messages are dropped unacked and counted; the rest is stored', async () => {
    const metrics = createCoreMetrics({ defaults: false });
    const bounded = new Ingestor({
      store, topics, clock: systemClock, log: rootLogger, metrics, batchMax: 500, batchDelayMs: 50, verifyWorkers: 0, queueMax: 3, bus: new EventEmitter(),
      mqtt: { subscribe: async () => {}, publish: async (topic, payload) => void sent.push({ topic, ack: ackSchema.parse(JSON.parse(payload.toString())) }) },
    });
    const ps = Array.from({ length: 5 }, () => d.next());
    for (const p of ps) bounded.push(topics.punch('kiosk-a'), Buffer.from(JSON.stringify(p)));
    await bounded.drain();
    await bounded.stop();
    expect(sent.flatMap((s) => s.ack.ids)).toEqual(ps.slice(0, 3).map((p) => p.id));
    expect((await metrics.registry.getSingleMetric('hadir_ingest_shed_total')!.get()).values[0]!.value).toBe(2);
    // the kiosk resends the two later: they are stored then, in order
    const again = new Ingestor({ store, topics, clock: systemClock, log: rootLogger, metrics, batchMax: 500, batchDelayMs: 1, verifyWorkers: 0, queueMax: 3, bus: new EventEmitter(), mqtt: bounded['o'].mqtt });
    for (const p of ps.slice(3)) again.push(topics.punch('kiosk-a'), Buffer.from(JSON.stringify(p)));
    await again.stop();
    expect(sent.at(-1)!.ack).toEqual({ ids: ps.slice(3).map((p) => p.id), contiguousSeq: 5 });
  });
});
