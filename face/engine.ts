import type { Point } from './align.js';
import type { RgbImage } from './image.js';

/** A face found in a frame: box [x, y, w, h] in frame pixels and 5 landmarks in YuNet/ArcFace order. */
export interface DetectedFace {
  box: [number, number, number, number];
  landmarks: Point[];
  score: number;
}

/**
 * One face engine (Frigate-style detector plugin): the ONNX engine (YuNet + MobileFaceNet +
 * MiniFASNet) or the face-api engine (SSD MobileNet + ResNet-34, WASM). Templates are only ever
 * compared with templates of the same `modelId`.
 */
export interface FaceEngine {
  readonly name: 'onnx' | 'faceapi';
  /** Identifies the embedding model; stored with every template. */
  readonly modelId: string;
  readonly dims: number;
  /** True when `liveness` gives a real score. */
  readonly hasLiveness: boolean;
  detect(img: RgbImage): Promise<DetectedFace[]>;
  /** Embedding of the canonical aligned crop (align.ts `alignFace`, 160x160); L2-normalised. */
  embedAligned(aligned: RgbImage): Promise<Float32Array>;
  /** The single-view embeddings embedAligned combines (crop, mirror), where it combines several. */
  embedViews?(aligned: RgbImage): Promise<Float32Array[]>;
  /** Probability 0..1 that the face is a live person (not a print or a screen); null if unsupported. */
  liveness(img: RgbImage, face: DetectedFace): Promise<number | null>;
  close(): Promise<void>;
}

export function l2normalise(v: Float32Array): Float32Array {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]! * v[i]!;
  const n = Math.sqrt(s) || 1;
  const out = new Float32Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = v[i]! / n;
  return out;
}

export function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}
