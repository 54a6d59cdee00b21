import { afterAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { Topics } from '../../protocol/index.js';
import { openStore } from '../../hub/store/open.js';
import { brokerAuthFiles } from '../../hub/devices/registry.js';
import { startHub } from '../../hub/server.js';
import { TestKiosk, enrolTestDevice, privateMosquitto, seedOrg, tmpDir, waitFor } from './helpers.js';

/**
 * The documented Mosquitto deployment, for real: a private Mosquitto with allow_anonymous false,
 * the password file and ACL written by `hadir device broker-passwd`, the hub logging in with its
 * own user, kiosks with the passwords they got at enrolment.
 */
describe('Mosquitto with the generated password file and ACL', () => {
  const closers: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const c of closers.reverse()) await c().catch(() => undefined);
  });

  it('authenticates kiosks and the hub, and keeps each kiosk to its own topics', async () => {
    const dir = tmpDir('macl');
    const { store, db } = openStore({ dbPath: join(dir, 'hub.db') });
    seedOrg(db);
    const a = await enrolTestDevice(store, 'PKM-01-A', 'kiosk-acl-a');
    const b = await enrolTestDevice(store, 'PKM-01-A', 'kiosk-acl-b');
    const files = await brokerAuthFiles(store, { prefix: 'hadir/v1', hubUser: 'hadir-hub', hubPassword: 'hub-secret-1' });
    expect(files.included).toEqual(['kiosk-acl-a', 'kiosk-acl-b']);
    await store.close();
    writeFileSync(join(dir, 'passwd'), files.passwd, { mode: 0o600 });
    writeFileSync(join(dir, 'acl'), files.acl);
    // started as root, Mosquitto would drop to its own user, which cannot read a private temp dir
    const mosq = await privateMosquitto(dir, `user root\nallow_anonymous false\npassword_file ${join(dir, 'passwd')}\nacl_file ${join(dir, 'acl')}`);
    closers.push(() => mosq.stop());

    const hub = await startHub({ dataDir: dir, httpPort: 0, mqttUrl: `mqtt://hadir-hub:hub-secret-1@127.0.0.1:${mosq.port}`, defaultMetrics: false, env: {}, batchDelayMs: 2 });
    closers.push(() => hub.close());
    expect(hub.mqttUrl).toBe(`mqtt://127.0.0.1:${mosq.port}`); // what kiosks are told: never the hub's login
    const topics = new Topics();

    await expect(TestKiosk.connect(mosq.url, topics, a.id, 'wrong')).rejects.toThrow(/Not authorized|Bad username/i);
    await expect(TestKiosk.connect(mosq.url, topics, a.id)).rejects.toThrow(/Not authorized|Bad username/i);

    const ka = await TestKiosk.connect(mosq.url, topics, a.id, a.password);
    closers.push(() => ka.close());
    const p1 = a.next();
    await ka.publish(p1);
    await waitFor(() => ka.ackedIds().has(p1.id), 10_000, 'ack through the ACL');

    // a under b's topic: Mosquitto drops it silently (MQTT 3.1.1); nothing reaches the hub
    const forged = b.next();
    await ka.publish(forged, topics.punch(b.id));
    const p2 = a.next();
    await ka.publish(p2);
    await waitFor(() => ka.ackedIds().has(p2.id), 10_000, 'next ack');
    await hub.ingestor.drain();
    expect(await hub.store.countPunches({ deviceId: b.id })).toBe(0);
    expect((await hub.store.getDevice(a.id))!.contiguousSeq).toBe(2);
  });
});
