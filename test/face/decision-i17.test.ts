import { EventEmitter } from 'node:events';
import { copyFileSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { faceConfigSchema } from '../../face/config.js';
import { decisionFor, galleryThreshold } from '../../face/engines.js';
import { judgeClaim } from '../../face/decision.js';
import { TemplateIndex, personRows } from '../../face/matcher.js';
import { upper95 } from '../../face/stats.js';
import { selectEnrolment } from '../../face/enrol-select.js';
import { alignFace } from '../../face/align.js';
import { dot, l2normalise } from '../../face/engine.js';
import { chooseFace } from '../../face/quality.js';
import { FacePipeline } from '../../face/pipeline.js';
import { decodeImage } from '../../face/image.js';
import { encodeVector } from '../../face/vector.js';
import { FaceSource } from '../../kiosk/face/source.js';
import { DirCamera } from '../../kiosk/camera/dir.js';
import { OnnxFaceEngine } from '../../face/onnx-engine.js';
import { ScreenServer } from '../../kiosk/screen/server.js';
import type { KioskBus, RosterView } from '../../kiosk/extension-api.js';
import type { Roster, RosterPerson } from '../../protocol/index.js';
import type { FeedbackEvent, Identification } from '../../kiosk/types.js';
import { childLogger } from '../../lib/logger.js';
import { SHARED, load, onnxEngine, testModelDir, tmp } from './helpers.js';

const cfg = faceConfigSchema.parse({});
const unit = (xs: number[]) => l2normalise(Float32Array.from(xs));

describe('decision settings (issue 17)', () => {
  it('the 1:N threshold is flat up to galleryBase and rises by slope·ln(N/base) beyond', () => {
    expect(galleryThreshold(0.45, 0.038, 50, 10)).toBe(0.45);
    expect(galleryThreshold(0.45, 0.038, 50, 50)).toBe(0.45);
    expect(galleryThreshold(0.45, 0.038, 50, 500)).toBeCloseTo(0.45 + 0.038 * Math.log(10), 9);
    const d = decisionFor({ name: 'onnx' }, cfg, 1000);
    expect(d.threshold).toBeGreaterThan(decisionFor({ name: 'onnx' }, cfg, 100).threshold);
    expect(d.oneToNOff).toBe('gallery'); // above maxGallery: NIP 1:1 only
    expect(decisionFor({ name: 'onnx' }, cfg, 40).oneToNOff).toBeNull();
    expect(decisionFor({ name: 'onnx' }, cfg, 40).verifyThreshold).toBeGreaterThan(decisionFor({ name: 'onnx' }, cfg, 40).threshold);
  });

  it('face-api never identifies 1:N by default (its measured FMR misses the target)', () => {
    expect(decisionFor({ name: 'faceapi' }, cfg, 5).oneToNOff).toBe('engine');
    expect(decisionFor({ name: 'onnx' }, cfg, 5).oneToNOff).toBeNull();
  });

  it('a 1:1 claim is accepted only at the verify threshold', () => {
    const d = decisionFor({ name: 'onnx' }, cfg, 10);
    expect(judgeClaim('A', d.verifyThreshold - 0.01, d)).toEqual({ accepted: false, reason: 'below_threshold' });
    expect(judgeClaim('A', d.verifyThreshold, d)).toMatchObject({ accepted: true, nip: 'A' });
    expect(judgeClaim('A', null, d)).toMatchObject({ accepted: false });
  });

  it('mean templates: one normalised row per person; 1:1 score is the claimed person only', () => {
    const rows = personRows([unit([1, 0, 0]), unit([0, 1, 0])], 'mean');
    expect(rows.length).toBe(1);
    expect(dot(rows[0]!, unit([1, 1, 0]))).toBeCloseTo(1, 6);
    const idx = new TemplateIndex('m', 3);
    idx.addPerson('A', [unit([1, 0, 0]), unit([0, 1, 0])], 'mean');
    idx.addPerson('B', [unit([0, 0, 1])], 'mean');
    expect(idx.size).toBe(2);
    expect(idx.score('A', unit([0, 0, 1]))).toBeCloseTo(0, 6);
    expect(idx.score('B', unit([0, 0, 1]))).toBeCloseTo(1, 6);
    expect(idx.score('C', unit([0, 0, 1]))).toBeNull();
    // max mode keeps every template
    const mx = new TemplateIndex('m', 3);
    mx.addPerson('A', [unit([1, 0, 0]), unit([0, 1, 0])], 'max');
    expect(mx.size).toBe(2);
  });

  it('FMR upper bound: rule of three at 0 of N, exact binomial otherwise', () => {
    expect(upper95(0, 10_000)).toBe(3e-4);
    expect(upper95(1, 10)).toBeCloseTo(0.3942, 3); // Clopper–Pearson one-sided 95 %
    expect(upper95(5, 100)).toBeCloseTo(0.1024, 3);
  });

  it('enrolment keeps the best images by quality and skips near-duplicates', () => {
    const m = (w: number, sharp: number, yaw = 0) => ({ widthPx: w, brightness: 120, yaw, otherFaceRatio: 0, sharpness: sharp });
    const a = { vector: unit([1, 0, 0]), metrics: m(150, 400) };
    const aDup = { vector: unit([1, 0.01, 0]), metrics: m(150, 250) };
    const b = { vector: unit([0.7, 0.7, 0]), metrics: m(100, 200) };
    const c = { vector: unit([0.7, 0, 0.7]), metrics: m(60, 80, 0.4) };
    expect(selectEnrolment([c, aDup, b, a], 2)).toEqual([a, b]);
    expect(selectEnrolment([c, aDup, b, a], 4)).toEqual([a, b, c, aDup]);
  });
});

describe('real models on real photos', () => {
  let engine: OnnxFaceEngine;
  beforeAll(async () => {
    engine = await onnxEngine();
  });
  afterAll(async () => {
    await engine?.close();
  });

  it('the embedding is the normalised sum of the crop and its mirror image (flip averaging)', async () => {
    const img = await load('faces-dev2/lfw-bill_clinton/1.jpg');
    const f = chooseFace(await engine.detect(img), img.width, img.height)!;
    const aligned = alignFace(img, f.landmarks);
    const [a, b] = await engine.embedViews(aligned);
    const v = await engine.embedAligned(aligned);
    const sum = l2normalise(Float32Array.from(a, (x, i) => x + b[i]!));
    expect(dot(v, sum)).toBeCloseTo(1, 5);
    expect(dot(a, b)).toBeLessThan(0.99); // the mirror is a different view, not the same numbers
    expect(engine.modelId).toMatch(/\+flip$/);
  });

  it('the blur gate on kiosk-like frames: a dim frame is not "blurred", heavy blur is (contrast-normalised sharpness)', async () => {
    const { readFileSync: read } = await import('node:fs');
    const { kioskFrameDecoder } = await import('../../face/kiosk-frames.js');
    const bytes = read(join(SHARED, 'faces-dev2/lfw-bill_clinton/1.jpg'));
    const pipe = new FacePipeline(engine, cfg);
    const sharpnessOf = async (v: { blur: number; gain: number }) => {
      const frame = await kioskFrameDecoder({ name: 't', noise: 2, jpeg: 85, ...v }, 1)(bytes);
      expect([frame.width, frame.height]).toEqual([640, 480]);
      return (await pipe.analyse(frame, { gates: false })).metrics!.sharpness!;
    };
    const clean = await sharpnessOf({ blur: 0, gain: 1 });
    const dim = await sharpnessOf({ blur: 0, gain: 0.45 });
    const blurred = await sharpnessOf({ blur: 4, gain: 1 });
    const min = cfg.quality.minSharpness;
    expect(clean).toBeGreaterThan(min);
    expect(dim).toBeGreaterThan(min);
    expect(dim / clean).toBeGreaterThan(0.6); // raw Laplacian variance would drop to ~0.2 (0.45²)
    expect(blurred).toBeLessThan(min);
  });

  it('a larger bystander at the edge is not served: the centred person is (lfw-julianne_moore/1)', async () => {
    const img = await load('faces-dev2/lfw-julianne_moore/1.jpg');
    const faces = await engine.detect(img);
    expect(faces.length).toBe(2);
    const f = chooseFace(faces, img.width, img.height)!;
    const cx = f.box[0] + f.box[2] / 2, cy = f.box[1] + f.box[3] / 2;
    expect(Math.hypot(cx - img.width / 2, cy - img.height / 2)).toBeLessThan(30);
  });
});

/** A roster with templates made from the given images (as the hub makes them). */
async function rosterOf(engine: OnnxFaceEngine, people: Record<string, string[]>): Promise<RosterView> {
  const pipe = new FacePipeline(engine, cfg);
  const list: RosterPerson[] = [];
  for (const [nip, files] of Object.entries(people)) {
    const face = [];
    for (const f of files) {
      const a = await pipe.analyse(await decodeImage(readFileSync(f)), { gates: false });
      face.push({ modelId: engine.modelId, vector: encodeVector(a.vector!) });
    }
    list.push({ nip, name: nip, face });
  }
  const roster: Roster = { version: 'v1', site: { code: 'S', name: 'S' }, people: list, fetchedAt: new Date().toISOString() };
  return { current: () => roster, byNip: (n) => list.find((p) => p.nip === n), refresh: async () => roster };
}

/**
 * The NIP fallback on the real pipeline: with 1:N off (roster above maxGallery) a person standing
 * at the kiosk is not identified until the NIP is typed; then the frames verify 1:1. The screen's
 * POST /claim reaches the face source over the bus.
 */
describe('NIP 1:1 fallback', () => {
  let source: FaceSource | null = null;
  let screen: ScreenServer | null = null;
  const dirs: string[] = [];
  afterEach(async () => {
    await screen?.stop();
    await source?.stop();
    screen = null;
    source = null;
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  async function start(frame: string, overrides: Record<string, unknown>) {
    const engine = await onnxEngine();
    const clinton = [1, 2, 3].map((n) => join(SHARED, `faces-dev2/lfw-bill_clinton/${n}.jpg`));
    const powell = [1, 2, 3].map((n) => join(SHARED, `faces-dev2/lfw-colin_powell/${n}.jpg`));
    const roster = await rosterOf(engine, { '111': clinton, '222': powell });
    await engine.close();
    const dir = tmp('claim');
    dirs.push(dir);
    copyFileSync(frame, join(dir, '1.jpg'));
    const bus = new EventEmitter() as KioskBus;
    const feedback: FeedbackEvent[] = [];
    bus.on('feedback', (f) => feedback.push(f));
    const ids: Identification[] = [];
    const config = faceConfigSchema.parse({ engine: 'onnx', threads: 1, loopIntervalMs: 0, messageIntervalMs: 0, cooldownMs: 60_000, liveness: { enabled: false }, ...overrides });
    source = new FaceSource({ config, camera: new DirCamera({ dir, loop: true, repeat: 1 }), createEngine: () => OnnxFaceEngine.create({ dir: testModelDir(), threads: 1 }), roster, bus, log: childLogger('test') });
    bus.on('face:claim', (req) => req.reply(source!.claim(req.nip)));
    await source.start((i) => {
      ids.push(i);
    });
    screen = new ScreenServer({ host: '127.0.0.1', port: 0, timeZone: 'Asia/Jakarta', bus, status: () => ({ siteName: 'S', deviceId: 'd', connected: true, backlog: 0 }), log: childLogger('test') });
    await screen.start();
    const waitFrames = async (n: number) => {
      const until = source!.frames + n;
      const t0 = Date.now();
      while (source!.frames < until && Date.now() - t0 < 30_000) await new Promise((r) => setTimeout(r, 10));
    };
    const post = (body: unknown) => fetch(`${screen!.url}claim`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { ids, feedback, waitFrames, post };
  }

  it('with 1:N off (roster above maxGallery) nobody is identified until the NIP is typed, then 1:1 identifies them', async () => {
    const { ids, feedback, waitFrames, post } = await start(join(SHARED, 'faces-dev2/lfw-bill_clinton/5.jpg'), { match: { maxGallery: 1 } });
    expect(source!.state().detail).toMatch(/1:N OFF/);
    await waitFrames(4);
    expect(ids).toEqual([]);
    expect(feedback.some((f) => f.kind === 'hint' && /Ketik NIP/.test(f.message))).toBe(true);
    expect((await post({ nip: 'x y' })).status).toBe(400);
    expect((await post({ nip: '999' })).status).toBe(404);
    const r = await post({ nip: '111' });
    expect(r.status).toBe(202);
    await waitFrames(4);
    expect(ids.map((i) => i.nip)).toEqual(['111']);
    expect(ids[0]!.score).toBeGreaterThanOrEqual(decisionFor({ name: 'onnx' }, cfg, 2).verifyThreshold);
  }, 90_000);

  it('a colleague typing another NIP is not identified as that person (1:1 at the verify threshold)', async () => {
    const { ids, feedback, waitFrames, post } = await start(join(SHARED, 'faces-dev2/lfw-colin_powell/5.jpg'), { match: { maxGallery: 1, claimTimeoutS: 3 } });
    expect((await post({ nip: '111' })).status).toBe(202);
    await waitFrames(6);
    expect(ids).toEqual([]);
    const t0 = Date.now();
    while (!feedback.some((f) => f.kind === 'unknown' && /tidak cocok dengan NIP/.test(f.reason)) && Date.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 50));
    expect(feedback.some((f) => f.kind === 'unknown' && /tidak cocok dengan NIP/.test(f.reason))).toBe(true);
  }, 90_000);
});
