import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDeviceKeys } from '../../protocol/index.js';
import { startHub, type RunningHub } from '../../hub/server.js';
import { registerDevice, enrolDevice } from '../../hub/devices/registry.js';
import { KioskApp } from '../../kiosk/app.js';
import { kioskConfigSchema } from '../../kiosk/config.js';
import { createClockExtension, RECONSTRUCTIONS_FILE } from '../../kiosk/clock/extension.js';
import { createHealthExtension } from '../../kiosk/health/extension.js';
import { readBootId } from '../../kiosk/clock/service.js';
import { seedOrg, tmpDir, waitFor } from '../hub/helpers.js';
import { ChronyLab, haveChronyd } from './chrony-helpers.js';

const SITI = '198503122010011002';

/**
 * Trusted time end to end with a real chronyd: the kiosk boots while its NTP server is unreachable,
 * takes a punch (stamped unsynced, boot id + monotonic time), then the server comes up, chrony
 * synchronises, the kiosk reconstructs the punch's true time and says so, and the hub — from the
 * kiosk's next synced health message — suggests the same true time for the admin's review.
 */
describe.skipIf(!haveChronyd)('unsynced boot → sync → reconstruction (kiosk and hub, real chronyd)', () => {
  const lab = new ChronyLab();
  let hub: RunningHub;
  let app: KioskApp;
  const dirs: string[] = [];
  let kioskDir = '';

  beforeAll(async () => {
    const hubDir = tmpDir('clock-hub');
    kioskDir = tmpDir('clock-kiosk');
    dirs.push(hubDir, kioskDir);
    hub = await startHub({ dataDir: hubDir, httpPort: 0, mqttPort: 0, httpHost: '127.0.0.1', env: {}, defaultMetrics: false });
    seedOrg(hub.db);
    const keys = generateDeviceKeys();
    const reg = await registerDevice(hub.store, { siteCode: 'PKM-01-A', deviceId: 'kiosk-clock-1', now: new Date() });
    const enr = await enrolDevice(hub.store, { token: reg.token, publicKeyPem: keys.publicKeyPem }, { hubUrl: hub.publicUrl, mqttUrl: hub.mqttUrl, prefix: hub.config.prefix }, new Date());
    lab.startClient(); // its server is not up yet: "no NTP reachable after boot"
    const config = kioskConfigSchema.parse({
      deviceId: 'kiosk-clock-1', siteCode: 'PKM-01-A', hubUrl: `http://127.0.0.1:${hub.httpPort}`, dataDir: kioskDir,
      mqtt: { url: hub.mqttUrl.replace('localhost', '127.0.0.1'), username: 'kiosk-clock-1', password: enr.mqtt.password, prefix: hub.config.prefix },
      privateKeyPem: keys.privateKeyPem,
      // hub time off: this test is about the unsynced → chrony-synced path.
      clock: { chronyHost: lab.clientSocket, timedatectl: '/nonexistent/timedatectl', pollS: 2, hub: { enabled: false } },
      health: { intervalS: 5 },
    });
    app = new KioskApp(config, { simulate: true, screen: false, extensions: [createClockExtension, createHealthExtension] });
    await app.start();
  });

  afterAll(async () => {
    await app?.stop();
    await hub?.close();
    await lab.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('stamps unsynced, reconstructs after chrony syncs, and the hub suggests the same time', async () => {
    const out = app.identify({ nip: SITI, method: 'face', score: 0.8, liveness: 0.95 });
    expect(out.kind).toBe('recorded');
    const id = (out as { id: string }).id;
    const stored = await waitFor(
      () => hub.db.prepare('SELECT captured_at, clock_synced, clock_source, boot_id, mono_ms, review_status FROM punches WHERE id = ?').get(id) as
        { captured_at: string; clock_synced: number; clock_source: string; boot_id: string; mono_ms: number; review_status: string } | undefined,
      10_000, 'punch at the hub',
    );
    expect(stored).toMatchObject({ clock_synced: 0, clock_source: 'chrony', boot_id: readBootId() });
    expect(stored.mono_ms).toBeGreaterThan(0);

    lab.startServer(); // the network comes back
    const line = await waitFor(() => {
      try {
        return readFileSync(join(kioskDir, RECONSTRUCTIONS_FILE), 'utf8').split('\n').find((l) => l.includes(id));
      } catch {
        return undefined;
      }
    }, 30_000, 'kiosk reconstruction');
    const rec = JSON.parse(line) as { punchId: string; seq: number; capturedAt: string; trueAt: string; spanMs: number };
    expect(rec).toMatchObject({ punchId: id, seq: 1, capturedAt: stored.captured_at });
    // same machine clock: the true time equals the stamp within chrony's tiny offset and scheduling noise
    expect(Math.abs(Date.parse(rec.trueAt) - Date.parse(rec.capturedAt))).toBeLessThan(50);
    expect(rec.spanMs).toBeGreaterThan(0);

    const hubRow = await waitFor(
      () => hub.db.prepare('SELECT suggested_at, suggested_ref FROM punches WHERE id = ? AND suggested_at IS NOT NULL').get(id) as { suggested_at: string; suggested_ref: string } | undefined,
      20_000, 'hub suggestion',
    );
    expect(hubRow.suggested_ref).toMatch(/^health:\d+$/);
    expect(Math.abs(Date.parse(hubRow.suggested_at) - Date.parse(stored.captured_at))).toBeLessThan(100);

    // punches taken now are synced
    const later = app.identify({ nip: '199001012015032001', method: 'face', score: 0.8 });
    const row = await waitFor(() => hub.db.prepare('SELECT clock_synced, clock_offset_ms FROM punches WHERE id = ?').get((later as { id: string }).id) as { clock_synced: number; clock_offset_ms: number } | undefined, 10_000, 'synced punch');
    expect(row.clock_synced).toBe(1);
    expect(Math.abs(row.clock_offset_ms)).toBeLessThan(5);
  });
});
