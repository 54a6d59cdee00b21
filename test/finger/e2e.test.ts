import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDeviceKeys } from '../../protocol/index.js';
import { startHub, type RunningHub } from '../../hub/server.js';
import { registerDevice, enrolDevice } from '../../hub/devices/registry.js';
import { KioskApp } from '../../kiosk/app.js';
import { kioskConfigSchema } from '../../kiosk/config.js';
import type { KioskEvents } from '../../kiosk/extension.js';
import { createFingerExtension } from '../../kiosk/finger/extension.js';
import { simulatedSensors } from '../../kiosk/finger/simulator.js';
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
  const dirs: string[] = [];

  beforeAll(async () => {
    const hubDir = tmpDir('finger-hub');
    const kioskDir = tmpDir('finger-kiosk');
    dirs.push(hubDir, kioskDir);
    hub = await startHub({ dataDir: hubDir, httpPort: 0, mqttPort: 0, httpHost: '127.0.0.1', rosterIntervalS: 1, env: {}, defaultMetrics: false });
    seedOrg(hub.ctx.db);
    const keys = generateDeviceKeys();
    const reg = await registerDevice(hub.store, { siteCode: 'PKM-01-A', deviceId: 'kiosk-finger-1', now: new Date() });
    const enr = await enrolDevice(hub.store, { token: reg.token, publicKeyPem: keys.publicKeyPem }, { hubUrl: hub.publicUrl, mqttUrl: hub.mqttUrl, prefix: hub.config.prefix }, new Date());
    const config = kioskConfigSchema.parse({
      deviceId: 'kiosk-finger-1',
      siteCode: 'PKM-01-A',
      hubUrl: `http://127.0.0.1:${hub.httpPort}`,
      dataDir: kioskDir,
      mqtt: { url: hub.mqttUrl.replace('localhost', '127.0.0.1'), username: 'kiosk-finger-1', password: enr.mqtt.password, prefix: hub.config.prefix },
      privateKeyPem: keys.privateKeyPem,
      finger: { pollMs: 20, timeoutMs: 200, backoffMs: 50, maxBackoffMs: 300, enrolTimeoutS: 10 },
    });
    app = new KioskApp(config, { simulate: true, screen: false, extensions: [createFingerExtension] });
    await app.start();
  });

  afterAll(async () => {
    await app?.stop();
    await hub?.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('enrols at the kiosk, syncs back through the roster, and punches reach the hub with method "finger"', async () => {
    const sim = simulatedSensors.get('kiosk-finger-1')!;
    expect(sim).toBeDefined();
    await waitFor(() => app.health.components().finger?.state === 'ok', 10_000, 'finger ok');

    // Enrolment mode (as the remote command enrol_mode would ask): two captures of the same finger.
    const result = new Promise<KioskEvents['enrol:result'][0]>((r) => app.bus.once('enrol:result', r));
    app.bus.emit('enrol:request', { requestId: 'e2e-1', nip: SITI, method: 'finger', finger: 2 });
    sim.control({ op: 'place', nip: SITI, finger: 2 });
    await new Promise((r) => setTimeout(r, 200));
    sim.control({ op: 'lift' });
    await new Promise((r) => setTimeout(r, 150));
    sim.control({ op: 'place', nip: SITI, finger: 2 });
    expect(await result).toMatchObject({ ok: true });
    sim.control({ op: 'lift' });
    const row = hub.ctx.db.prepare('SELECT nip, finger, length(template) AS n, enrolled_device_id AS dev FROM finger_templates').get();
    expect(row).toEqual({ nip: SITI, finger: 2, n: 512, dev: 'kiosk-finger-1' });

    // Hub → retained config → kiosk roster refresh → library sync.
    await waitFor(() => sim.emulator.library.size === 1, 15_000, 'template loaded into the sensor');

    sim.control({ op: 'place', nip: SITI, finger: 2 });
    const stored = await waitFor(
      () => hub.ctx.db.prepare(`SELECT nip, method, score FROM punches WHERE method = 'finger'`).get() as { nip: string; method: string; score: number } | undefined,
      15_000,
      'finger punch at the hub',
    );
    expect(stored).toMatchObject({ nip: SITI, method: 'finger' });
    expect(stored.score).toBeGreaterThan(100);
    sim.control({ op: 'lift' });
  });

  it('a sensor fault shows in kiosk health while face punches keep being recorded and delivered', async () => {
    const sim = simulatedSensors.get('kiosk-finger-1')!;
    sim.control({ op: 'fault', kind: 'garbage' });
    await waitFor(() => app.health.components().finger?.state === 'fault', 10_000, 'finger fault');
    expect(app.baseHealth().components?.finger?.detail).toMatch(/^GARBAGE:/);
    const out = app.identify({ nip: BUDI, method: 'face', score: 0.81, liveness: 0.97 });
    expect(out.kind).toBe('recorded');
    await waitFor(() => hub.ctx.db.prepare(`SELECT 1 FROM punches WHERE nip = ? AND method = 'face'`).get(BUDI), 15_000, 'face punch at the hub');
    sim.control({ op: 'clear' });
    await waitFor(() => app.health.components().finger?.state === 'ok', 10_000, 'finger recovered');
  });
});
