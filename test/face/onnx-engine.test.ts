import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OnnxFaceEngine } from '../../face/onnx-engine.js';
import { decodeYunet, iou, padTo32, yunetInput } from '../../face/yunet.js';
import { alignFace } from '../../face/align.js';
import { dot } from '../../face/engine.js';
import { fuseLiveness, livenessCrop } from '../../face/liveness.js';
import { chooseFace } from '../../face/quality.js';
import { faceConfigSchema } from '../../face/config.js';
import { evalFaces } from '../../face/eval.js';
import { FACES_DEV, facesManifest, load, onnxEngine } from './helpers.js';
import type { RgbImage } from '../../face/image.js';

let engine: OnnxFaceEngine;
beforeAll(async () => {
  engine = await onnxEngine();
});
afterAll(async () => {
  await engine?.close();
});

describe('YuNet pre/post-processing', () => {
  it('pads to multiples of 32 without scaling and feeds BGR planes', () => {
    expect([padTo32(480), padTo32(150), padTo32(640), padTo32(1)]).toEqual([480, 160, 640, 32]);
    const img: RgbImage = { width: 2, height: 1, data: Uint8Array.from([10, 20, 30, 40, 50, 60]) };
    const x = yunetInput(img);
    expect([x.width, x.height]).toEqual([32, 32]);
    const plane = 32 * 32;
    expect([x.data[0], x.data[plane], x.data[2 * plane], x.data[1], x.data[2]]).toEqual([30, 20, 10, 60, 0]);
  });

  it('decodes one anchor exactly as MODELS.md says', () => {
    // 64x64 input: stride 8 → 8x8 grid; put a face at row 2, col 3
    const out: Record<string, Float32Array> = {};
    for (const s of [8, 16, 32]) {
      const n = (64 / s) ** 2;
      out[`cls_${s}`] = new Float32Array(n);
      out[`obj_${s}`] = new Float32Array(n);
      out[`bbox_${s}`] = new Float32Array(n * 4);
      out[`kps_${s}`] = new Float32Array(n * 10);
    }
    const i = 2 * 8 + 3;
    out.cls_8![i] = 0.81;
    out.obj_8![i] = 1.2; // clamped to 1
    out.bbox_8!.set([0.5, 0.25, Math.log(2), Math.log(3)], i * 4);
    out.kps_8!.set([0.1, 0.2, 0.9, 0.2, 0.5, 0.5, 0.2, 0.8, 0.8, 0.8], i * 10);
    const [f] = decodeYunet(out, 64, 64, 0.5);
    expect(f!.score).toBeCloseTo(0.9, 6);
    // centre ((3 + .5)·8, (2 + .25)·8) = (28, 18); size 16 x 24
    expect(f!.box.map((v) => +v.toFixed(4))).toEqual([20, 6, 16, 24]);
    expect(f!.landmarks[0]!.map((v) => +v.toFixed(4))).toEqual([24.8, 17.6]);
    expect(f!.landmarks[4]!.map((v) => +v.toFixed(4))).toEqual([30.4, 22.4]);
  });

  it('finds the faces of real faces-dev photos where manifest.json has them', async () => {
    // large photos: detection runs on the 640-px copy like the manifest's 640 model did
    const entries = facesManifest().filter((e) => /^(deepface-df0[13579]|ageitgey-obama|faceonnx-)/.test(e.file)).slice(0, 12);
    expect(entries.length).toBe(12);
    for (const e of entries) {
      const img = await load(`faces-dev/${e.file}`);
      const faces = await engine.detect(img);
      const f = chooseFace(faces, img.width, img.height)!;
      expect(f, e.file).toBeTruthy();
      expect(iou(f.box, e.face.box), e.file).toBeGreaterThan(0.85);
      const eyeDist = Math.hypot(e.face.landmarks[1]![0] - e.face.landmarks[0]![0], e.face.landmarks[1]![1] - e.face.landmarks[0]![1]);
      for (let k = 0; k < 5; k++) {
        const d = Math.hypot(f.landmarks[k]![0] - e.face.landmarks[k]![0], f.landmarks[k]![1] - e.face.landmarks[k]![1]);
        // images under 640 px ran upscaled for the manifest and at native size here: a few % apart
        expect(d / eyeDist, `${e.file} landmark ${k}`).toBeLessThan(0.12);
      }
      expect(f.score).toBeGreaterThan(0.8);
    }
  });

  it('detects the small 150x150 stills by padding (no upscaling)', async () => {
    const img = await load('faces-dev/faceapi-amy/1.jpg');
    const faces = await engine.detect(img);
    expect(faces.length).toBe(1);
    expect(faces[0]!.score).toBeGreaterThan(0.85); // the manifest's upscaled run scored 0.73
  });
});

