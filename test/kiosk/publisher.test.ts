import { afterEach, describe, expect, it } from 'vitest';
import mqtt from 'mqtt';
import { EventEmitter } from 'node:events';
import { rootLogger } from '../../lib/logger.js';
import { loadPrivateKey } from '../../protocol/index.js';
import { Journal } from '../../kiosk/journal.js';
import { MqttLink } from '../../kiosk/link.js';
import { Publisher } from '../../kiosk/publisher.js';
import { buildPunch } from '../../kiosk/punch.js';
import type { KioskBus } from '../../kiosk/extension-api.js';
import { SystemClock } from '../../kiosk/core-clock.js';
import { randomPrefix, startBroker, startResponder, testConfig, tmpDir, waitFor } from './helpers.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(opts: { ackTimeoutMs?: number; maxBackoffMs?: number; window?: number; now?: () => number; random?: () => number } = {}) {
  const broker = await startBroker();
  cleanups.push(() => broker.close());
  const prefix = randomPrefix();
  const dir = tmpDir();
  const { config, publicKeyPem } = testConfig({ dataDir: dir, mqttUrl: broker.url, prefix });
  const responder = await startResponder(broker.url, prefix, publicKeyPem);
  cleanups.push(() => responder.close());
  const journal = Journal.open(dir);
  cleanups.push(() => journal.close());
  const bus = new EventEmitter() as KioskBus;
  const log = rootLogger.child({ test: 'publisher' });
  const key = loadPrivateKey(config.privateKeyPem);
  const clock = new SystemClock();
  const append = (n: number) => {
    for (let i = 0; i < n; i++) {
      const r = journal.append(`n${i}`, () => null, (head) => buildPunch({ deviceId: config.deviceId, head, stamp: clock.stamp(), identification: { nip: `n${i}`, method: 'face', score: 0.8 } }, key), new Date().toISOString());
      if (r.kind === 'recorded') bus.emit('punch:journaled', { id: r.punch.id, seq: r.punch.seq, nip: r.punch.nip, capturedAt: r.punch.capturedAt });
    }
  };
  const makeLink = () =>
    new MqttLink({ deviceId: config.deviceId, url: broker.url, username: 'u', password: 'p', prefix, appVersion: 'test', bootId: 'b', log, bus, reconnectPeriodMs: 200 });
  const link = makeLink();
  const publisher = new Publisher({ journal, link, bus, log, ...opts });
  const start = async () => {
    link.start();
    publisher.start();
    await waitFor(() => link.connected, 10_000, 'mqtt connect');
  };
  cleanups.push(async () => {
    publisher.stop();
    await link.stop();
  });
  return { broker, responder, journal, bus, link, publisher, append, start, config, makeLink, log };
}

