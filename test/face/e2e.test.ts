import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDeviceKeys } from '../../protocol/index.js';
import { startHub, type RunningHub } from '../../hub/server.js';
import { registerDevice, enrolDevice } from '../../hub/devices/registry.js';
import { EnrolSessions } from '../../hub/biometrics/enrol-sessions.js';
import { KioskApp } from '../../kiosk/app.js';
import { kioskConfigSchema } from '../../kiosk/config.js';
import type { KioskEvents } from '../../kiosk/extension-api.js';
import type { FeedbackEvent } from '../../kiosk/types.js';
import { FaceExtension } from '../../kiosk/face/extension.js';
import { FaceStore } from '../../hub/biometrics/face-store.js';
import { FacePipeline } from '../../face/pipeline.js';
import { faceConfigSchema } from '../../face/config.js';
import { decodeImage } from '../../face/image.js';
import { seedOrg, tmpDir, waitFor } from '../hub/helpers.js';
import { FACES_DEV, onnxEngine, testModelDir } from './helpers.js';
import { systemClock } from '../../lib/clock.js';

const SITI = '198503122010011002';
const BUDI = '199001012015032001';

/** Puts exactly these faces-dev images into the camera folder (in this order). */
function showFrames(dir: string, rels: string[]): void {
  for (const f of readdirSync(dir)) rmSync(join(dir, f));
  rels.forEach((r, i) => copyFileSync(join(FACES_DEV, r), join(dir, `${String(i + 1).padStart(2, '0')}-${r.replace('/', '-')}`)));
}

/**
 * End to end on real parts: hub (SQLite, embedded broker, face module computing templates with the
 * ONNX engine) + kiosk core in --simulate with the face feature on the `dir` camera. Siti is
 * enrolled at the hub (CLI path), Budi at the kiosk (enrolment mode → upload → roster sync);
 * then the camera shows both and three strangers: exactly one punch each for Siti and Budi reach
 * the hub (method face, score, liveness, photo), none for the strangers.
 */
