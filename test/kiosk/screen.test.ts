import { afterEach, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { EventEmitter } from 'node:events';
import { rootLogger } from '../../lib/logger.js';
import { ScreenServer } from '../../kiosk/screen/server.js';
import { describe as describeEvent } from '../../kiosk/screen/view.js';
import type { KioskBus } from '../../kiosk/extension-api.js';

const CHROMIUM = process.env.HADIR_CHROMIUM ?? '/usr/bin/chromium';
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function startScreen(status: { connected: boolean; backlog: number; faults?: string[] }) {
  const bus = new EventEmitter() as KioskBus;
  const screen = new ScreenServer({
    host: '127.0.0.1', port: 0, timeZone: 'Asia/Jakarta', bus, log: rootLogger,
    status: () => ({ siteName: 'SD Negeri 1 Kota', deviceId: 'kiosk-sdn1', ...status }),
  });
  await screen.start();
  cleanups.push(() => screen.stop());
  return { screen, bus };
}

describe('screen texts (Bahasa Indonesia first)', () => {
  it('describes each feedback kind', () => {
    const now = '2026-11-24T01:00:00.000Z';
    expect(describeEvent({ kind: 'recorded', nip: '1', name: 'Siti', at: '2026-11-24T00:28:10.000Z', method: 'face' }, 'Asia/Jakarta', now)).toMatchObject({ title: 'Tercatat', time: '07:28', name: 'Siti' });
    expect(describeEvent({ kind: 'recorded', nip: '1', name: 'Siti', at: '2026-11-24T00:28:10.000Z', method: 'face', unverified: true }, 'Asia/Jakarta', now).note).toMatch(/^Jam kiosk belum tersinkron/);
    expect(describeEvent({ kind: 'recorded', nip: '1', name: 'Siti', at: '2026-11-24T00:28:10.000Z', method: 'face' }, 'Asia/Jakarta', now).note).toBeUndefined();
    expect(describeEvent({ kind: 'already', nip: '1', name: 'Siti', at: '2026-11-24T00:30:00.000Z', firstAt: '2026-11-24T00:28:10.000Z' }, 'Asia/Jakarta', now).title).toBe('Sudah tercatat pukul 07:28');
    expect(describeEvent({ kind: 'unknown', reason: 'wajah tidak cocok' }, 'Asia/Jakarta', now)).toMatchObject({ title: 'Tidak dikenali', titleEn: 'Not recognised' });
    expect(describeEvent({ kind: 'fault', component: 'camera', detail: 'kamera tidak terdeteksi' }, 'Asia/Jakarta', now)).toMatchObject({ title: 'Gangguan: kamera' });
    // guidance is shown as guidance, not as "Tidak dikenali"
    expect(describeEvent({ kind: 'hint', message: 'Wajah terlalu kecil — silakan mendekat ke kamera / Face too small — move closer to the camera' }, 'Asia/Jakarta', now))
      .toMatchObject({ kind: 'hint', title: 'Wajah terlalu kecil — silakan mendekat ke kamera', titleEn: 'Face too small — move closer to the camera' });
  });
});

describe.skipIf(!existsSync(CHROMIUM))('screen page in headless Chromium', () => {
  it('shows the clock, site, last event, connection and backlog, live over SSE', async () => {
    const status = { connected: false, backlog: 3, faults: ['camera'] };
    const { screen } = await startScreen(status);
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    cleanups.push(() => browser.close());
    const page = await browser.newPage();
    await page.goto(screen.url);
    await page.waitForFunction(() => document.getElementById('site')?.textContent === 'SD Negeri 1 Kota');
    expect(await page.textContent('#conn')).toBe('Offline — presensi tetap tersimpan');
    expect(await page.textContent('#backlog')).toBe('3 presensi tersimpan, dikirim saat terhubung');
    expect(await page.textContent('#faults')).toBe('· Gangguan: kamera');
    expect(await page.textContent('#clock')).toMatch(/^\d{2}:\d{2}:\d{2}$/);
    expect(await page.textContent('#zone')).toBe('WIB');
    screen.notify({ kind: 'recorded', nip: '198001012005011001', name: 'Siti Rahmawati', at: '2026-11-24T00:28:10.000Z', method: 'face' });
    await page.waitForFunction(() => document.getElementById('title')?.textContent === 'Tercatat');
    expect(await page.textContent('#name')).toBe('Siti Rahmawati — 07:28');
    expect(await page.getAttribute('#event', 'class')).toBe('recorded');
    status.connected = true;
    status.backlog = 0;
    status.faults = [];
    screen.notify({ kind: 'already', nip: '198001012005011001', name: 'Siti Rahmawati', at: '2026-11-24T00:30:00.000Z', firstAt: '2026-11-24T00:28:10.000Z' });
    await page.waitForFunction(() => document.getElementById('title')?.textContent === 'Sudah tercatat pukul 07:28');
    expect(await page.textContent('#conn')).toBe('Terhubung ke server');
    expect(await page.textContent('#backlog')).toBe('Semua presensi terkirim');
    expect(await page.textContent('#faults')).toBe('');
  });
});