describe('publisher (real aedes broker, test ack responder)', () => {
  it('delivers in seq order and marks delivered only on the application ack', async () => {
    const s = await setup();
    s.responder.dropNext(1_000_000); // broker PUBACKs everything, "hub" never acks
    s.append(5);
    await s.start();
    await waitFor(() => s.responder.received >= 5, 10_000, 'punches at the broker');
    await new Promise((r) => setTimeout(r, 300));
    expect(s.journal.stats().undelivered).toBe(5); // PUBACK is not delivery
    expect(s.publisher.inFlightCount).toBe(5);
  });

  it('sends the backlog in order and empties it on acks', async () => {
    const s = await setup({ window: 50 });
    s.append(400);
    const order: number[] = [];
    s.bus.on('punch:delivered', () => {});
    await s.start();
    await waitFor(() => s.journal.stats().undelivered === 0, 20_000, 'backlog drained');
    for (const p of s.responder.stored.values()) order.push(p.seq);
    expect(order).toEqual(Array.from({ length: 400 }, (_, i) => i + 1));
    expect(s.responder.stored.size).toBe(400);
  });

  it('re-sends after a missing ack (timeout with backoff), never marks it twice', async () => {
    let t = Date.parse('2026-11-24T00:30:00.000Z');
    const s = await setup({ ackTimeoutMs: 300, now: () => t });
    await s.start();
    s.responder.dropNext(3);
    s.append(3);
    await waitFor(() => s.responder.received >= 3, 5000, 'first sends');
    expect(s.journal.stats().undelivered).toBe(3);
    t += 1000; // past every first re-send time: the publisher's timer re-sends them
    await waitFor(() => s.journal.stats().undelivered === 0, 10_000, 'delivered after resend');
    expect(s.publisher.counters.resent).toBeGreaterThanOrEqual(3);
    const marked = s.journal.rows().map((r) => r.deliveredAt);
    expect(marked).toEqual(Array(3).fill('2026-11-24T00:30:01.000Z'));
    expect(s.publisher.counters.acked).toBe(3);

    // The hub acks a late copy of the same punches again: they are not marked a second time.
    t += 60_000;
    const again = new Promise((r) => s.bus.once('punch:delivered', r));
    const hub = await mqtt.connectAsync(s.broker.url, { protocolVersion: 4 });
    await hub.publishAsync(s.link.topics.ack(s.config.deviceId), JSON.stringify({ ids: s.journal.rows().map((r) => r.id), contiguousSeq: 3 }), { qos: 1 });
    await hub.endAsync();
    await again;
    expect(s.journal.rows().map((r) => r.deliveredAt)).toEqual(marked);
    expect(s.publisher.counters.acked).toBe(3);
  });

  it('re-send times follow the backoff with the injected clock and jitter: ackTimeout × 2^(n−1), capped, × (0.8 + 0.4·random)', async () => {
    let t = 0;
    let jitter = 0; // random() → 0: the earliest re-send (× 0.8)
    const s = await setup({ ackTimeoutMs: 1000, maxBackoffMs: 3000, now: () => t, random: () => jitter });
    s.responder.dropNext(1_000_000); // the hub never acks
    await s.start();
    s.append(1);
    await waitFor(() => s.responder.received === 1, 5000, 'first send');
    const resendAt = (ms: number) => {
      t = ms - 1;
      s.publisher.resendDue();
      expect(s.publisher.counters.resent, `nothing re-sent at ${t} ms`).toBe(resends);
      t = ms;
      s.publisher.resendDue();
      expect(s.publisher.counters.resent, `re-sent at ${t} ms`).toBe(++resends);
    };
    let resends = 0;
    // Each re-send plans the next one with the jitter of that moment.
    resendAt(800); // first send + 1000 × 0.8; next: + 2000 × 0.8
    jitter = 1; // from here the latest re-send (× 1.2)
    resendAt(800 + 1600); // next: + min(4000, 3000) × 1.2
    resendAt(2400 + 3600); // next: still capped at 3000, × 1.2
    resendAt(6000 + 3600);
    await waitFor(() => s.responder.received === 5, 5000, 'every re-send on the wire');
    expect(s.journal.stats().undelivered).toBe(1);
  });

  it('records rejected punches on the journal row and stops sending them', async () => {
    let t = 0;
    const s = await setup({ ackTimeoutMs: 200, now: () => t });
    s.append(3);
    const second = s.journal.pending(0, 10)[1]!;
    s.responder.reject.set(second.id, 'bad signature');
    await s.start();
    await waitFor(() => s.journal.stats().undelivered === 0, 10_000, 'settled');
    const st = s.journal.stats();
    expect(st.rejected).toBe(1);
    expect(s.journal.rows()[1]!.rejectedReason).toBe('bad signature');
    expect(s.publisher.inFlightCount).toBe(0);
    t += 3_600_000; // an hour of ack timeouts later: nothing is due, the rejected punch is not re-sent
    s.publisher.resendDue();
    expect(s.publisher.counters.resent).toBe(0);
    expect(s.publisher.counters.rejected).toBe(1);
  });

  it('resumes after the broker restarts (persistent session, re-send from the journal)', async () => {
    const s = await setup({ ackTimeoutMs: 500 });
    await s.start();
    s.append(10);
    await waitFor(() => s.journal.stats().undelivered === 0, 10_000, 'first batch');
    // Kill the broker (in-memory: sessions lost), journal more offline, bring a new broker up on the same port.
    const port = s.broker.port;
    await s.broker.close();
    await waitFor(() => !s.link.connected, 10_000, 'disconnect');
    s.append(20);
    expect(s.journal.stats().undelivered).toBe(20);
    const b2 = await startBroker(port);
    cleanups.push(() => b2.close());
    const r2 = await startResponder(`mqtt://127.0.0.1:${port}`, s.link.topics.prefix, (await import('node:crypto')).createPublicKey(s.config.privateKeyPem).export({ type: 'spki', format: 'pem' }).toString());
    cleanups.push(() => r2.close());
    await waitFor(() => s.journal.stats().undelivered === 0, 20_000, 'backlog after broker restart');
    expect([...r2.stored.values()].map((p) => p.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 11));
  });
});
