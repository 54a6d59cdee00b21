import { afterAll, describe, expect, it } from 'vitest';
import { startHub, type RunningHub } from '../../hub/server.js';
import { TestKiosk, enrolTestDevice, privateMosquitto, seedOrgSql, tmpDir, waitFor } from './helpers.js';
import { sqlOf, testHubStore } from '../store.js';

describe('external broker restart', () => {
  const closers: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const c of closers.reverse()) await c().catch(() => undefined);
  });

  it('the hub reconnects, resubscribes and acks punches sent after a Mosquitto restart', async () => {
    const dir = tmpDir('mrestart');
    const mosq = await privateMosquitto(dir, 'allow_anonymous true');
    closers.push(() => mosq.stop());
    const db = await testHubStore();
    closers.push(db.drop);
    const hub: RunningHub = await startHub({ ...db.opts, dataDir: dir, httpPort: 0, mqttUrl: mosq.url, defaultMetrics: false, env: {}, batchDelayMs: 2 });
    closers.push(() => hub.close());
    await seedOrgSql(sqlOf(hub));
    const dev = await enrolTestDevice(hub.store, 'PKM-01-A', 'kiosk-r1');
    let k = await TestKiosk.connect(mosq.url, hub.ctx.topics, dev.id);
    const a = dev.next();
    await k.publish(a);
    await waitFor(() => k.ackedIds().has(a.id), 10_000, 'ack before restart');
    await k.close();
    // down long enough that the hub's reconnect attempts meet a refused connection first
    await mosq.stop();
    await new Promise((r) => setTimeout(r, 2500));
    await mosq.restart();
    await waitFor(() => (hub.ctx.mqtt as unknown as { connected(): boolean }).connected(), 20_000, 'hub reconnected');
    k = await TestKiosk.connect(mosq.url, hub.ctx.topics, dev.id);
    closers.push(() => k.close());
    const b = dev.next();
    // the kiosk resends until acked (as the real publisher does)
    await waitFor(async () => {
      if (k.ackedIds().has(b.id)) return true;
      await k.publish(b);
      await new Promise((r) => setTimeout(r, 500));
      return k.ackedIds().has(b.id);
    }, 20_000, 'ack after restart');
    expect((await hub.store.getDevice(dev.id))!.contiguousSeq).toBe(2);
  });
});
