import type { DetectedFace } from './engine.js';
import type { RgbImage } from './image.js';

/** Choosing the face to serve and the quality gates, with the reason shown/spoken to the person. Pure. */

export interface QualityConfig {
  /** Smallest face box width (frame pixels) to serve. */
  minFacePx: number;
  /** Mean luma (0..255) inside the face box below which the scene is too dark. */
  minBrightness: number;
  /** Contrast-normalised Laplacian variance (sharpness()) on the aligned crop below which the face is blurred. */
  minSharpness: number;
  /** |yaw ratio| (nose offset from the eye midpoint along the eye axis, in eye distances) above which the face is turned away. */
  maxYaw: number;
  /** Another face at least this fraction of the served face's area counts as a second person close by. */
  multiFaceRatio: number;
}

export type QualityCode = 'too_small' | 'too_dark' | 'blurred' | 'turned' | 'multiple';

/** Bahasa Indonesia first (screen and speech), English for logs and admins. */
export const QUALITY_MESSAGES: Record<QualityCode, { id: string; en: string }> = {
  too_small: { id: 'Wajah terlalu kecil — silakan mendekat ke kamera', en: 'Face too small — move closer to the camera' },
  too_dark: { id: 'Terlalu gelap — cari tempat yang lebih terang', en: 'Too dark — more light is needed' },
  blurred: { id: 'Gambar buram — mohon diam sejenak', en: 'Image blurred — please hold still' },
  turned: { id: 'Wajah menoleh — hadapkan wajah ke kamera', en: 'Face turned away — look straight at the camera' },
  multiple: { id: 'Lebih dari satu orang — mohon satu per satu', en: 'More than one person — one at a time, please' },
};

export interface QualityMetrics {
  widthPx: number;
  brightness: number;
  yaw: number;
  sharpness?: number;
  otherFaceRatio: number;
}

/**
 * The face to serve: the largest, weighted towards the frame centre (area × (1 − offset), offset
 * = distance from the centre in half-diagonals), so a bystander at the edge does not win even when
 * closer to the camera: the person using the kiosk stands in front of it. (A weight of 0.4 served
 * the bystander on faces-dev2 lfw-julianne_moore/1.)
 */
export function chooseFace(faces: readonly DetectedFace[], imgW: number, imgH: number): DetectedFace | null {
  let best: DetectedFace | null = null;
  let bestScore = -1;
  for (const f of faces) {
    const s = serveWeight(f, imgW, imgH);
    if (s > bestScore) {
      bestScore = s;
      best = f;
    }
  }
  return best;
}

/** How strongly a face claims to be the one served: area × (1 − distance from the centre in half-diagonals). */
export function serveWeight(f: DetectedFace, imgW: number, imgH: number): number {
  const halfDiag = Math.hypot(imgW, imgH) / 2;
  const cx = f.box[0] + f.box[2] / 2, cy = f.box[1] + f.box[3] / 2;
  const off = Math.min(1, Math.hypot(cx - imgW / 2, cy - imgH / 2) / halfDiag);
  return f.box[2] * f.box[3] * (1 - off);
}

/** Mean luma inside the face box (sampled on a grid of ≤ 32x32 points). */
export function faceBrightness(img: RgbImage, box: DetectedFace['box']): number {
  const x0 = Math.max(0, Math.floor(box[0])), y0 = Math.max(0, Math.floor(box[1]));
  const x1 = Math.min(img.width - 1, Math.floor(box[0] + box[2])), y1 = Math.min(img.height - 1, Math.floor(box[1] + box[3]));
  if (x1 <= x0 || y1 <= y0) return 0;
  const sx = Math.max(1, Math.floor((x1 - x0) / 32)), sy = Math.max(1, Math.floor((y1 - y0) / 32));
  let sum = 0, n = 0;
  for (let y = y0; y <= y1; y += sy) {
    for (let x = x0; x <= x1; x += sx) {
      const i = (y * img.width + x) * 3;
      sum += 0.299 * img.data[i]! + 0.587 * img.data[i + 1]! + 0.114 * img.data[i + 2]!;
      n++;
    }
  }
  return sum / n;
}

/** Yaw proxy from the 5 landmarks: nose offset from the eye midpoint, along the eye axis, in eye distances (0 = frontal). */
export function yawRatio(lm: DetectedFace['landmarks']): number {
  const [re, le, nose] = lm as [[number, number], [number, number], [number, number]];
  const ex = le[0] - re[0], ey = le[1] - re[1];
  const d = Math.hypot(ex, ey) || 1;
  const mx = (re[0] + le[0]) / 2, my = (re[1] + le[1]) / 2;
  return ((nose[0] - mx) * ex + (nose[1] - my) * ey) / (d * d);
}

