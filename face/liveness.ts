import type { DetectedFace } from './engine.js';
import { cropResize, type RgbImage } from './image.js';

/** MiniFASNet crops and score fusion exactly as MODELS.md §3 (minivision's CropImage). Pure. */

/** Inclusive integer crop [x0, y0, x1, y1] around the box, scaled and shifted back inside the image. */
export function livenessCrop(box: DetectedFace['box'], imgW: number, imgH: number, scale: number): [number, number, number, number] {
  const [x, y, bw, bh] = box;
  const s = Math.min((imgH - 1) / bh, (imgW - 1) / bw, scale);
  const nw = bw * s, nh = bh * s;
  const cx = bw / 2 + x, cy = bh / 2 + y;
  let lx = cx - nw / 2, ly = cy - nh / 2, rx = cx + nw / 2, ry = cy + nh / 2;
  if (lx < 0) { rx -= lx; lx = 0; }
  if (ly < 0) { ry -= ly; ly = 0; }
  if (rx > imgW - 1) { lx -= rx - imgW + 1; rx = imgW - 1; }
  if (ry > imgH - 1) { ly -= ry - imgH + 1; ry = imgH - 1; }
  return [Math.trunc(lx), Math.trunc(ly), Math.trunc(rx), Math.trunc(ry)];
}

/** 80x80 BGR raw-float NCHW tensor data for one model. */
export function livenessInput(img: RgbImage, box: DetectedFace['box'], scale: number, size = 80): Float32Array {
  const [x0, y0, x1, y1] = livenessCrop(box, img.width, img.height, scale);
  const c = cropResize(img, x0, y0, x1, y1, size, size);
  const plane = size * size;
  const out = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++) {
    out[i] = c.data[i * 3 + 2]!;
    out[plane + i] = c.data[i * 3 + 1]!;
    out[2 * plane + i] = c.data[i * 3]!;
  }
  return out;
}

export function softmax(logits: ArrayLike<number>): number[] {
  const m = Math.max(...Array.from(logits));
  const e = Array.from(logits, (v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

/** Sum of the per-model softmaxes; live score = summed[1] / models. Class 1 = live. */
export function fuseLiveness(logitsPerModel: ArrayLike<number>[]): { live: number; cls: number } {
  const sum = [0, 0, 0];
  for (const l of logitsPerModel) softmax(l).forEach((p, i) => (sum[i]! += p));
  const cls = sum.indexOf(Math.max(...sum));
  return { live: sum[1]! / logitsPerModel.length, cls };
}
