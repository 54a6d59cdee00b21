import type { ComponentState, Method } from '../protocol/index.js';

/**
 * The narrow interfaces the kiosk core is built from. Hardware (camera, fingerprint sensor,
 * GPIO, clock) sits behind them with a real driver and a simulator each; the core cannot tell
 * them apart.
 */

/** Someone was recognised by a biometric source. */
export interface Identification {
  nip: string;
  method: Method;
  /** Match score (cosine similarity for face, sensor score for finger). */
  score: number;
  /** Liveness probability 0..1 (face only). */
  liveness?: number;
  /** Small JPEG face crop kept as evidence. */
  photo?: Buffer;
}

/** A component whose state is shown in kiosk health (camera, fingerprint, gpio, clock, mqtt, …). */
export interface HealthReporter {
  readonly component: string;
  state(): ComponentState;
}

/**
 * A source of identifications (face pipeline, fingerprint sensor, simulator). It calls
 * `onIdentified` for each person it recognises; the core decides whether that becomes a punch.
 */
export interface IdentificationSource extends HealthReporter {
  start(onIdentified: (id: Identification) => void | Promise<void>): Promise<void>;
  stop(): Promise<void>;
}

/** What the person at the kiosk is told: LEDs/buzzer (GPIO) and the local screen. */
export type FeedbackEvent =
  /** `photo`: the captured face crop (JPEG) shown beside the name for the result's few seconds. */
  | { kind: 'recorded'; nip: string; name: string; at: string; method: Method; photo?: Buffer; /** the clock was not trusted: an admin will check the time */ unverified?: boolean }
  | { kind: 'already'; nip: string; name: string; at: string; firstAt: string }
  | { kind: 'unknown'; reason: string }
  /** Guidance, not a verdict: "Mendekat ke kamera", enrolment progress. Shown, never beeped as a failure. */
  | { kind: 'hint'; message: string }
  | { kind: 'fault'; component: string; detail: string };

export interface Feedback {
  notify(event: FeedbackEvent): void | Promise<void>;
}

/** Clock provenance for a punch (DESIGN "Punch.clock"). */
export interface ClockStamp {
  capturedAt: string; // UTC ISO-8601 from the wall clock
  synced: boolean;
  source: string;
  offsetMs?: number;
  /** Bound of |capturedAt − true time| (ms) when the source measures one (hub round trips). */
  errorMs?: number;
  bootId: string;
  monoMs: number;
}

export interface ClockService extends HealthReporter {
  stamp(): ClockStamp;
}
