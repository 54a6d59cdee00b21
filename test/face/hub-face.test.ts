import { execFile } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { EnrolSessions } from '../../hub/biometrics/enrol-sessions.js';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSqlite, type SqliteDb } from '../../hub/store/sqlite.js';
import { FaceStore } from '../../hub/biometrics/face-store.js';
import { sqliteStores } from '../../hub/store/open.js';
import { createFaceModule } from '../../hub/biometrics/face-module.js';
import { loadBiometricKey } from '../../hub/biometrics/face-crypto.js';
import type { HubContext, KioskEnv } from '../../hub/module-contract.js';
import type { RosterPerson } from '../../protocol/index.js';
import { FacePipeline } from '../../face/pipeline.js';
import { faceConfigSchema } from '../../face/config.js';
import { decodeImage, encodeJpeg } from '../../face/image.js';
import { decodeVector } from '../../face/vector.js';
import { dot } from '../../face/engine.js';
import type { OnnxFaceEngine } from '../../face/onnx-engine.js';
import { EventEmitter } from 'node:events';
import { childLogger } from '../../lib/logger.js';
import { seedOrg } from '../hub/helpers.js';
import { FACES_DEV, onnxEngine, testModelDir, tmp } from './helpers.js';
import { systemClock } from '../../lib/clock.js';

const run = promisify(execFile);
const BIN = resolve('bin/hadir.mjs');
const SITI = '198503122010011002';
const BUDI = '199001012015032001';
const img = (rel: string) => join(FACES_DEV, rel);

