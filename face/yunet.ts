import type { DetectedFace } from './engine.js';
import type { RgbImage } from './image.js';

/** YuNet pre/post-processing exactly as MODELS.md §1 (OpenCV FaceDetectorYN). Pure functions. */

export const YUNET_STRIDES = [8, 16, 32] as const;

export function padTo32(n: number): number {
  return Math.ceil(n / 32) * 32;
}

/** NCHW float32 BGR, raw 0..255, zero-padded right/bottom to multiples of 32 (no upscaling). */
export function yunetInput(img: RgbImage): { data: Float32Array; width: number; height: number } {
  const W = padTo32(img.width), H = padTo32(img.height);
  const plane = W * H;
  const out = new Float32Array(3 * plane);
  const src = img.data;
  for (let y = 0; y < img.height; y++) {
    let i = y * img.width * 3;
    let o = y * W;
    for (let x = 0; x < img.width; x++, i += 3, o++) {
      out[o] = src[i + 2]!; // B
      out[plane + o] = src[i + 1]!; // G
      out[2 * plane + o] = src[i]!; // R
    }
  }
  return { data: out, width: W, height: H };
}

export type YunetOutputs = Record<string, Float32Array>;

const clamp01 = (v: number) => (v < 0 ? 0 : v > 1 ? 1 : v);

/** Decodes the 12 output tensors of an input of (padded) size width×height. */
export function decodeYunet(out: YunetOutputs, width: number, height: number, scoreThreshold = 0.6, nmsIou = 0.3, topK = 50): DetectedFace[] {
  const faces: DetectedFace[] = [];
  for (const s of YUNET_STRIDES) {
    const cols = width / s, rows = height / s;
    const cls = out[`cls_${s}`], obj = out[`obj_${s}`], bbox = out[`bbox_${s}`], kps = out[`kps_${s}`];
    if (!cls || !obj || !bbox || !kps) throw new Error(`YuNet output for stride ${s} missing`);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        const i = r * cols + c;
        const score = Math.sqrt(clamp01(cls[i]!) * clamp01(obj[i]!));
        if (score < scoreThreshold) continue;
        const cx = (c + bbox[i * 4]!) * s, cy = (r + bbox[i * 4 + 1]!) * s;
        const w = Math.exp(bbox[i * 4 + 2]!) * s, h = Math.exp(bbox[i * 4 + 3]!) * s;
        const landmarks: [number, number][] = [];
        for (let k = 0; k < 5; k++) landmarks.push([(kps[i * 10 + 2 * k]! + c) * s, (kps[i * 10 + 2 * k + 1]! + r) * s]);
        faces.push({ box: [cx - w / 2, cy - h / 2, w, h], landmarks, score });
      }
    }
  }
  return nms(faces, nmsIou, topK);
}

export function iou(a: DetectedFace['box'], b: DetectedFace['box']): number {
  const x0 = Math.max(a[0], b[0]), y0 = Math.max(a[1], b[1]);
  const x1 = Math.min(a[0] + a[2], b[0] + b[2]), y1 = Math.min(a[1] + a[3], b[1] + b[3]);
  const inter = Math.max(0, x1 - x0) * Math.max(0, y1 - y0);
  const u = a[2] * a[3] + b[2] * b[3] - inter;
  return u > 0 ? inter / u : 0;
}

/** Greedy NMS by score. */
export function nms(faces: DetectedFace[], iouThreshold: number, topK: number): DetectedFace[] {
  const sorted = [...faces].sort((a, b) => b.score - a.score);
  const keep: DetectedFace[] = [];
  for (const f of sorted) {
    if (keep.every((k) => iou(k.box, f.box) <= iouThreshold)) keep.push(f);
    if (keep.length >= topK) break;
  }
  return keep;
}

/** Maps a face found on a scaled copy back to the original frame. */
export function scaleFace(f: DetectedFace, k: number): DetectedFace {
  if (k === 1) return f;
  return {
    score: f.score,
    box: [f.box[0] / k, f.box[1] / k, f.box[2] / k, f.box[3] / k],
    landmarks: f.landmarks.map(([x, y]) => [x / k, y / k]),
  };
}
