import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FaceApiEngine } from '../../face/faceapi-engine.js';
import { createEngine } from '../../face/engines.js';
import { alignFace } from '../../face/align.js';
import { dot } from '../../face/engine.js';
import { chooseFace } from '../../face/quality.js';
import { iou } from '../../face/yunet.js';
import { facesManifest, load, testModelDir } from './helpers.js';

/** The zero-download reference engine: face-api on the tfjs WASM backend, weights from its npm package. */
describe('face-api engine (WASM)', () => {
  let engine: FaceApiEngine;
  beforeAll(async () => {
    engine = await FaceApiEngine.create();
  }, 60_000);
  afterAll(() => engine?.close());

  it('runs on the wasm backend with no download and has its own model id', async () => {
    const tf = (await import('@tensorflow/tfjs')) as unknown as { getBackend(): string };
    expect(tf.getBackend()).toBe('wasm');
    expect(engine.modelId).toMatch(/^faceapi-resnet34@\d+\.\d+\.\d+$/);
    expect(engine.hasLiveness).toBe(false);
  });

  it('finds the face where YuNet did, with 5 landmarks in the same order', async () => {
    const e = facesManifest().find((x) => x.file === 'deepface-df07/1.jpg')!;
    const img = await load(`faces-dev/${e.file}`);
    const f = chooseFace(await engine.detect(img), img.width, img.height)!;
    expect(iou(f.box, e.face.box)).toBeGreaterThan(0.5);
    // image-left eye first, nose between the eyes, mouth below
    expect(f.landmarks[0]![0]).toBeLessThan(f.landmarks[1]![0]);
    expect(f.landmarks[2]![1]).toBeGreaterThan(f.landmarks[0]![1]);
    expect(f.landmarks[3]![1]).toBeGreaterThan(f.landmarks[2]![1]);
  }, 60_000);

  it('scores genuine above impostor from the same canonical crops the ONNX engine uses', async () => {
    const embed = async (rel: string) => {
      const img = await load(`faces-dev/${rel}`);
      const f = chooseFace(await engine.detect(img), img.width, img.height)!;
      return engine.embedAligned(alignFace(img, f.landmarks));
    };
    const a1 = await embed('deepface-df07/1.jpg');
    const a2 = await embed('deepface-df07/2.jpg');
    const b1 = await embed('deepface-df03/1.jpg');
    expect(dot(a1, a2)).toBeGreaterThan(0.9);
    expect(dot(a1, b1)).toBeLessThan(0.9);
  }, 60_000);

  it('auto picks ONNX when its models are installed', async () => {
    const e = await createEngine('auto', { modelDir: testModelDir(), threads: 1 });
    expect(e.name).toBe('onnx');
    await e.close();
    const fallback = await createEngine('auto', { modelDir: '/nonexistent/models' });
    expect(fallback.name).toBe('faceapi');
  }, 60_000);
});
