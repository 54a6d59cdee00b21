import { describe, expect, it } from 'vitest';
import { ARCFACE_112, CANONICAL_PAD, CANONICAL_SIZE, alignFace, applySimilarity, estimateSimilarity, invertSimilarity, warpSimilarity, type Point } from '../../face/align.js';
import type { RgbImage } from '../../face/image.js';

const rad = (d: number) => (d * Math.PI) / 180;
function similarity(scale: number, deg: number, tx: number, ty: number) {
  return { a: scale * Math.cos(rad(deg)), b: scale * Math.sin(rad(deg)), tx, ty };
}

describe('5-point similarity alignment (Umeyama, 2-D)', () => {
  it('recovers a known rotation, scale and translation exactly', () => {
    const src: Point[] = [[120, 210], [190, 205], [150, 250], [128, 290], [185, 288]];
    for (const [s, deg, tx, ty] of [[1.7, 30, 12, -40], [0.35, -75, 300, 5], [1, 0, 0, 0], [2.2, 179, -80, 60]] as const) {
      const t = similarity(s, deg, tx, ty);
      const dst = src.map((p) => applySimilarity(t, p));
      const e = estimateSimilarity(src, dst);
      expect(e.a).toBeCloseTo(t.a, 9);
      expect(e.b).toBeCloseTo(t.b, 9);
      expect(e.tx).toBeCloseTo(t.tx, 6);
      expect(e.ty).toBeCloseTo(t.ty, 6);
    }
  });

  it('is the least-squares fit under noise and never reflects', () => {
    const t = similarity(0.5, 12, 10, 20);
    const src: Point[] = [[0, 0], [100, 0], [50, 50], [10, 100], [90, 100]];
    const noise = [[0.8, -0.5], [-0.3, 0.6], [0.2, 0.1], [-0.7, -0.4], [0.5, 0.3]];
    const dst = src.map((p, i) => {
      const q = applySimilarity(t, p);
      return [q[0] + noise[i]![0]!, q[1] + noise[i]![1]!] as Point;
    });
    const e = estimateSimilarity(src, dst);
    expect(Math.hypot(e.a, e.b)).toBeCloseTo(0.5, 2);
    expect(Math.abs((Math.atan2(e.b, e.a) * 180) / Math.PI - 12)).toBeLessThan(1.5);
    // a mirror image cannot be fitted: a similarity has no reflection, so the residual stays large
    const mirrored = src.map(([x, y]) => [-x, y] as Point);
    const m = estimateSimilarity(src, mirrored);
    const mres = src.reduce((acc, p, i) => acc + Math.hypot(applySimilarity(m, p)[0] - mirrored[i]![0], applySimilarity(m, p)[1] - mirrored[i]![1]), 0);
    expect(mres).toBeGreaterThan(100);
    // residual of the fit is not larger than of the true transform
    const res = (tt: typeof e) => src.reduce((s, p, i) => s + Math.hypot(applySimilarity(tt, p)[0] - dst[i]![0], applySimilarity(tt, p)[1] - dst[i]![1]) ** 2, 0);
    expect(res(e)).toBeLessThanOrEqual(res(t) + 1e-9);
  });

  it('inverts', () => {
    const t = similarity(1.3, 40, 5, -7);
    const p: Point = [33, 71];
    const q = applySimilarity(invertSimilarity(t), applySimilarity(t, p));
    expect(q[0]).toBeCloseTo(p[0], 9);
    expect(q[1]).toBeCloseTo(p[1], 9);
  });

  it('warps pixels where the transform sends them (bilinear, black outside)', () => {
    // a 40x30 image with one bright pixel at (10, 5)
    const img: RgbImage = { width: 40, height: 30, data: new Uint8Array(40 * 30 * 3) };
    img.data.set([255, 128, 0], (5 * 40 + 10) * 3);
    const t = similarity(2, 90, 50, 0); // (10,5) → (2·(−5) + 50, 2·10) = (40, 20)
    const out = warpSimilarity(img, t, 64);
    const at = (x: number, y: number) => Array.from(out.data.subarray((y * 64 + x) * 3, (y * 64 + x) * 3 + 3));
    expect(at(40, 20)).toEqual([255, 128, 0]);
    expect(at(0, 63)).toEqual([0, 0, 0]);
  });

  it('maps landmarks onto the ArcFace template inside the canonical 160x160 crop', () => {
    // a synthetic face: landmarks are the template rotated by 20°, scaled 2.5x, moved
    const t = similarity(2.5, 20, 200, 80);
    const lm = ARCFACE_112.map((p) => applySimilarity(t, p));
    const img: RgbImage = { width: 600, height: 600, data: new Uint8Array(600 * 600 * 3) };
    // 7x7 bright blobs (a single pixel would fall between samples at 0.4x)
    for (const [x, y] of lm) for (let dy = -3; dy <= 3; dy++) img.data.fill(200, ((Math.round(y) + dy) * 600 + Math.round(x) - 3) * 3, ((Math.round(y) + dy) * 600 + Math.round(x) + 4) * 3);
    const est = estimateSimilarity(lm, ARCFACE_112.map(([x, y]) => [x + CANONICAL_PAD, y + CANONICAL_PAD] as Point));
    expect(Math.hypot(est.a, est.b)).toBeCloseTo(0.4, 9);
    const crop = alignFace(img, lm);
    expect([crop.width, crop.height]).toEqual([CANONICAL_SIZE, CANONICAL_SIZE]);
    // each landmark pixel lands near its template position (brightness spread by bilinear sampling)
    for (const [x, y] of ARCFACE_112) {
      let best = 0;
      for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) best = Math.max(best, crop.data[((Math.round(y) + CANONICAL_PAD + dy) * CANONICAL_SIZE + Math.round(x) + CANONICAL_PAD + dx) * 3]!);
      expect(best).toBeGreaterThan(150);
    }
  });

  it('refuses degenerate input', () => {
    expect(() => estimateSimilarity([[1, 1]], [[2, 2]])).toThrow();
    expect(() => estimateSimilarity([[1, 1], [1, 1]], [[0, 0], [1, 1]])).toThrow(/coincide/);
  });
});
