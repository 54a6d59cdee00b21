import type { Match } from './matcher.js';

export interface DecisionConfig {
  /** Cosine similarity a 1:N match must reach (for the gallery size at hand). */
  threshold: number;
  /** Cosine similarity a 1:1 verification (NIP typed) must reach. */
  verifyThreshold: number;
  /** Why 1:N identification is off (NIP 1:1 only): the engine's FMR misses the target, or the gallery is too large. */
  oneToNOff: 'engine' | 'gallery' | null;
  /** Required lead of the best person over the runner-up (a different person). */
  margin: number;
  /** Consecutive frames that must agree on the same person. */
  confirmFrames: number;
}

export type FrameVerdict = { accepted: true; nip: string; score: number } | { accepted: false; reason: 'no_match' | 'below_threshold' | 'ambiguous' };

/** One frame's 1:1 decision against the claimed person's score. Pure. */
export function judgeClaim(nip: string, score: number | null, cfg: DecisionConfig): FrameVerdict {
  if (score === null) return { accepted: false, reason: 'no_match' };
  if (score < cfg.verifyThreshold) return { accepted: false, reason: 'below_threshold' };
  return { accepted: true, nip, score };
}

/** One frame's 1:N decision: threshold, then margin over the runner-up. Pure. */
export function judgeMatch(m: Match | null, cfg: DecisionConfig): FrameVerdict {
  if (!m) return { accepted: false, reason: 'no_match' };
  if (m.score < cfg.threshold) return { accepted: false, reason: 'below_threshold' };
  if (m.runnerUpNip !== null && m.score - m.runnerUp < cfg.margin) return { accepted: false, reason: 'ambiguous' };
  return { accepted: true, nip: m.nip, score: m.score };
}

/**
 * Confirmation over consecutive frames: the same person must be accepted in `confirmFrames`
 * frames in a row. Any other frame (no face, another person, rejected) restarts the count.
 * The reported score is the lowest of the confirming frames (the conservative one).
 */
export class MatchConfirmer {
  private nip: string | null = null;
  private run = 0;
  private minScore = Infinity;

  constructor(private readonly cfg: DecisionConfig) {}

  step(v: FrameVerdict): { confirmed: true; nip: string; score: number; frames: number } | { confirmed: false; pending: number } {
    if (!v.accepted) {
      this.reset();
      return { confirmed: false, pending: 0 };
    }
    if (v.nip !== this.nip) {
      this.nip = v.nip;
      this.run = 0;
      this.minScore = Infinity;
    }
    this.run++;
    this.minScore = Math.min(this.minScore, v.score);
    if (this.run >= this.cfg.confirmFrames) {
      const r = { confirmed: true as const, nip: v.nip, score: this.minScore, frames: this.run };
      this.reset();
      return r;
    }
    return { confirmed: false, pending: this.run };
  }

  reset(): void {
    this.nip = null;
    this.run = 0;
    this.minScore = Infinity;
  }
}
