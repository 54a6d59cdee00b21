import type { RgbImage } from './image.js';

/**
 * 5-point similarity alignment to the 112x112 ArcFace template (MODELS.md §2).
 * Hand-written on purpose: it is a closed form of a few lines (2-D Umeyama without reflection),
 * and no maintained npm package offers a least-squares similarity fit plus a bilinear affine warp
 * on raw RGB buffers without pulling in OpenCV.
 */

export type Point = [number, number];

/** ArcFace template in YuNet landmark order: right eye (image-left), left eye, nose, right mouth, left mouth. */
export const ARCFACE_112: readonly Point[] = [
  [38.2946, 51.6963],
  [73.5318, 51.5014],
  [56.0252, 71.7366],
  [41.5493, 92.3655],
  [70.7299, 92.2041],
];

/** Similarity transform x' = a·x − b·y + tx, y' = b·x + a·y + ty (scale s = √(a²+b²), angle atan2(b,a)). */
export interface Similarity {
  a: number;
  b: number;
  tx: number;
  ty: number;
}

/**
 * Least-squares similarity src → dst (Umeyama 1991, 2-D, reflection excluded). In 2-D the
 * rotation-and-scale part [[a,−b],[b,a]] has the closed form below on centred coordinates.
 */
export function estimateSimilarity(src: readonly Point[], dst: readonly Point[]): Similarity {
  const n = src.length;
  if (n < 2 || dst.length !== n) throw new Error('estimateSimilarity needs ≥2 matching points');
  let sx = 0, sy = 0, dx = 0, dy = 0;
  for (let i = 0; i < n; i++) {
    sx += src[i]![0]; sy += src[i]![1]; dx += dst[i]![0]; dy += dst[i]![1];
  }
  sx /= n; sy /= n; dx /= n; dy /= n;
  let num1 = 0, num2 = 0, den = 0;
  for (let i = 0; i < n; i++) {
    const px = src[i]![0] - sx, py = src[i]![1] - sy;
    const qx = dst[i]![0] - dx, qy = dst[i]![1] - dy;
    num1 += px * qx + py * qy;
    num2 += px * qy - py * qx;
    den += px * px + py * py;
  }
  if (den === 0) throw new Error('estimateSimilarity: all source points coincide');
  const a = num1 / den;
  const b = num2 / den;
  return { a, b, tx: dx - (a * sx - b * sy), ty: dy - (b * sx + a * sy) };
}

export function applySimilarity(t: Similarity, p: Point): Point {
  return [t.a * p[0] - t.b * p[1] + t.tx, t.b * p[0] + t.a * p[1] + t.ty];
}

export function invertSimilarity(t: Similarity): Similarity {
  const d = t.a * t.a + t.b * t.b;
  const a = t.a / d, b = -t.b / d;
  return { a, b, tx: -(a * t.tx - b * t.ty), ty: -(b * t.tx + a * t.ty) };
}

/** Warps `img` by `t` (image → output coordinates) into size×size, bilinear, black outside (cv2.warpAffine). */
export function warpSimilarity(img: RgbImage, t: Similarity, width: number, height = width): RgbImage {
  const inv = invertSimilarity(t);
  const out = new Uint8Array(width * height * 3);
  const { width: W, height: H, data } = img;
  for (let v = 0; v < height; v++) {
    for (let u = 0; u < width; u++) {
      const x = inv.a * u - inv.b * v + inv.tx;
      const y = inv.b * u + inv.a * v + inv.ty;
      const x0 = Math.floor(x), y0 = Math.floor(y);
      const fx = x - x0, fy = y - y0;
      const o = (v * width + u) * 3;
      for (let k = 0; k < 3; k++) {
        let acc = 0;
        // four neighbours, each contributing 0 when outside (constant border 0)
        if (y0 >= 0 && y0 < H) {
          if (x0 >= 0 && x0 < W) acc += data[(y0 * W + x0) * 3 + k]! * (1 - fx) * (1 - fy);
          if (x0 + 1 >= 0 && x0 + 1 < W) acc += data[(y0 * W + x0 + 1) * 3 + k]! * fx * (1 - fy);
        }
        if (y0 + 1 >= 0 && y0 + 1 < H) {
          if (x0 >= 0 && x0 < W) acc += data[((y0 + 1) * W + x0) * 3 + k]! * (1 - fx) * fy;
          if (x0 + 1 >= 0 && x0 + 1 < W) acc += data[((y0 + 1) * W + x0 + 1) * 3 + k]! * fx * fy;
        }
        out[o + k] = Math.round(acc);
      }
    }
  }
  return { width, height, data: out };
}

/**
 * The canonical aligned crop every engine starts from and enrolment stores: 160x160 with the
 * ArcFace 112x112 template placed at offset (24, 24). The central 112x112 is exactly the ArcFace
 * crop (MobileFaceNet); the margin gives the context that dlib-style models (face-api, padding
 * ≈ 0.25) expect, so stored crops can feed either engine when templates are re-computed.
 */
export const CANONICAL_SIZE = 160;
export const CANONICAL_PAD = 24;

export function alignFace(img: RgbImage, landmarks: readonly Point[]): RgbImage {
  const dst = ARCFACE_112.map(([x, y]) => [x + CANONICAL_PAD, y + CANONICAL_PAD] as Point);
  return warpSimilarity(img, estimateSimilarity(landmarks, dst), CANONICAL_SIZE);
}