describe('MobileFaceNet embedding', () => {
  const embed = async (rel: string) => {
    const img = await load(`faces-dev/${rel}`);
    const f = chooseFace(await engine.detect(img), img.width, img.height)!;
    return engine.embedAligned(alignFace(img, f.landmarks));
  };

  it('is unit length and scores genuine pairs above impostor pairs on real photos', async () => {
    const o1 = await embed('ageitgey-obama/1.jpg');
    const o2 = await embed('ageitgey-obama/3.jpg');
    const b1 = await embed('faceonnx-brad_pitt/1.jpg');
    const b2 = await embed('faceonnx-brad_pitt/2.jpg');
    const n1 = await embed('faceonnx-nicole_kidman/1.jpg');
    expect(dot(o1, o1)).toBeCloseTo(1, 5);
    const genuine = [dot(o1, o2), dot(b1, b2)];
    const impostor = [dot(o1, b1), dot(o2, n1), dot(b2, n1)];
    expect(Math.min(...genuine)).toBeGreaterThan(0.4);
    expect(Math.max(...impostor)).toBeLessThan(0.3);
  });

  it('meets the issue targets on faces-dev with the shipped decision (eval faces: 1:1, 1:N per gallery size)', async () => {
    const cfg = faceConfigSchema.parse({});
    const r = await evalFaces(FACES_DEV, engine, cfg, { gates: false, cacheDir: null, pad: [], gallerySizes: [10, 100] });
    expect(r.detection_rate).toBe(1);
    expect(r.false_accepts).toBe(0);
    expect(r.fmr_upper95).toBeCloseTo(3 / r.impostor_trials, 9); // rule of three at 0 of N
    expect(r.stranger_accepts).toBe(0);
    expect(r.misidentifications).toBe(0);
    expect(r.impostor_trials).toBeGreaterThan(600);
    expect(r.genuine_accept_rate).toBeGreaterThanOrEqual(0.97);
    expect(r.rank1_rate).toBeGreaterThanOrEqual(0.97);
    // 100 people: 12 real + 88 synthetic padding, a higher threshold, still no stranger accepted
    const [g10, g100] = r.galleries;
    expect(g10!.people).toBe(10);
    expect(g100!.real_people + g100!.synthetic_people).toBe(100);
    expect(g100!.threshold).toBeGreaterThan(g10!.threshold);
    expect(g100!.stranger_accepts).toBe(0);
  }, 120_000);
});

describe('MiniFASNet liveness', () => {
  it('crops like minivision: scaled box, capped at the image, shifted back inside', () => {
    // centred box: plain 2.7x crop
    expect(livenessCrop([200, 200, 100, 100], 600, 600, 2.7)).toEqual([115, 115, 385, 385]);
    // near the left/top edge: shifted, not shrunk
    expect(livenessCrop([0, 10, 100, 100], 600, 600, 2.7)).toEqual([0, 0, 270, 270]);
    // scale capped by the image: (H−1)/h
    const [x0, y0, x1, y1] = livenessCrop([100, 100, 200, 300], 480, 640, 4);
    expect(y1 - y0).toBeLessThanOrEqual(639);
    expect(x0).toBeGreaterThanOrEqual(0);
    expect(x1).toBeLessThanOrEqual(479);
  });

  it('fuses the two softmaxes; class 1 is live', () => {
    expect(fuseLiveness([[0, 10, 0], [0, 10, 0]]).cls).toBe(1);
    expect(fuseLiveness([[0, 0, 10], [0, 0, 10]]).live).toBeLessThan(0.01);
  });

  it('accepts the live sample and rejects print and replay (spoof-dev)', async () => {
    const score = async (kind: string) => {
      const img = await load(`spoof-dev/${kind}/1.jpg`);
      return engine.liveness(img, chooseFace(await engine.detect(img), img.width, img.height)!);
    };
    const thr = faceConfigSchema.parse({}).liveness.threshold;
    expect(await score('live')).toBeGreaterThan(Math.max(thr, 0.95));
    const print = await score('print');
    expect(print).toBeLessThan(thr);
    expect(print).toBeCloseTo(0.21, 1); // MODELS.md: print → live 0.21
    expect(await score('replay')).toBeLessThan(0.05);
  });
});
