import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Topics } from '../../protocol/index.js';
import { rootLogger } from '../../lib/logger.js';
import { openStore } from '../../hub/store/open.js';
import { createCoreMetrics } from '../../hub/metrics.js';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../hub/mqtt/broker.js';
import { tmpDir } from './helpers.js';
import { systemClock } from '../../lib/clock.js';

/**
 * The embedded broker under a regency's burst (issue 16): aedes 1.2.0 with its own mqemitter 7.1.0
 * died with `RangeError: Maximum call stack size exceeded` (Qlobber._match2 ← MQEmitter._do ←
 * released ← fastparallel) once a few thousand messages waited for a delivery slot and the
 * listeners then completed synchronously — `hadir bench ingest --devices 500`. This reproduces that
 * exact state in well under a second: the delivery slots are held busy, 20,000 messages queue up
 * behind them, then the slots are released.
 */
describe('embedded broker: many queued messages', () => {
  let broker: EmbeddedBroker | undefined;
  let close: (() => void) | undefined;
  const dir = tmpDir('broker-load');
  afterEach(async () => {
    await broker?.close();
    close?.();
    rmSync(dir, { recursive: true, force: true });
  });

  it('delivers 20,000 messages queued behind busy slots, in order, without overflowing the stack', async () => {
    const { store } = openStore({ dbPath: join(dir, 'hub.db') });
    close = () => void store.close();
    const log = rootLogger.child({}, { level: 'silent' });
    broker = await startEmbeddedBroker({ port: 0, host: '127.0.0.1', topics: new Topics('hadir/v1'), store, hubSecret: 's', log, metrics: createCoreMetrics({ defaults: false }), clock: systemClock });
    const aedes = broker.aedes;
    const held: (() => void)[] = [];
    const got: number[] = [];
    let holding = true;
    await new Promise<void>((res) =>
      aedes.subscribe(
        'hadir/v1/kiosk/+/punch',
        (packet, cb) => {
          got.push(Number((packet.payload as Buffer).toString()));
          if (holding) held.push(cb); // a slow subscriber: the slot stays busy
          else cb();
        },
        () => res(),
      ),
    );
    const n = 20_000;
    let published = 0;
    for (let i = 0; i < n; i++) {
      aedes.publish({ cmd: 'publish', topic: `hadir/v1/kiosk/k${i % 500}/punch`, payload: Buffer.from(String(i)), qos: 0, retain: false, dup: false }, () => void published++);
    }
    expect(held.length).toBeGreaterThan(0); // the slots are full: the rest waits in the broker's queue
    expect(got.length).toBeLessThan(n);
    holding = false;
    for (const cb of held.splice(0)) cb(); // threw RangeError here before the fix
    await new Promise((r) => setImmediate(r));
    expect(got).toHaveLength(n);
    expect(got).toEqual(Array.from({ length: n }, (_, i) => i));
    expect(published).toBe(n);
  });

  it('retained messages: an exact subscription is a lookup, not a scan of all of them; wildcards still match all', async () => {
    const { store } = openStore({ dbPath: join(dir, 'hub.db') });
    close = () => void store.close();
    const log = rootLogger.child({}, { level: 'silent' });
    broker = await startEmbeddedBroker({ port: 0, host: '127.0.0.1', topics: new Topics('hadir/v1'), store, hubSecret: 's', log, metrics: createCoreMetrics({ defaults: false }), clock: systemClock });
    const aedes = broker.aedes;
    const n = 4000;
    const publish = (topic: string, payload: string) =>
      new Promise<void>((res, rej) => aedes.publish({ cmd: 'publish', topic, payload: Buffer.from(payload), qos: 1, retain: true, dup: false }, (e) => (e ? rej(e) : res())));
    for (let i = 0; i < n; i++) await publish(`hadir/v1/kiosk/k${i}/config`, `{"v":${i}}`);
    await publish('hadir/v1/kiosk/k7/config', ''); // cleared
    const persistence = (aedes as unknown as { persistence: { createRetainedStreamCombi(p: string[]): AsyncIterable<{ topic: string; payload: Buffer }> } }).persistence;
    const read = async (patterns: string[]) => {
      const out: string[] = [];
      for await (const m of persistence.createRetainedStreamCombi(patterns)) out.push(`${m.topic}=${m.payload.toString()}`);
      return out;
    };
    expect(await read(['hadir/v1/kiosk/k5/config', 'hadir/v1/kiosk/k5/cmd', 'hadir/v1/kiosk/k7/config'])).toEqual(['hadir/v1/kiosk/k5/config={"v":5}']);
    expect(await read(['hadir/v1/kiosk/+/config'])).toHaveLength(n - 1);
    // what 4,000 reconnecting kiosks ask (ack, config, cmd each): a scan each was 48 million topic tests (~10 s here)
    const t = performance.now();
    for (let i = 0; i < n; i++) await read([`hadir/v1/kiosk/k${i}/ack`, `hadir/v1/kiosk/k${i}/config`, `hadir/v1/kiosk/k${i}/cmd`]);
    expect(performance.now() - t).toBeLessThan(3000);
  });
});
