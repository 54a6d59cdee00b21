import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { startHub, type RunningHub } from '../../hub/server.js';
import { hashPassword } from '../../hub/secrets.js';
import { rootLogger } from '../../lib/logger.js';
import { Topics } from '../../protocol/index.js';
import { TestKiosk, enrolTestDevice, seedOrgSql, tmpDir } from './helpers.js';
import { sqlOf, testHubStore } from '../store.js';

/**
 * Connection admission (issue 16): a device's secret is checked with a fast hash, so a restarted hub
 * admits a fleet without one scrypt (~50–170 ms of CPU) per kiosk; devices enrolled with a scrypt
 * hash are upgraded at their first successful login.
 */
describe('device secrets', () => {
  let hub: RunningHub | undefined;
  const dir = tmpDir('device-secret');
  let drop = async () => {};
  afterEach(async () => {
    await hub?.close();
    await drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('new enrolments store a fast hash; an old scrypt hash is upgraded on the first good login, never on a bad one', async () => {
    const db = await testHubStore();
    drop = db.drop;
    hub = await startHub({ ...db.opts, dataDir: dir, httpPort: 0, mqttPort: 0, defaultMetrics: false, env: {}, modules: [], log: rootLogger.child({}, { level: 'silent' }) });
    await seedOrgSql(sqlOf(hub));
    const topics = new Topics('hadir/v1');
    const fresh = await enrolTestDevice(hub.store, 'PKM-01-A', 'kiosk-new');
    expect((await hub.store.getDevice('kiosk-new'))!.mqttSecretHash).toMatch(/^sha256\$/);
    await (await TestKiosk.connect(hub.mqttUrl, topics, 'kiosk-new', fresh.password)).close();

    const old = await enrolTestDevice(hub.store, 'PKM-01-A', 'kiosk-old');
    const d = (await hub.store.getDevice('kiosk-old'))!;
    const scrypt = hashPassword(old.password); // as enrolment stored it before
    await hub.store.setDeviceEnrolled('kiosk-old', d.publicKeyPem!, scrypt, d.enrolledAt!);
    await expect(TestKiosk.connect(hub.mqttUrl, topics, 'kiosk-old', 'wrong')).rejects.toThrow(/Bad username or password|Not authorized/i);
    expect((await hub.store.getDevice('kiosk-old'))!.mqttSecretHash).toBe(scrypt);
    await (await TestKiosk.connect(hub.mqttUrl, topics, 'kiosk-old', old.password)).close();
    expect((await hub.store.getDevice('kiosk-old'))!.mqttSecretHash).toMatch(/^sha256\$/);
    // and the upgraded hash still admits the same secret, over MQTT and HTTP Basic
    await (await TestKiosk.connect(hub.mqttUrl, topics, 'kiosk-old', old.password)).close();
    const basic = (pw: string) => ({ authorization: `Basic ${Buffer.from(`kiosk-old:${pw}`).toString('base64')}` });
    expect((await fetch(`http://127.0.0.1:${hub.httpPort}/api/v1/kiosk/state`, { headers: basic(old.password) })).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${hub.httpPort}/api/v1/kiosk/state`, { headers: basic('wrong') })).status).toBe(401);
  });
});
