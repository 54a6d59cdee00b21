import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { generateDeviceKeys } from '../../protocol/index.js';
import { startHub, type RunningHub } from '../../hub/server.js';
import { registerDevice, enrolDevice } from '../../hub/devices/registry.js';
import { KioskApp } from '../../kiosk/app.js';
import { kioskConfigSchema } from '../../kiosk/config.js';
import { ClockExtension } from '../../kiosk/clock/extension.js';
import { ntpSample, HubTimeEstimator } from '../../kiosk/clock/hub-time.js';
import { seedOrg, tmpDir, waitFor } from '../hub/helpers.js';

const SITI = '198503122010011002';
const TWO_HOURS = 2 * 3600_000;

describe('ntpSample (Cristian/NTP round trip)', () => {
  it('symmetric path: exact offset, bound = half the round trip minus hub processing', () => {
    // kiosk 7200 s ahead; 40 ms each way; hub holds the request 5 ms
    const t1 = 1_000_000 + TWO_HOURS;
    const t2 = 1_000_040;
    const t3 = 1_000_045;
    const t4 = t1 + 85;
    expect(ntpSample(t1, t2, t3, t4)).toEqual({ offsetMs: TWO_HOURS, errorMs: 40 });
  });
  it('asymmetric path: the true offset stays within the bound', () => {
    const t1 = 0 + 500;
    const t2 = 10; // 10 ms out
    const t3 = 10;
    const t4 = 500 + 10 + 90; // 90 ms back
    const s = ntpSample(t1, t2, t3, t4);
    expect(Math.abs(s.offsetMs - 500)).toBeLessThanOrEqual(s.errorMs);
  });
  it('keeps the smallest-delay sample of a burst and ages its bound by 100 ppm', async () => {
    let mono = 0;
    const delays = [300, 20, 150, 90];
    let i = 0;
    let wall = 5_000;
    const est = new HubTimeEstimator({
      now: () => wall,
      mono: () => mono,
      exchange: async () => {
        const d = delays[i++]!;
        wall += d;
        return { t2: wall - d / 2 - 1000, t3: wall - d / 2 - 1000 };
      },
    });
    const s = await est.sample(4);
    expect(s.errorMs).toBe(10);
    expect(s.offsetMs).toBe(1000);
    mono = 600_000; // 10 min later
    expect(est.current()!.errorMs).toBeCloseTo(10 + 60, 5);
  });
});

/**
 * A kiosk whose system clock is 2 hours ahead (injected through the clock extension's `now` seam,
 * not faketime) with no chrony and no timesyncd: it takes its time from the real hub over HTTP, and
 * the punches the hub stores carry the corrected time, clock.source "hub" and the error bound, and
 * need no review.
 */
describe('kiosk 2 h off, no NTP: time from the hub (real hub + KioskApp)', () => {
  let hub: RunningHub;
  let app: KioskApp;
  const dirs: string[] = [];

  beforeAll(async () => {
    const hubDir = tmpDir('hubtime-hub');
    const kioskDir = tmpDir('hubtime-kiosk');
    dirs.push(hubDir, kioskDir);
    hub = await startHub({ dataDir: hubDir, httpPort: 0, mqttPort: 0, httpHost: '127.0.0.1', env: {}, defaultMetrics: false, log: pino({ level: 'silent' }) } as never);
    seedOrg(hub.db);
    const keys = generateDeviceKeys();
    const reg = await registerDevice(hub.store, { siteCode: 'PKM-01-A', deviceId: 'kiosk-hubtime-1', now: new Date() });
    const enr = await enrolDevice(hub.store, { token: reg.token, publicKeyPem: keys.publicKeyPem }, { hubUrl: hub.publicUrl, mqttUrl: hub.mqttUrl, prefix: hub.config.prefix }, new Date());
    const config = kioskConfigSchema.parse({
      deviceId: 'kiosk-hubtime-1', siteCode: 'PKM-01-A', hubUrl: `http://127.0.0.1:${hub.httpPort}`, dataDir: kioskDir,
      mqtt: { url: hub.mqttUrl.replace('localhost', '127.0.0.1'), username: 'kiosk-hubtime-1', password: enr.mqtt.password, prefix: hub.config.prefix },
      privateKeyPem: keys.privateKeyPem, dedupWindowMin: 0,
      clock: { chronyc: '/nonexistent/chronyc', timedatectl: '/nonexistent/timedatectl', pollS: 2 },
    });
    const skewed = () => Date.now() + TWO_HOURS;
    app = new KioskApp(config, { simulate: true, screen: false, log: pino({ level: 'silent' }), extensions: [(ctx) => new ClockExtension(ctx, { now: skewed })] });
    await app.start();
  });

  afterAll(async () => {
    await app?.stop();
    await hub?.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('punches carry the corrected time, source "hub" and the bound; none waits for review', async () => {
    const before = Date.now();
    expect(app.identify({ nip: SITI, method: 'face', score: 0.8, liveness: 0.95 }).kind).toBe('recorded');
    const after = Date.now();
    const row = await waitFor(
      () => hub.db.prepare('SELECT captured_at, clock_synced, clock_source, clock_offset_ms, clock_error_ms, review_status FROM punches WHERE device_id = ?').get('kiosk-hubtime-1') as
        | { captured_at: string; clock_synced: number; clock_source: string; clock_offset_ms: number; clock_error_ms: number; review_status: string }
        | undefined,
      10_000,
    );
    expect(row.clock_source).toBe('hub');
    expect(row.clock_synced).toBe(1);
    expect(row.review_status).toBe('none');
    // the offset found is the injected 2 h, within the bound
    expect(Math.abs(row.clock_offset_ms - TWO_HOURS)).toBeLessThanOrEqual(row.clock_error_ms + 1);
    expect(row.clock_error_ms).toBeGreaterThanOrEqual(0);
    expect(row.clock_error_ms).toBeLessThan(1000);
    // the stored time is the real one (not 2 h ahead), within the bound
    const at = Date.parse(row.captured_at);
    expect(at).toBeGreaterThanOrEqual(before - row.clock_error_ms - 1);
    expect(at).toBeLessThanOrEqual(after + row.clock_error_ms + 1);
  });
});
