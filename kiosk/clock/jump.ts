/**
 * Clock-jump detection. CLOCK_MONOTONIC is slewed together with the wall clock but never stepped,
 * so `wall − monotonic` stays constant unless someone (date -s, a bad NTP server, a tampering
 * technician) steps the wall clock. Sampled every second, a change beyond the threshold is a jump.
 * A step while the clock is still unsynced is chrony's expected first step after boot (makestep);
 * a step of a synchronised clock is unexplained and reported.
 */
export interface ClockJump {
  /** Wall-clock step, ms (positive = clock moved forward). */
  deltaMs: number;
  /** Wall time (after the jump) and monotonic time of detection. */
  atWallMs: number;
  atMonoMs: number;
  /** sync_step: the clock was not synced yet (expected first step); unexplained: a synced clock stepped. */
  kind: 'sync_step' | 'unexplained';
}

export class JumpDetector {
  private last: { base: number; synced: boolean } | null = null;

  constructor(private readonly thresholdMs: number) {}

  observe(wallMs: number, monoMs: number, synced: boolean): ClockJump | null {
    const base = wallMs - monoMs;
    const prev = this.last;
    this.last = { base, synced };
    if (!prev) return null;
    const deltaMs = base - prev.base;
    if (Math.abs(deltaMs) <= this.thresholdMs) return null;
    return { deltaMs, atWallMs: wallMs, atMonoMs: monoMs, kind: prev.synced ? 'unexplained' : 'sync_step' };
  }
}
