import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { Topics } from '../../protocol/index.js';
import { startHub, type RunningHub } from '../../hub/server.js';
import { TestKiosk, enrolTestDevice, metricValue, seedOrgSql, tmpDir } from './helpers.js';
import { sqlOf, testHubStore } from '../store.js';

/**
 * A denied SUBSCRIBE on the embedded broker (real hub, aedes on a free port, a real mqtt.js client
 * logged in as an enrolled device) is answered SUBACK 0x80 and the connection stays up (MQTT 3.1.1
 * §3.9.3), instead of being closed (the client would reconnect and retry in a loop).
 */
describe('embedded broker: denied SUBSCRIBE', () => {
  let hub: RunningHub;
  let dir: string;
  let k: TestKiosk;
  let topics: Topics;

  let drop = async () => {};
  beforeAll(async () => {
    dir = tmpDir('suback');
    const db = await testHubStore();
    drop = db.drop;
    hub = await startHub({ ...db.opts, dataDir: dir, httpPort: 0, mqttPort: 0, httpHost: '127.0.0.1', env: {}, defaultMetrics: false, log: pino({ level: 'silent' }) } as never);
    await seedOrgSql(sqlOf(hub));
    topics = new Topics(hub.config.prefix);
    const dev = await enrolTestDevice(hub.store, 'PKM-01-A', 'kiosk-suback', hub.config.prefix);
    k = await TestKiosk.connect(`mqtt://127.0.0.1:${hub.mqttPort}`, topics, dev.id, dev.password);
  });
  afterAll(async () => {
    await k?.close();
    await hub?.close();
    await drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers 0x80 for the forbidden filter, grants the allowed one in the same packet, and keeps the connection', async () => {
    let closed = false;
    k.client.on('close', () => (closed = true));
    // mqtt.js rejects a SUBACK with a failure code; the error carries the SUBACK packet itself.
    const suback = async (subs: Record<string, { qos: 0 | 1 }>) => {
      try {
        await k.client.subscribeAsync(subs);
        return 'no failure code';
      } catch (e) {
        return (e as { packet?: { granted: number[] } }).packet?.granted ?? (e as Error).message;
      }
    };
    expect(await suback({ [topics.ack('other-kiosk')]: { qos: 1 }, [topics.config(k.id)]: { qos: 1 } })).toEqual([0x80, 1]);
    expect(await suback({ 'hadir/#': { qos: 0 } })).toEqual([0x80]);
    // Still connected: a publish round-trips through the broker to our own allowed subscription.
    await new Promise((r) => setTimeout(r, 200));
    expect(closed).toBe(false);
    expect(k.client.connected).toBe(true);
    await k.client.publishAsync(topics.status(k.id), '{"online":true}', { qos: 1, retain: true });
    const text = await (await fetch(`http://127.0.0.1:${hub.httpPort}/metrics`)).text();
    expect(metricValue(text, 'hadir_mqtt_denied_total', 'kind="subscribe"')).toBe(2);
    expect(closed).toBe(false);
  });
});
