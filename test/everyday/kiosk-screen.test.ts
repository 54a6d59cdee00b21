import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventEmitter } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { chromium, type Browser } from 'playwright-core';
import { rootLogger } from '../../lib/logger.js';
import { ScreenServer } from '../../kiosk/screen/server.js';
import type { KioskBus, KioskContext } from '../../kiosk/extension-api.js';
import { FacePipeline } from '../../face/pipeline.js';
import { faceConfigSchema } from '../../face/config.js';
import { facePhoto } from '../../kiosk/face/source.js';
import { SoundExtension } from '../../kiosk/sound/extension.js';
import { load, onnxEngine } from '../face/helpers.js';

const CHROMIUM = process.env.HADIR_CHROMIUM ?? '/usr/bin/chromium';
const SHOTS = join(import.meta.dirname, 'shots');

let browser: Browser;
beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--headless'] });
});
afterAll(async () => {
  await browser?.close();
});

/**
 * The screen a person uses, on the 7-inch 800×480 panel: live picture with the face box and the
 * quality hint (real frames and boxes from the real detector on a real photo), the captured crop
 * beside the name, a legible footer — and nobody's data after the result's seconds.
 */
describe('kiosk screen at 800×480', () => {
  it('preview with face box and hint, crop beside the name, gone after the timeout (also from /state and after a reload)', async () => {
    const bus = new EventEmitter() as KioskBus;
    const screen = new ScreenServer({
      host: '127.0.0.1', port: 0, timeZone: 'Asia/Makassar', bus, log: rootLogger, resultMs: 1500, preview: { fps: 10, width: 360 },
      status: () => ({ siteName: 'Puskesmas Kota', deviceId: 'kiosk-pkm-1', connected: false, backlog: 6 }),
    });
    await screen.start();
    const engine = await onnxEngine();
    try {
      const frame = await load('faces-dev/deepface-df03/1.jpg');
      const a = await new FacePipeline(engine, faceConfigSchema.parse({})).analyse(frame);
      expect(a.face).not.toBeNull();
      const page = await browser.newPage({ viewport: { width: 800, height: 480 } });
      await page.goto(screen.url);
      await page.waitForFunction(() => document.getElementById('site')?.textContent === 'Puskesmas Kota');
      // frames keep coming from the face loop; this one says "come closer"
      const timer = setInterval(() => bus.emit('face:frame', { frame, box: a.face!.box, hint: 'too_small' }), 100);
      try {
        await page.waitForFunction(() => (document.getElementById('preview') as HTMLImageElement).naturalWidth > 0, undefined, { timeout: 10_000 });
        await page.waitForFunction(() => getComputedStyle(document.getElementById('box')!).display === 'block');
        expect(await page.textContent('#hint')).toBe('Wajah terlalu kecil — silakan mendekat ke kamera');
        const box = (await page.locator('#box').boundingBox())!;
        expect(box.width).toBeGreaterThan(20);
        // the recognised punch: the crop the kiosk captured, beside the name
        const crop = await facePhoto(frame, a.face!, 160, 80);
        screen.notify({ kind: 'recorded', nip: '199001012015032001', name: 'Budi Santoso', at: new Date().toISOString(), method: 'face', photo: crop });
        await page.waitForFunction(() => document.getElementById('title')?.textContent === 'Tercatat');
        expect(await page.evaluate(() => (document.getElementById('crop') as HTMLImageElement).naturalWidth)).toBeGreaterThan(0);
        expect(await page.textContent('#name')).toMatch(/^Budi Santoso — \d{2}:\d{2}$/);
        expect(await page.textContent('#zone')).toBe('WITA');
        expect(await page.textContent('#clock')).toMatch(/^\d{2}:\d{2}:\d{2}$/);
        await page.screenshot({ path: join(SHOTS, 'kiosk-800x480-recorded.png') });
        // footer legible at 1.5 m: 30 px type, nothing cut off
        const foot = await page.evaluate(() => {
          const f = document.querySelector('footer')!;
          return { size: parseFloat(getComputedStyle(f).fontSize), rows: Array.from(f.querySelectorAll('.row'), (r) => r.scrollWidth <= r.clientWidth) };
        });
        expect(foot.size).toBeGreaterThanOrEqual(28);
        expect(foot.rows).toEqual([true, true]);
        expect(await page.textContent('#backlog')).toBe('6 presensi tersimpan, dikirim saat terhubung');
        // after the result's seconds: idle, no name, no crop — on the page, in /state, after a reload
        await page.waitForFunction(() => document.getElementById('name')?.textContent === '', undefined, { timeout: 5000 });
        expect(await page.evaluate(() => getComputedStyle(document.getElementById('crop')!).display)).toBe('none');
        const state = (await (await fetch(`${screen.url}state`)).json()) as { last: unknown };
        expect(state.last).toBeNull();
        await page.reload();
        await page.waitForFunction(() => document.getElementById('site')?.textContent === 'Puskesmas Kota');
        expect(await page.textContent('#name')).toBe('');
        expect(await page.content()).not.toContain('Budi');
        await page.screenshot({ path: join(SHOTS, 'kiosk-800x480-idle-preview.png') });
      } finally {
        clearInterval(timer);
      }
      expect(screen.preview!.stats().encoded).toBeGreaterThan(0);
    } finally {
      await engine.close();
      await screen.stop();
    }
  }, 60_000);
});

