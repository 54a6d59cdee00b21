import { dot } from './engine.js';
import type { QualityMetrics } from './quality.js';

/**
 * Which enrolment images to keep (hub, issue 17): the best by quality, skipping near-duplicates so
 * the set spreads over small changes of pose and light, at most `max`. Pure.
 */
export interface SelectableImage {
  vector: Float32Array;
  metrics: (QualityMetrics & { sharpness?: number }) | null;
}

/** 0..1: a large, sharp, frontal, alone-in-frame face scores high. */
export function qualityScore(m: SelectableImage['metrics']): number {
  if (!m) return 0;
  const size = Math.min(1, m.widthPx / 112);
  const sharp = Math.min(1, (m.sharpness ?? 0) / 300);
  const frontal = Math.max(0, 1 - Math.abs(m.yaw) / 0.5);
  const alone = m.otherFaceRatio >= 0.5 ? 0.5 : 1;
  return size * (0.5 + 0.5 * sharp) * frontal * alone;
}

/** Cosine above which two enrolment images add nothing to each other (the same frame twice). */
export const DUPLICATE_COS = 0.97;

export function selectEnrolment<T extends SelectableImage>(cands: readonly T[], max: number): T[] {
  const ranked = [...cands].sort((a, b) => qualityScore(b.metrics) - qualityScore(a.metrics));
  const out: T[] = [];
  const dup: T[] = [];
  for (const c of ranked) {
    if (out.length >= max) break;
    if (out.some((o) => dot(o.vector, c.vector) > DUPLICATE_COS)) dup.push(c);
    else out.push(c);
  }
  // duplicates only fill up a set that would otherwise be too small
  for (const c of dup) if (out.length < max) out.push(c);
  return out;
}
