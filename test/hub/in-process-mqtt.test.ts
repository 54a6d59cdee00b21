import { afterEach, describe, expect, it } from 'vitest';
import { Aedes } from 'aedes';
import { inProcessHubMqtt } from '../../hub/mqtt/in-process.js';
import { rootLogger } from '../../lib/logger.js';

/** The hub's in-process MQTT side on the embedded broker behaves like a TCP subscriber would. */
describe('in-process hub MQTT (embedded aedes)', () => {
  let broker: Aedes;
  afterEach(async () => new Promise<void>((r) => broker.close(() => r())));

  const publish = (topic: string, payload: string, retain = false) =>
    new Promise<void>((res, rej) => broker.publish({ cmd: 'publish', topic, payload: Buffer.from(payload), qos: 1, retain, dup: false }, (e) => (e ? rej(e) : res())));

  it('delivers retained messages at subscribe, then live ones; filters by topic; survives a throwing handler', async () => {
    broker = await Aedes.createBroker();
    const log = rootLogger.child({}, { level: 'silent' });
    const mqtt = inProcessHubMqtt(broker, log);
    await publish('hadir/v1/kiosk/k1/status', '{"online":true}', true);
    await publish('hadir/v1/kiosk/k2/status', '', true); // cleared: not delivered
    const got: string[] = [];
    await mqtt.subscribe('hadir/v1/kiosk/+/status', (t, p) => got.push(`${t} ${p.toString()}`));
    await mqtt.subscribe('hadir/v1/kiosk/+/punch', () => {
      throw new Error('handler bug');
    });
    expect(got).toEqual(['hadir/v1/kiosk/k1/status {"online":true}']);
    await publish('hadir/v1/kiosk/k3/status', '{"online":false}');
    await publish('hadir/v1/kiosk/k3/punch', '{}'); // the throwing handler is logged, not fatal
    await publish('hadir/v1/other', 'x');
    expect(got).toEqual(['hadir/v1/kiosk/k1/status {"online":true}', 'hadir/v1/kiosk/k3/status {"online":false}']);
    // the hub's own publish goes through the broker (retained store included)
    await mqtt.publish('hadir/v1/kiosk/k1/config', '{"v":1}', { retain: true });
    const seen: string[] = [];
    await mqtt.subscribe('hadir/v1/kiosk/k1/config', (_t, p) => seen.push(p.toString()));
    expect(seen).toEqual(['{"v":1}']);
    expect(mqtt.connected()).toBe(true);
    await mqtt.close();
    expect(mqtt.connected()).toBe(false);
    await publish('hadir/v1/kiosk/k4/status', '{"online":true}');
    expect(got).toHaveLength(2); // unsubscribed
    await expect(mqtt.publish('x', 'y')).rejects.toThrow(/closed/);
  });
});
