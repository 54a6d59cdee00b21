import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { KioskApp } from '../../kiosk/app.js';
import { FaceExtension } from '../../kiosk/face/extension.js';
import { kioskConfigSchema } from '../../kiosk/config.js';
import { randomPrefix, startBroker, testConfig, tmpDir } from './helpers.js';

/**
 * `hadir kiosk --simulate` with the face feature on (the default) and no face.camera.dir: the
 * simulator makes the identifications, so no camera is used and none is reported as an error.
 * With a camera dir, --simulate still runs the real face pipeline on those images (test/face/e2e).
 */
describe('kiosk --simulate without a face camera folder', () => {
  const dir = tmpDir('sim-face');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('logs no error, and face/camera health say disabled (not fault)', async () => {
    const broker = await startBroker();
    const lines: { level: number; msg: string }[] = [];
    const log = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s) as { level: number; msg: string }) });
    const { config: base } = testConfig({ dataDir: dir, mqttUrl: broker.url, prefix: randomPrefix() });
    const config = kioskConfigSchema.parse({ ...base, face: {} }); // face as a fresh config has it: enabled, no camera dir
    expect(config.face.enabled).toBe(true);
    expect(config.face.camera.dir).toBeFalsy();
    const app = new KioskApp(config, { simulate: true, screen: false, log, baseTimeoutMs: 200, extensions: [(ctx) => new FaceExtension(ctx)] });
    try {
      await app.start();
      const h = app.health.components();
      expect(h.face).toMatchObject({ state: 'disabled' });
      expect(h.camera).toMatchObject({ state: 'disabled' });
    } finally {
      await app.stop();
      await broker.close();
    }
    expect(lines.filter((l) => l.level >= 50 && /face|camera|kamera/i.test(JSON.stringify(l)))).toEqual([]);
    expect(lines.some((l) => /simulator makes the identifications/.test(l.msg))).toBe(true);
  });
});
