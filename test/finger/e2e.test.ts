import { EnrolSessions } from '../../hub/biometrics/enrol-sessions.js';
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDeviceKeys } from '../../protocol/index.js';
import { startHub, type RunningHub } from '../../hub/server.js';
import { registerDevice, enrolDevice } from '../../hub/devices/registry.js';
import { addUser } from '../../hub/users.js';
import { KioskApp } from '../../kiosk/app.js';
import { kioskConfigSchema } from '../../kiosk/config.js';
import type { KioskEvents } from '../../kiosk/extension-api.js';
import { createFingerExtension } from '../../kiosk/finger/extension.js';
import { createGpioExtension } from '../../kiosk/gpio/extension.js';
import { createCommandsExtension } from '../../kiosk/commands/extension.js';
import { simulatedEnrolTouch, simulatedSensors } from '../../kiosk/finger/simulator.js';
import { seedOrg, tmpDir, waitFor } from '../hub/helpers.js';

const SITI = '198503122010011002';
const BUDI = '199001012015032001';

/**
 * End to end: hub (embedded broker, SQLite) + kiosk core in simulate mode with the finger feature
 * on the emulator behind a real pty. Enrol at the kiosk → template at the hub → roster → sensor
 * library → finger punch → hub stores it with method "finger". A sensor fault leaves face punches working.
 */