/**
 * Sharpness: variance of the 4-neighbour Laplacian on the grey aligned crop divided by the grey
 * variance (× 1000), so that a dim or low-contrast frame is not read as a blurred one (a kiosk-like
 * frame at 45 % brightness had a quarter of the raw Laplacian variance; issue 17). The alignment
 * already normalises the scale.
 */
export function sharpness(aligned: RgbImage): number {
  const { width: w, height: h, data } = aligned;
  const g = new Float32Array(w * h);
  for (let i = 0; i < w * h; i++) g[i] = 0.299 * data[i * 3]! + 0.587 * data[i * 3 + 1]! + 0.114 * data[i * 3 + 2]!;
  // inner region only: the warp leaves black corners that would read as edges
  const m = Math.round(w * 0.15);
  let sum = 0, sum2 = 0, gs = 0, gs2 = 0, n = 0;
  for (let y = m; y < h - m; y++) {
    for (let x = m; x < w - m; x++) {
      const i = y * w + x;
      const l = g[i - 1]! + g[i + 1]! + g[i - w]! + g[i + w]! - 4 * g[i]!;
      sum += l;
      sum2 += l * l;
      gs += g[i]!;
      gs2 += g[i]! * g[i]!;
      n++;
    }
  }
  const lapVar = sum2 / n - (sum / n) ** 2;
  const greyVar = gs2 / n - (gs / n) ** 2;
  return (1000 * lapVar) / Math.max(greyVar, 1);
}

/** Gates that need only the detection (before alignment/embedding). */
export function preGate(img: RgbImage, face: DetectedFace, all: readonly DetectedFace[], cfg: QualityConfig): { code: QualityCode | null; metrics: QualityMetrics } {
  // by area, not by the centre weight that chose the face: two people of similar size side by side
  // are refused even when one stands nearer the centre (faces-dev deepface-df09/4 weighs 0.45)
  const area = face.box[2] * face.box[3];
  let otherFaceRatio = 0;
  for (const f of all) if (f !== face) otherFaceRatio = Math.max(otherFaceRatio, (f.box[2] * f.box[3]) / area);
  const metrics: QualityMetrics = { widthPx: face.box[2], brightness: faceBrightness(img, face.box), yaw: yawRatio(face.landmarks), otherFaceRatio };
  let code: QualityCode | null = null;
  if (otherFaceRatio >= cfg.multiFaceRatio) code = 'multiple';
  else if (metrics.widthPx < cfg.minFacePx) code = 'too_small';
  else if (metrics.brightness < cfg.minBrightness) code = 'too_dark';
  else if (Math.abs(metrics.yaw) > cfg.maxYaw) code = 'turned';
  return { code, metrics };
}

/** The sharpness gate, on the aligned crop. */
export function postGate(aligned: RgbImage, cfg: QualityConfig): { code: QualityCode | null; sharpness: number } {
  const s = sharpness(aligned);
  return { code: s < cfg.minSharpness ? 'blurred' : null, sharpness: s };
}

/** All gates on stored metrics, in the order the pipeline applies them (evaluation re-tunes gates without re-running models). */
export function qualityVerdict(m: QualityMetrics & { sharpness?: number }, cfg: QualityConfig): QualityCode | null {
  if (m.otherFaceRatio >= cfg.multiFaceRatio) return 'multiple';
  if (m.widthPx < cfg.minFacePx) return 'too_small';
  if (m.brightness < cfg.minBrightness) return 'too_dark';
  if (Math.abs(m.yaw) > cfg.maxYaw) return 'turned';
  if (m.sharpness !== undefined && m.sharpness < cfg.minSharpness) return 'blurred';
  return null;
}

/** Every gate these metrics fail (each gate's own cost, independent of the order). */
export function failedGates(m: QualityMetrics & { sharpness?: number }, cfg: QualityConfig): QualityCode[] {
  const out: QualityCode[] = [];
  if (m.otherFaceRatio >= cfg.multiFaceRatio) out.push('multiple');
  if (m.widthPx < cfg.minFacePx) out.push('too_small');
  if (m.brightness < cfg.minBrightness) out.push('too_dark');
  if (Math.abs(m.yaw) > cfg.maxYaw) out.push('turned');
  if (m.sharpness !== undefined && m.sharpness < cfg.minSharpness) out.push('blurred');
  return out;
}