describe('hub face enrolment store (encrypted crops, per-model templates)', () => {
  let dir: string;
  let db: SqliteDb;
  let engine: OnnxFaceEngine;
  let store: FaceStore;
  const cfg = faceConfigSchema.parse({});

  beforeAll(async () => {
    dir = tmp('hub');
    db = openSqlite(join(dir, 'hub.db'));
    seedOrg(db);
    engine = await onnxEngine();
    store = new FaceStore(db, dir, systemClock);
  });
  afterAll(async () => {
    db?.close();
    await engine?.close();
  });

  const crops = async (...rels: string[]) => {
    const pipe = new FacePipeline(engine, cfg);
    const out = [];
    for (const r of rels) out.push((await pipe.analyse(await decodeImage(readFileSync(img(r))))).aligned!);
    return out;
  };

  it('stores crops encrypted with a 0600 key file and templates tagged with the model', async () => {
    const r = await store.enrol(SITI, await crops('deepface-df03/1.jpg', 'deepface-df03/2.jpg', 'deepface-df03/3.jpg'), [engine], { source: 'cli' });
    expect(r).toEqual({ crops: 3, models: [engine.modelId] });
    expect(statSync(join(dir, 'biometric.key')).mode & 0o777).toBe(0o600);
    const rows = db.prepare('SELECT ciphertext, iv, key_id FROM face_crops WHERE nip = ?').all(SITI) as { ciphertext: Buffer; iv: Buffer; key_id: string }[];
    expect(rows.length).toBe(3);
    for (const row of rows) {
      expect(row.ciphertext.subarray(0, 2).equals(Buffer.from([0xff, 0xd8]))).toBe(false); // not a JPEG in the clear
      expect(row.ciphertext.includes(Buffer.from('JFIF'))).toBe(false);
      expect(row.iv.length).toBe(12);
      expect(row.key_id).toBe(loadBiometricKey(dir).id);
    }
    const back = await store.crops(SITI);
    expect(back.map((c) => [c.image.width, c.image.height])).toEqual([[160, 160], [160, 160], [160, 160]]);
    const tpl = db.prepare('SELECT model_id, length(vector) AS n FROM face_templates').all();
    expect(tpl).toEqual(Array(3).fill({ model_id: engine.modelId, n: 512 }));
  });

  it('re-enrolment replaces the set; recompute reproduces the templates from the crops', async () => {
    await store.enrol(SITI, await crops('deepface-df03/4.jpg', 'deepface-df03/5.jpg', 'deepface-df03/6.jpg'), [engine], { source: 'cli' });
    const before = (db.prepare('SELECT vector FROM face_templates ORDER BY crop_id').all() as { vector: Buffer }[]).map((r) => r.vector.toString('hex'));
    expect(before.length).toBe(3);
    db.prepare('UPDATE face_templates SET vector = zeroblob(512)').run();
    const r = await store.recompute([engine]);
    expect(r).toMatchObject({ people: 1, crops: 3 });
    const after = (db.prepare('SELECT vector FROM face_templates ORDER BY crop_id').all() as { vector: Buffer }[]).map((x) => x.vector.toString('hex'));
    expect(after).toEqual(before);
  });

  it('refuses unknown and inactive staff, wrong counts, a wrong key and a tampered crop', async () => {
    const three = await crops('deepface-df05/1.jpg', 'deepface-df05/2.jpg', 'deepface-df05/3.jpg');
    await expect(store.enrol('111111111111111111', three, [engine], { source: 'cli' })).rejects.toThrow(/tidak terdaftar/);
    await expect(store.enrol('197001011990011001', three, [engine], { source: 'cli' })).rejects.toThrow(/tidak aktif/);
    await expect(store.enrol(BUDI, three.slice(0, 2), [engine], { source: 'cli' })).rejects.toThrow(/3–5 are needed/);
    const other = new FaceStore(db, tmp('otherkey'), systemClock);
    await expect(other.crops(SITI)).rejects.toThrow(/encrypted with key .* restore the matching biometric.key/);
    db.prepare('UPDATE face_crops SET ciphertext = zeroblob(length(ciphertext)) WHERE id = (SELECT min(id) FROM face_crops)').run();
    await expect(store.crops(SITI)).rejects.toThrow(/failed its integrity check/);
    await store.remove(SITI);
    expect(db.prepare('SELECT count(*) AS n FROM face_templates').get()).toEqual({ n: 0 });
  });

  it('kiosk upload route: validated, templates computed at the hub, roster carries them for the site', async () => {
    process.env.HADIR_FACE_ENGINES = 'onnx';
    process.env.HADIR_MODEL_DIR = testModelDir();
    const bus = new EventEmitter() as HubContext['bus'];
    const changed: unknown[] = [];
    bus.on('roster:changed', (x) => changed.push(x));
    const mod = createFaceModule({ stores: sqliteStores(db), log: childLogger('test'), clock: systemClock, bus, dataDir: dir } as unknown as HubContext);
    const app = new Hono<KioskEnv>();
    app.use('*', async (c, next) => {
      c.set('device', { id: 'kiosk-1', siteCode: 'PKM-01-A' });
      await next();
    });
    app.route('/', mod.kioskApi!);
    const b64 = async (rels: string[]) => Promise.all((await crops(...rels)).map(async (c) => (await encodeJpeg(c, 95)).toString('base64')));
    const post = (body: unknown) => app.request('/face/enrol', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const good = await b64(['deepface-df05/1.jpg', 'deepface-df05/2.jpg', 'deepface-df05/3.jpg']);
    // an upload needs an enrolment session an admin started for this NIP on this kiosk (test/security/biometric-enrolment.test.ts)
    expect((await post({ nip: BUDI, crops: good })).status).toBe(403);
    db.prepare("INSERT OR IGNORE INTO devices (id, site_code, created_at) VALUES ('kiosk-1', 'PKM-01-A', ?)").run(new Date().toISOString());
    new EnrolSessions(db).start({ id: 'cmd-face-1', deviceId: 'kiosk-1', args: { nip: BUDI, method: 'face', timeoutS: 120 }, opdCode: 'DINKES', by: 'test', now: new Date() });
    expect((await post({ nip: BUDI, crops: good.slice(0, 2) })).status).toBe(400);
    expect((await post({ nip: '111111111111111111', crops: good })).status).toBe(404);
    const wrongSize = (await encodeJpeg({ width: 100, height: 100, data: new Uint8Array(30000) })).toString('base64');
    const ws = await post({ nip: BUDI, crops: [wrongSize, ...good.slice(1)] });
    expect(ws.status).toBe(400);
    expect(((await ws.json()) as { error: string }).error).toMatch(/expected the 160x160 aligned crop/);
    const ok = await post({ nip: BUDI, crops: good });
    expect(ok.status).toBe(201);
    expect(await ok.json()).toMatchObject({ nip: BUDI, crops: 3, models: [engine.modelId] });
    expect(changed.length).toBe(1);
    const people = new Map<string, RosterPerson>([[BUDI, { nip: BUDI, name: 'Budi' }], [SITI, { nip: SITI, name: 'Siti' }]]);
    await mod.contributeRoster!('PKM-01-A', people);
    const face = people.get(BUDI)!.face!;
    expect(face.length).toBe(3);
    expect(face.every((t) => t.modelId === engine.modelId)).toBe(true);
    expect(dot(decodeVector(face[0]!.vector), decodeVector(face[1]!.vector))).toBeGreaterThan(0.4);
    const elsewhere = new Map<string, RosterPerson>([[BUDI, { nip: BUDI, name: 'Budi' }]]);
    await mod.contributeRoster!('SDN-01', elsewhere);
    expect(elsewhere.get(BUDI)!.face).toBeUndefined();
    await mod.stop?.();
  });
});

describe('hadir enroll face (CLI)', () => {
  it('quality-gates each image, prints the reasons, stores only with 3 good images', async () => {
    const data = tmp('cli');
    const db = openSqlite(join(data, 'hub.db'));
    seedOrg(db);
    db.close();
    const env = { ...process.env, HADIR_DATA_DIR: data, HADIR_FACE_ENGINES: 'onnx', HADIR_MODEL_DIR: testModelDir() };
    const bad = await run('node', [BIN, 'enroll', 'face', '--nip', SITI, img('deepface-df07/1.jpg'), img('deepface-df07/2.jpg'), img('deepface-df09/4.jpg'), img('deepface-df01/1.jpg')], { env }).catch((e: { code: number; stdout: string; stderr: string }) => e);
    expect((bad as { code: number }).code).toBe(2);
    expect((bad as { stdout: string }).stdout).toMatch(/DITOLAK \/ rejected .*df09\/4\.jpg — Lebih dari satu orang/);
    expect((bad as { stdout: string }).stdout).toMatch(/DITOLAK \/ rejected .*df01\/1\.jpg — wajah berbeda/);
    expect((bad as { stderr: string }).stderr).toMatch(/^hadir: only 2 of 4 images passed the quality checks .* nothing was stored/);
    const ok = await run('node', [BIN, 'enroll', 'face', '--nip', SITI, img('deepface-df07/1.jpg'), img('deepface-df07/2.jpg'), img('deepface-df07/3.jpg')], { env });
    expect(ok.stdout).toMatch(/Terdaftar \/ enrolled: NIP 198503122010011002, 3 gambar wajah/);
    const list = await run('node', [BIN, 'enroll', 'face', '--list'], { env });
    expect(list.stdout).toMatch(/198503122010011002 {2}Siti Rahma {2}DINKES {2}3 crops {2}mobilefacenet/);
    const two = await run('node', [BIN, 'enroll', 'face', '--nip', SITI, img('deepface-df07/1.jpg')], { env }).catch((e: { stderr: string }) => e);
    expect((two as { stderr: string }).stderr).toMatch(/1 image\(s\) given; 3–10 are needed/);
  }, 60_000);
});
