import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { l2normalise, type DetectedFace, type FaceEngine } from './engine.js';
import { crop, type RgbImage } from './image.js';
import { ARCFACE_112, CANONICAL_PAD } from './align.js';

const require = createRequire(import.meta.url);

/* Minimal typings of the parts of @vladmandic/face-api and tfjs used here (their CJS builds are required at run time). */
interface Tf {
  setBackend(name: string): Promise<boolean>;
  ready(): Promise<void>;
  getBackend(): string;
  tensor3d(values: Uint8Array | Int32Array, shape: [number, number, number], dtype: 'int32'): TfTensor;
  tidy<T>(fn: () => T): T;
  env(): { set(flag: string, v: unknown): void };
}
interface TfTensor {
  dispose(): void;
}
interface FaceApiPoint {
  x: number;
  y: number;
}
interface FaceApiResult {
  detection: { score: number; box: { x: number; y: number; width: number; height: number } };
  landmarks: { positions: FaceApiPoint[] };
}
interface Net {
  loadFromDisk(dir: string): Promise<void>;
}
interface FaceApi {
  nets: { ssdMobilenetv1: Net; faceLandmark68Net: Net; faceRecognitionNet: Net };
  SsdMobilenetv1Options: new (o: { minConfidence: number; maxResults?: number }) => unknown;
  detectAllFaces(input: TfTensor, opts: unknown): { withFaceLandmarks(): Promise<FaceApiResult[]> };
  computeFaceDescriptor(input: TfTensor): Promise<Float32Array | Float32Array[]>;
  version: string;
}

let loaded: Promise<{ tf: Tf; faceapi: FaceApi }> | null = null;

/**
 * Loads tfjs with the WASM backend, pointed at the .wasm files inside @tensorflow/tfjs-backend-wasm
 * with platform fetch off (Node's fetch cannot read file paths), and face-api's weights from its
 * own npm package (`model/`): nothing is downloaded.
 */
async function load(): Promise<{ tf: Tf; faceapi: FaceApi }> {
  const tf = require('@tensorflow/tfjs') as Tf;
  const wasm = require('@tensorflow/tfjs-backend-wasm') as { setWasmPaths(prefix: string, usePlatformFetch?: boolean): void };
  const faceapi = require('@vladmandic/face-api/dist/face-api.node-wasm.js') as FaceApi;
  wasm.setWasmPaths(`${dirname(require.resolve('@tensorflow/tfjs-backend-wasm'))}/`, false);
  await tf.setBackend('wasm');
  await tf.ready();
  const modelDir = join(dirname(require.resolve('@vladmandic/face-api/package.json')), 'model');
  await faceapi.nets.ssdMobilenetv1.loadFromDisk(modelDir);
  await faceapi.nets.faceLandmark68Net.loadFromDisk(modelDir);
  await faceapi.nets.faceRecognitionNet.loadFromDisk(modelDir);
  return { tf, faceapi };
}

/** [x, y, side] of face-api's dlib-style chip inside the canonical aligned crop. */
const FACEAPI_CHIP = (() => {
  const [re, le, , rm, lm] = ARCFACE_112 as [number, number][];
  const mouth = [(rm![0] + lm![0]) / 2, (rm![1] + lm![1]) / 2];
  const dist = (p: [number, number]) => Math.hypot(mouth[0]! - p[0], mouth[1]! - p[1]);
  const side = (dist(re!) + dist(le!)) / 2 / 0.45;
  const cx = (re![0] + le![0] + mouth[0]!) / 3, cy = (re![1] + le![1] + mouth[1]!) / 3;
  return [Math.round(cx - 0.5 * side + CANONICAL_PAD), Math.round(cy - 0.43 * side + CANONICAL_PAD), Math.round(side)] as const;
})();

const mean = (ps: FaceApiPoint[]): [number, number] => [ps.reduce((s, p) => s + p.x, 0) / ps.length, ps.reduce((s, p) => s + p.y, 0) / ps.length];

/** @vladmandic/face-api (SSD MobileNet v1 + 68 landmarks + ResNet-34 descriptor) on the tfjs WASM backend. */
export class FaceApiEngine implements FaceEngine {
  readonly name = 'faceapi' as const;
  readonly dims = 128;
  readonly hasLiveness = false;
  readonly modelId: string;

  private constructor(
    private readonly tf: Tf,
    private readonly api: FaceApi,
    private readonly minConfidence: number,
  ) {
    this.modelId = `faceapi-resnet34@${(require('@vladmandic/face-api/package.json') as { version: string }).version}`;
  }

  static async create(opts: { minConfidence?: number } = {}): Promise<FaceApiEngine> {
    loaded ??= load().catch((e: unknown) => {
      loaded = null; // a later attempt may succeed (e.g. after a package repair)
      throw e;
    });
    const { tf, faceapi } = await loaded;
    return new FaceApiEngine(tf, faceapi, opts.minConfidence ?? 0.3);
  }

  private tensor(img: RgbImage): TfTensor {
    return this.tf.tensor3d(img.data, [img.height, img.width, 3], 'int32');
  }

  async detect(img: RgbImage): Promise<DetectedFace[]> {
    const t = this.tensor(img);
    try {
      const res = await this.api.detectAllFaces(t, new this.api.SsdMobilenetv1Options({ minConfidence: this.minConfidence, maxResults: 20 })).withFaceLandmarks();
      return res.map((r) => {
        const p = r.landmarks.positions;
        const b = r.detection.box;
        // 68-point → the 5 points in YuNet order: image-left eye, image-right eye, nose tip, image-left and image-right mouth corner
        return {
          score: r.detection.score,
          box: [b.x, b.y, b.width, b.height],
          landmarks: [mean(p.slice(36, 42)), mean(p.slice(42, 48)), [p[30]!.x, p[30]!.y], [p[48]!.x, p[48]!.y], [p[54]!.x, p[54]!.y]],
        };
      });
    } finally {
      t.dispose();
    }
  }

  async embedAligned(aligned: RgbImage): Promise<Float32Array> {
    // face-api's own chip (FaceLandmarks.alignDlib: side = eye-to-mouth distance / 0.45, placed at
    // 0.5/0.43 of the eyes-and-mouth centroid) expressed in canonical-crop coordinates
    const t = this.tensor(crop(aligned, FACEAPI_CHIP[0], FACEAPI_CHIP[1], FACEAPI_CHIP[2], FACEAPI_CHIP[2]));
    try {
      const d = await this.api.computeFaceDescriptor(t);
      return l2normalise(Float32Array.from(Array.isArray(d) ? d[0]! : d));
    } finally {
      t.dispose();
    }
  }

  async liveness(): Promise<null> {
    return null;
  }

  async close(): Promise<void> {}
}
