import { KIOSK_API, hubTimeReplySchema } from '../../protocol/index.js';
import type { HubClient } from '../hub-client.js';
import type { Clock } from '../../lib/clock.js';

/**
 * Time from the hub over the HTTPS/HTTP connection the kiosk already has, for networks that block
 * NTP (UDP 123) — common on government LANs. Each sample is one NTP-style exchange on
 * `GET /api/v1/kiosk/time`:
 *   t1 kiosk sends (wall), t2 hub receives, t3 hub answers (hub wall), t4 kiosk receives (wall)
 *   offset = ((t1 − t2) + (t4 − t3)) / 2        (kiosk minus hub: positive = kiosk AHEAD)
 *   delay  = (t4 − t1) − (t3 − t2)
 * Whatever the path asymmetry, the true offset lies within offset ± delay/2 (Cristian's bound),
 * so delay/2 is the error bound stamped on each punch. Of a burst of samples the one with the
 * smallest delay is kept (the least disturbed by queueing, as NTP does). Between bursts the bound
 * grows with the oscillator's worst-case drift.
 */

export interface HubTimeSample {
  offsetMs: number;
  /** Half the round trip minus the hub's processing: |true offset − offsetMs| ≤ errorMs. */
  errorMs: number;
  /** Kiosk monotonic ms when the sample was taken (ages the bound). */
  atMonoMs: number;
}

export interface HubTimeDeps {
  /** One exchange: returns the hub's receive and transmit times (ms since epoch). */
  exchange: () => Promise<{ t2: number; t3: number }>;
  /** The kiosk's wall clock (the seam a test offsets by hours). */
  now: Clock;
  mono: () => number;
}

/** A Pi's crystal without NTP discipline: 100 ppm is a generous worst case (typ. < 30 ppm). */
export const DRIFT_PPM = 100;

/** Pure: one exchange's offset and bound. */
export function ntpSample(t1: number, t2: number, t3: number, t4: number): { offsetMs: number; errorMs: number } {
  const delay = Math.max(0, t4 - t1 - (t3 - t2));
  return { offsetMs: (t1 - t2 + (t4 - t3)) / 2, errorMs: delay / 2 };
}

export class HubTimeEstimator {
  private best: HubTimeSample | null = null;

  constructor(private readonly deps: HubTimeDeps) {}

  /** A burst of `count` exchanges; keeps the smallest-delay one. Throws only if every exchange failed. */
  async sample(count = 4): Promise<HubTimeSample> {
    let pick: HubTimeSample | null = null;
    let lastErr: unknown = null;
    for (let i = 0; i < count; i++) {
      try {
        const t1 = this.deps.now();
        const { t2, t3 } = await this.deps.exchange();
        const t4 = this.deps.now();
        const s = { ...ntpSample(t1, t2, t3, t4), atMonoMs: this.deps.mono() };
        if (!pick || s.errorMs < pick.errorMs) pick = s;
      } catch (e) {
        lastErr = e;
      }
    }
    if (!pick) throw lastErr instanceof Error ? lastErr : new Error(String(lastErr));
    this.best = pick;
    return pick;
  }

  /** The latest estimate with its bound aged by drift since it was taken; null before the first sample. */
  current(): HubTimeSample | null {
    const b = this.best;
    if (!b) return null;
    const age = Math.max(0, this.deps.mono() - b.atMonoMs);
    return { offsetMs: b.offsetMs, errorMs: b.errorMs + (age * DRIFT_PPM) / 1e6, atMonoMs: b.atMonoMs };
  }
}

/** The real exchange: GET {hubUrl}/api/v1/kiosk/time with the device's credentials. */
export function httpExchange(hub: HubClient, timeoutMs = 3000): () => Promise<{ t2: number; t3: number }> {
  return async () => {
    const b = await hub.get(KIOSK_API.time, hubTimeReplySchema, { timeoutMs });
    return { t2: b.receivedMs, t3: b.sentMs };
  };
}