/** The part of a kiosk's context the sound extension uses. */
const soundContext = (sound: { command: string; voice: string; wavDir?: string }) =>
  ({ config: { sound: { enabled: true, ...sound } }, log: rootLogger, health: { register: () => {} }, addFeedback: () => {} }) as unknown as KioskContext;

describe('spoken feedback (real espeak-ng; .ci/run installs it)', () => {
  it('a confirmation and a different refusal, in Indonesian', async () => {
    const dir = join(tmpdir(), `hadir-sound-${process.pid}`);
    mkdirSync(dir, { recursive: true });
    try {
      const s = new SoundExtension(soundContext({ command: 'espeak-ng', voice: 'id', wavDir: dir }));
      await s.start();
      s.notify({ kind: 'recorded', nip: '1', name: 'Budi Santoso', at: new Date().toISOString(), method: 'face' });
      await new Promise((r) => setTimeout(r, 50));
      const until = Date.now() + 10_000;
      while (s.played.length < 1 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
      s.notify({ kind: 'unknown', reason: 'wajah tidak cocok' });
      while (s.played.length < 2 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
      expect(s.played.map((p) => [p.tone, p.text])).toEqual([['ok', 'Terima kasih, Budi. Tercatat.'], ['refused', 'Maaf, tidak dikenali. Silakan coba lagi.']]);
      const wavs = readdirSync(dir).sort();
      expect(wavs).toEqual(['0001-ok.wav', '0002-refused.wav']);
      const [ok, no] = wavs.map((w) => readFileSync(join(dir, w)));
      expect(ok!.subarray(0, 4).toString()).toBe('RIFF');
      expect(no!.subarray(0, 4).toString()).toBe('RIFF');
      expect(Math.abs(ok!.length - no!.length)).toBeGreaterThan(1000); // different utterances, not the same beep
      expect(s.health().state).toBe('ok');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a missing speech command is reported once and not spawned again for every punch', async () => {
    const snd = mkdtempSync(join(tmpdir(), 'hadir-snd-'));
    try {
      writeFileSync(join(snd, 'pcmC0D0p'), ''); // a sound card is there; the command is not
      const s = new SoundExtension(soundContext({ command: 'espeak-ng-not-installed-here', voice: 'id' }), snd);
      await s.start();
      for (let i = 0; i < 5; i++) {
        s.notify({ kind: 'recorded', nip: '1', name: 'Budi Santoso', at: new Date().toISOString(), method: 'face' });
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(s.spawned).toBe(1);
      expect(s.health()).toMatchObject({ state: 'fault', detail: expect.stringMatching(/not installed/) });
    } finally {
      rmSync(snd, { recursive: true, force: true });
    }
  });

  it('a kiosk with no sound card says so in its health and starts no speech process', async () => {
    const snd = mkdtempSync(join(tmpdir(), 'hadir-snd-'));
    try {
      writeFileSync(join(snd, 'controlC0'), ''); // a card's control node, but no playback device
      const s = new SoundExtension(soundContext({ command: 'espeak-ng', voice: 'id' }), snd);
      await s.start();
      expect(s.health().state).toBe('ok');
      for (let i = 0; i < 5; i++) s.notify({ kind: 'recorded', nip: '1', name: 'Budi Santoso', at: new Date().toISOString(), method: 'face' });
      await new Promise((r) => setTimeout(r, 100));
      expect(s.spawned).toBe(0);
      expect(s.health()).toMatchObject({ state: 'fault', detail: expect.stringMatching(/no playback device/) });
    } finally {
      rmSync(snd, { recursive: true, force: true });
    }
  });
});