describe('face end to end: kiosk --simulate with the dir camera, through the hub', () => {
  let hub: RunningHub;
  let app: KioskApp;
  let camDir: string;
  let face: FaceExtension;
  const dirs: string[] = [];
  const feedback: FeedbackEvent[] = [];

  beforeAll(async () => {
    process.env.HADIR_FACE_ENGINES = 'onnx';
    process.env.HADIR_MODEL_DIR = testModelDir();
    const hubDir = tmpDir('face-hub');
    const kioskDir = tmpDir('face-kiosk');
    camDir = join(kioskDir, 'camera');
    mkdirSync(camDir);
    dirs.push(hubDir, kioskDir);
    hub = await startHub({ dataDir: hubDir, httpPort: 0, mqttPort: 0, httpHost: '127.0.0.1', rosterIntervalS: 1, env: {}, defaultMetrics: false });
    seedOrg(hub.db);

    // Siti: enrolled at the hub from photos, as `hadir enroll face` does
    const engine = await onnxEngine();
    const pipe = new FacePipeline(engine, faceConfigSchema.parse({}));
    const crops = [];
    for (const r of ['deepface-df03/1.jpg', 'deepface-df03/2.jpg', 'deepface-df03/3.jpg']) crops.push((await pipe.analyse(await decodeImage(readFileSync(join(FACES_DEV, r))))).aligned!);
    await new FaceStore(hub.db, hubDir, systemClock).enrol(SITI, crops, [engine], { source: 'cli' });
    await engine.close();

    const keys = generateDeviceKeys();
    const reg = await registerDevice(hub.store, { siteCode: 'PKM-01-A', deviceId: 'kiosk-face-1', now: new Date() });
    const enr = await enrolDevice(hub.store, { token: reg.token, publicKeyPem: keys.publicKeyPem }, { hubUrl: hub.publicUrl, mqttUrl: hub.mqttUrl, prefix: hub.config.prefix }, new Date());
    // Budi's enrolment frames are on the camera first
    showFrames(camDir, ['deepface-df05/1.jpg', 'deepface-df05/2.jpg', 'deepface-df05/3.jpg']);
    const config = kioskConfigSchema.parse({
      deviceId: 'kiosk-face-1',
      siteCode: 'PKM-01-A',
      hubUrl: `http://127.0.0.1:${hub.httpPort}`,
      dataDir: kioskDir,
      mqtt: { url: hub.mqttUrl.replace('localhost', '127.0.0.1'), username: 'kiosk-face-1', password: enr.mqtt.password, prefix: hub.config.prefix },
      privateKeyPem: keys.privateKeyPem,
      face: { engine: 'onnx', modelDir: testModelDir(), threads: 1, loopIntervalMs: 10, camera: { driver: 'webcam', dir: camDir, repeat: 2, loop: true } },
    });
    app = new KioskApp(config, { simulate: true, screen: false, extensions: [(ctx) => (face = new FaceExtension(ctx))] });
    app.bus.on('feedback', (f) => feedback.push(f));
    await app.start();
  }, 60_000);

  afterAll(async () => {
    await app?.stop();
    await hub?.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
    delete process.env.HADIR_FACE_ENGINES;
  });

  const facePunches = () => hub.db.prepare(`SELECT nip, method, score, liveness, has_photo AS photo FROM punches WHERE method = 'face' ORDER BY captured_at`).all() as { nip: string; method: string; score: number; liveness: number; photo: number }[];

  it('camera and face are healthy; Siti\'s hub-made templates arrived with the roster', async () => {
    await waitFor(() => app.health.components().camera?.state === 'ok', 20_000, 'camera ok');
    await waitFor(() => /1 orang \/ 3 templat/.test(app.health.components().face?.detail ?? ''), 20_000, 'Siti in the face index');
    expect(app.health.components().face?.state).toBe('ok');
    expect(app.health.components().camera?.detail).toMatch(/^dir /);
    expect(facePunches()).toEqual([]); // Budi is on camera but not enrolled yet
  }, 60_000);

  it('enrols Budi at the kiosk, then recognises him from the synced templates', async () => {
    const result = new Promise<KioskEvents['enrol:result'][0]>((r) => app.bus.once('enrol:result', r));
    // the session an admin's enrol_mode would open: the hub accepts the kiosk's upload only against it
    new EnrolSessions(hub.db).start({ id: 'face-e2e-1', deviceId: 'kiosk-face-1', args: { nip: BUDI, method: 'face', timeoutS: 120 }, opdCode: null, by: 'test', now: new Date() });
    app.bus.emit('enrol:request', { requestId: 'face-e2e-1', nip: BUDI, method: 'face' });
    const r = await result;
    expect(r).toMatchObject({ ok: true, requestId: 'face-e2e-1' });
    const rows = hub.db.prepare('SELECT source, count(*) AS n FROM face_crops WHERE nip = ? GROUP BY source').all(BUDI);
    expect(rows).toEqual([{ source: 'kiosk-face-1', n: 3 }]);
    const p = await waitFor(() => facePunches().find((x) => x.nip === BUDI), 30_000, 'Budi punch at the hub');
    expect(p).toMatchObject({ nip: BUDI, method: 'face', photo: 1 });
    expect(p.score).toBeGreaterThanOrEqual(0.4);
    expect(p.liveness).toBeGreaterThanOrEqual(0.8);
    expect(feedback.some((f) => f.kind === 'recorded' && f.nip === BUDI)).toBe(true);
  }, 90_000);

  it('punches Siti once and nobody for three strangers', async () => {
    const frames = face.source!;
    showFrames(camDir, ['deepface-df07/1.jpg', 'deepface-df03/5.jpg', 'deepface-df09/1.jpg', 'faceonnx-nicole_kidman/4.jpg']);
    await waitFor(() => facePunches().some((x) => x.nip === SITI), 30_000, 'Siti punch at the hub');
    // keep showing the strangers (and Siti again) for a while: still exactly one punch each
    const seen = frames.frames;
    await waitFor(() => frames.frames >= seen + 24, 60_000, 'three more rounds of frames');
    const all = facePunches();
    expect(all.map((x) => x.nip).sort()).toEqual([BUDI, SITI].sort());
    const siti = all.find((x) => x.nip === SITI)!;
    expect(siti.score).toBeGreaterThanOrEqual(0.4);
    expect(siti.photo).toBe(1);
    const photo = hub.db.prepare('SELECT jpeg FROM punch_photos pp JOIN punches p ON p.id = pp.punch_id WHERE p.nip = ?').get(SITI) as { jpeg: Buffer };
    const decoded = await decodeImage(photo.jpeg);
    expect(Math.max(decoded.width, decoded.height)).toBeLessThanOrEqual(128);
    expect(feedback.some((f) => f.kind === 'unknown' && /tidak dikenali/.test(f.reason))).toBe(true);
  }, 120_000);
});

describe('a missing camera is a fault in health and the kiosk keeps recording other punches', () => {
  it('reports camera fault, face degraded/fault, and still journals a finger punch', async () => {
    const kioskDir = tmpDir('face-nocam');
    const keys = generateDeviceKeys();
    const config = kioskConfigSchema.parse({
      deviceId: 'kiosk-nocam',
      siteCode: 'PKM-01-A',
      hubUrl: 'http://127.0.0.1:9',
      dataDir: kioskDir,
      mqtt: { url: 'mqtt://127.0.0.1:9', username: 'kiosk-nocam', password: 'x', prefix: 'hadir/v1' },
      privateKeyPem: keys.privateKeyPem,
      face: { engine: 'onnx', modelDir: testModelDir(), threads: 1, camera: { driver: 'dir', dir: join(kioskDir, 'no-such-folder') } },
    });
    const app = new KioskApp(config, { simulate: true, screen: false, extensions: [(ctx) => new FaceExtension(ctx)] });
    try {
      await app.start();
      await waitFor(() => app.health.components().camera?.state === 'fault', 20_000, 'camera fault');
      expect(app.health.components().camera?.detail).toMatch(/kamera \/ camera: folder kamera .*no-such-folder tidak ada/);
      const out = app.identify({ nip: BUDI, method: 'finger', score: 120 });
      expect(out.kind).toBe('recorded');
      expect(app.journal.stats().undelivered).toBe(1);
    } finally {
      await app.stop();
      rmSync(kioskDir, { recursive: true, force: true });
    }
  }, 60_000);
});