describe('finger end to end through hub and kiosk (simulate)', () => {
  let hub: RunningHub;
  let app: KioskApp;
  let devicePassword = '';
  const dirs: string[] = [];

  beforeAll(async () => {
    const hubDir = tmpDir('finger-hub');
    const kioskDir = tmpDir('finger-kiosk');
    dirs.push(hubDir, kioskDir);
    hub = await startHub({ dataDir: hubDir, httpPort: 0, mqttPort: 0, httpHost: '127.0.0.1', rosterIntervalS: 1, env: {}, defaultMetrics: false });
    seedOrg(hub.db);
    const keys = generateDeviceKeys();
    const reg = await registerDevice(hub.store, { siteCode: 'PKM-01-A', deviceId: 'kiosk-finger-1', now: new Date() });
    const enr = await enrolDevice(hub.store, { token: reg.token, publicKeyPem: keys.publicKeyPem }, { hubUrl: hub.publicUrl, mqttUrl: hub.mqttUrl, prefix: hub.config.prefix }, new Date());
    devicePassword = enr.mqtt.password;
    const config = kioskConfigSchema.parse({
      deviceId: 'kiosk-finger-1',
      siteCode: 'PKM-01-A',
      hubUrl: `http://127.0.0.1:${hub.httpPort}`,
      dataDir: kioskDir,
      mqtt: { url: hub.mqttUrl.replace('localhost', '127.0.0.1'), username: 'kiosk-finger-1', password: enr.mqtt.password, prefix: hub.config.prefix },
      privateKeyPem: keys.privateKeyPem,
      finger: { pollMs: 20, timeoutMs: 200, backoffMs: 50, maxBackoffMs: 300, enrolTimeoutS: 10 },
    });
    app = new KioskApp(config, { simulate: true, screen: false, extensions: [createGpioExtension, createFingerExtension, createCommandsExtension] });
    await app.start();
  });

  afterAll(async () => {
    await app?.stop();
    await hub?.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  const openSession = (id: string, nip: string, finger: number) =>
    new EnrolSessions(hub.db).start({ id, deviceId: 'kiosk-finger-1', args: { nip, method: 'finger', finger, timeoutS: 120 }, opdCode: 'DINKES', by: 'test', now: new Date() });

  it('enrols at the kiosk, syncs back through the roster, and punches reach the hub with method "finger"', async () => {
    const sim = simulatedSensors.get('kiosk-finger-1')!;
    expect(sim).toBeDefined();
    await waitFor(() => app.health.components().finger?.state === 'ok', 10_000, 'finger ok');

    // Enrolment mode (as the remote command enrol_mode would ask): two captures of the same finger.
    // The hub accepts the upload only for the session such a command opens (test/security/biometric-enrolment.test.ts).
    openSession('e2e-1', SITI, 2);
    const result = new Promise<KioskEvents['enrol:result'][0]>((r) => app.bus.once('enrol:result', r));
    app.bus.emit('enrol:request', { requestId: 'e2e-1', nip: SITI, method: 'finger', finger: 2 });
    await simulatedEnrolTouch(sim, SITI, 2);
    const res = await result;
    expect(res, res.detail).toMatchObject({ ok: true });
    sim.control({ op: 'lift' });
    const row = hub.db.prepare('SELECT nip, finger, length(template) AS n, enrolled_device_id AS dev FROM finger_templates').get();
    expect(row).toEqual({ nip: SITI, finger: 2, n: 512, dev: 'kiosk-finger-1' });

    // Hub → retained config → kiosk roster refresh → library sync.
    await waitFor(() => sim.emulator.library.size === 1, 15_000, 'template loaded into the sensor');

    sim.control({ op: 'place', nip: SITI, finger: 2 });
    const stored = await waitFor(
      () => hub.db.prepare(`SELECT nip, method, score FROM punches WHERE method = 'finger'`).get() as { nip: string; method: string; score: number } | undefined,
      15_000,
      'finger punch at the hub',
    );
    expect(stored).toMatchObject({ nip: SITI, method: 'finger' });
    expect(stored.score).toBeGreaterThan(100);
    sim.control({ op: 'lift' });
    // The simulator's fake GPIO played the "recorded" pattern (green + one beep).
    expect(app.health.components().gpio).toMatchObject({ state: 'ok', detail: expect.stringContaining('last: ok') });
  });

  it('a sensor fault shows in kiosk health while face punches keep being recorded and delivered', async () => {
    const sim = simulatedSensors.get('kiosk-finger-1')!;
    sim.control({ op: 'fault', kind: 'garbage' });
    // On a loaded machine the 200 ms timeout can pass before the garbage arrives (TIMEOUT first): wait for the named code.
    await waitFor(() => /^GARBAGE:/.test(app.baseHealth().components?.finger?.detail ?? ''), 10_000, 'finger GARBAGE fault');
    expect(app.health.components().finger?.state).toBe('fault');
    const out = app.identify({ nip: BUDI, method: 'face', score: 0.81, liveness: 0.97 });
    expect(out.kind).toBe('recorded');
    await waitFor(() => hub.db.prepare(`SELECT 1 FROM punches WHERE nip = ? AND method = 'face'`).get(BUDI), 15_000, 'face punch at the hub');
    sim.control({ op: 'clear' });
    await waitFor(() => app.health.components().finger?.state === 'ok', 10_000, 'finger recovered');
  });

  it('hub finger API: kiosk upload validated, admin list scoped to the OPD, delete drops it from the roster', async () => {
    const base = `http://127.0.0.1:${hub.httpPort}/api/v1`;
    const dev = { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`kiosk-finger-1:${devicePassword}`).toString('base64')}` };
    const post = (body: unknown, headers = dev) => fetch(`${base}/kiosk/finger/templates`, { method: 'POST', headers, body: JSON.stringify(body) });
    const tpl = Buffer.alloc(512, 3).toString('base64');
    expect((await post({ nip: BUDI, finger: 1, template: tpl }, { ...dev, authorization: 'Basic eDp5' })).status).toBe(401);
    const short = await post({ nip: BUDI, finger: 1, template: Buffer.alloc(10).toString('base64') });
    expect(short.status).toBe(400);
    expect(((await short.json()) as { error: string }).error).toMatch(/template must decode to 256/);
    expect((await post({ nip: '111111111111111111', finger: 1, template: tpl })).status).toBe(404);
    expect((await post({ nip: '197001011990011001', finger: 1, template: tpl })).status).toBe(409); // inactive
    expect((await post({ nip: BUDI, finger: 11, template: tpl })).status).toBe(400);
    expect((await post({ nip: BUDI, finger: 6, template: tpl })).status).toBe(403); // no enrolment session
    openSession('api-1', BUDI, 6);
    expect((await post({ nip: BUDI, finger: 6, template: tpl })).status).toBe(201);

    const admin = await addUser(hub.store, { username: 'bkpsdm1', name: 'Admin', role: 'bkpsdm', now: new Date() });
    const other = await addUser(hub.store, { username: 'disdik1', name: 'Disdik', role: 'opd_admin', opdCode: 'DISDIK', now: new Date() });
    const get = (token: string, q = '') => fetch(`${base}/finger/templates${q}`, { headers: { authorization: `Bearer ${token}` } });
    const all = (await (await get(admin.token)).json()) as { items: { nip: string; finger: number; bytes: number }[] };
    expect(all.items.map((i) => `${i.nip}#${i.finger}`).sort()).toEqual([`${BUDI}#6`, `${SITI}#2`].sort());
    expect(JSON.stringify(all)).not.toContain(tpl.slice(0, 40)); // metadata only
    expect(((await (await get(other.token)).json()) as { items: unknown[] }).items).toEqual([]);
    expect((await get(other.token, '?opd=DINKES')).status).toBe(403);
    const del = (token: string) => fetch(`${base}/finger/templates/${BUDI}/6`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
    expect((await del(other.token)).status).toBe(403);
    expect((await del(admin.token)).status).toBe(200);
    expect((await del(admin.token)).status).toBe(404);
    const roster = (await (await fetch(`${base}/kiosk/roster`, { headers: dev })).json()) as { people: { nip: string; finger?: { finger: number }[] }[] };
    expect(roster.people.find((p) => p.nip === SITI)?.finger?.map((f) => f.finger)).toEqual([2]);
    expect(roster.people.find((p) => p.nip === BUDI)?.finger).toBeUndefined();
  });

  it('enrolment mode through the remote command (hub API → MQTT cmd → kiosk) stores the template at the hub', async () => {
    const sim = simulatedSensors.get('kiosk-finger-1')!;
    const admin = await addUser(hub.store, { username: 'bkpsdm2', name: 'Admin 2', role: 'bkpsdm', now: new Date() });
    const res = await fetch(`http://127.0.0.1:${hub.httpPort}/api/v1/devices/kiosk-finger-1/commands`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${admin.token}` },
      body: JSON.stringify({ cmd: 'enrol_mode', args: { nip: BUDI, method: 'finger', finger: 3 }, waitS: 0 }),
    });
    expect(res.status, await res.clone().text()).toBe(202);
    await simulatedEnrolTouch(sim, BUDI, 3);
    sim.control({ op: 'lift' });
    await waitFor(() => hub.db.prepare('SELECT 1 FROM finger_templates WHERE nip = ? AND finger = 3').get(BUDI), 15_000, 'template from the remote enrolment');
    await waitFor(() => sim.emulator.library.size === 2, 15_000, 'both templates in the sensor library');
  });
});
