import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TemplateIndex } from '../../face/matcher.js';
import { MatchConfirmer, judgeMatch } from '../../face/decision.js';
import { encodeVector, decodeVector } from '../../face/vector.js';
import { chooseFace, yawRatio } from '../../face/quality.js';
import { FacePipeline } from '../../face/pipeline.js';
import { faceConfigSchema } from '../../face/config.js';
import { decodeImage, type RgbImage } from '../../face/image.js';
import type { OnnxFaceEngine } from '../../face/onnx-engine.js';
import { randomIndex } from '../../face/bench.js';
import { SHARED, onnxEngine } from './helpers.js';

const unit = (xs: number[]) => {
  const n = Math.hypot(...xs);
  return Float32Array.from(xs.map((x) => x / n));
};

describe('1:N search', () => {
  it('scores each person by their best template and reports the runner-up (another person)', () => {
    const idx = new TemplateIndex('m', 3);
    idx.add('A', unit([1, 0, 0]));
    idx.add('A', unit([0.9, 0.1, 0]));
    idx.add('B', unit([0, 1, 0]));
    idx.add('C', unit([0.7, 0.7, 0]));
    const m = idx.search(unit([1, 0.05, 0]))!;
    expect(m.nip).toBe('A');
    expect(m.score).toBeGreaterThan(0.99);
    expect(m.runnerUpNip).toBe('C');
    expect(m.runnerUp).toBeCloseTo(unit([0.7, 0.7, 0])[0]! * unit([1, 0.05, 0])[0]! + unit([0.7, 0.7, 0])[1]! * unit([1, 0.05, 0])[1]!, 5);
    expect(new TemplateIndex('m', 3).search(unit([1, 0, 0]))).toBeNull();
  });

  it('builds from the roster keeping only templates of its own model', () => {
    const people = [
      { nip: 'A', face: [{ modelId: 'onnx-x', vector: encodeVector(unit([1, 0, 0])) }, { modelId: 'other', vector: encodeVector(unit([0, 1, 0])) }] },
      { nip: 'B', face: [{ modelId: 'other', vector: encodeVector(unit([0, 1, 0])) }] },
      { nip: 'C' },
    ];
    const idx = TemplateIndex.fromRoster(people, 'onnx-x', 3);
    expect([idx.size, idx.people]).toEqual([1, 1]);
    expect(Array.from(decodeVector(encodeVector(unit([3, 4, 0]))))).toEqual([0.6000000238418579, 0.800000011920929, 0]);
  });

  it('finds the planted template among 10,000 and grows past its capacity', () => {
    const idx = randomIndex('m', 128, 10_000);
    const q = new Float32Array(128);
    q[5] = 1;
    idx.add('target', q);
    expect(idx.size).toBe(10_001);
    expect(idx.search(q)!.nip).toBe('target');
  });
});

describe('decision: threshold, margin, 2 consecutive frames', () => {
  const cfg = { threshold: 0.4, margin: 0.08, confirmFrames: 2, verifyThreshold: 0.5, oneToNOff: null };
  it('judges one frame', () => {
    expect(judgeMatch(null, cfg)).toEqual({ accepted: false, reason: 'no_match' });
    expect(judgeMatch({ nip: 'A', score: 0.39, runnerUp: 0, runnerUpNip: 'B' }, cfg)).toMatchObject({ accepted: false, reason: 'below_threshold' });
    expect(judgeMatch({ nip: 'A', score: 0.6, runnerUp: 0.55, runnerUpNip: 'B' }, cfg)).toMatchObject({ accepted: false, reason: 'ambiguous' });
    expect(judgeMatch({ nip: 'A', score: 0.6, runnerUp: 0.5, runnerUpNip: 'B' }, cfg)).toMatchObject({ accepted: true, nip: 'A' });
    expect(judgeMatch({ nip: 'A', score: 0.45, runnerUp: -1, runnerUpNip: null }, cfg)).toMatchObject({ accepted: true });
  });

  it('confirms only the same person in consecutive frames, with the lower score', () => {
    const c = new MatchConfirmer(cfg);
    const acc = (nip: string, score: number) => ({ accepted: true as const, nip, score });
    expect(c.step(acc('A', 0.7))).toEqual({ confirmed: false, pending: 1 });
    expect(c.step(acc('B', 0.7))).toEqual({ confirmed: false, pending: 1 }); // switched person restarts
    expect(c.step({ accepted: false, reason: 'below_threshold' })).toEqual({ confirmed: false, pending: 0 });
    expect(c.step(acc('A', 0.7))).toEqual({ confirmed: false, pending: 1 });
    expect(c.step(acc('A', 0.62))).toEqual({ confirmed: true, nip: 'A', score: 0.62, frames: 2 });
    expect(c.step(acc('A', 0.7))).toEqual({ confirmed: false, pending: 1 }); // starts over after a confirmation
  });
});

describe('choosing the face and quality gates (real photos)', () => {
  let engine: OnnxFaceEngine;
  let pipe: FacePipeline;
  const cfg = faceConfigSchema.parse({});
  const raw = (rel: string) => readFileSync(join(SHARED, rel));
  const viaSharp = async (p: ReturnType<typeof sharp>): Promise<RgbImage> => decodeImage(await p.jpeg({ quality: 92 }).toBuffer());
  beforeAll(async () => {
    engine = await onnxEngine();
    pipe = new FacePipeline(engine, cfg);
  });
  afterAll(() => engine?.close());

  it('passes a good photo and names each failure in Bahasa Indonesia', async () => {
    const good = await pipe.analyse(await decodeImage(raw('faces-dev/deepface-df07/1.jpg')));
    expect(good.quality).toBeNull();
    expect(good.vector?.length).toBe(128);

    const blurred = await pipe.analyse(await viaSharp(sharp(raw('faces-dev/deepface-df07/1.jpg')).blur(6)));
    expect(blurred.face).not.toBeNull();
    expect(blurred.quality).toBe('blurred');

    const dark = await pipe.analyse(await viaSharp(sharp(raw('faces-dev/deepface-df07/1.jpg')).linear(0.15, 0)));
    expect(dark.quality).toBe('too_dark');

    const small = await pipe.analyse(await viaSharp(sharp(raw('faces-dev/deepface-df07/1.jpg')).resize(120)));
    expect(small.face).not.toBeNull();
    expect(small.quality).toBe('too_small');

    // two people side by side, equally close
    const a = await sharp(raw('faces-dev/deepface-df07/1.jpg')).resize(400, 500, { fit: 'cover' }).toBuffer();
    const b = await sharp(raw('faces-dev/deepface-df01/2.jpg')).resize(400, 500, { fit: 'cover' }).toBuffer();
    const pair = await viaSharp(sharp({ create: { width: 800, height: 500, channels: 3, background: '#808080' } }).composite([{ input: a, left: 0, top: 0 }, { input: b, left: 400, top: 0 }]));
    const two = await pipe.analyse(pair);
    expect(two.faces.length).toBe(2);
    expect(two.quality).toBe('multiple');
  });

  it('prefers the large central face; yaw grows as the nose leaves the eye midline', () => {
    const f = (x: number, w: number) => ({ box: [x, 100, w, w] as [number, number, number, number], landmarks: [], score: 0.9 });
    expect(chooseFace([f(0, 100), f(270, 95)], 640, 480)!.box[0]).toBe(270); // central slightly smaller wins
    expect(chooseFace([f(0, 200), f(270, 95)], 640, 480)!.box[0]).toBe(0); // much larger wins
    expect(yawRatio([[100, 100], [160, 100], [130, 130], [110, 160], [150, 160]])).toBeCloseTo(0, 6);
    expect(yawRatio([[100, 100], [160, 100], [155, 130], [110, 160], [150, 160]])).toBeCloseTo(25 / 60, 6);
  });
});
