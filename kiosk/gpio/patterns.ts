import type { FeedbackEvent } from '../types.js';

/**
 * What the LEDs and buzzer do for each outcome. Pure data: the player turns steps into pin writes.
 * Distinct by ear as well as by eye (staff often look away): one short beep = recorded, two short
 * = already recorded, one long = not recognised, three fast = fault.
 */
export interface Step {
  green: 0 | 1;
  red: 0 | 1;
  buzzer: 0 | 1;
  ms: number;
}
export type PatternName = 'ok' | 'already' | 'unknown' | 'fault';

const s = (green: 0 | 1, red: 0 | 1, buzzer: 0 | 1, ms: number): Step => ({ green, red, buzzer, ms });

export const PATTERNS: Record<PatternName, Step[]> = {
  ok: [s(1, 0, 1, 120), s(1, 0, 0, 1380)],
  already: [s(1, 0, 1, 80), s(1, 0, 0, 80), s(1, 0, 1, 80), s(1, 0, 0, 1260)],
  unknown: [s(0, 1, 1, 600), s(0, 1, 0, 900)],
  fault: [s(0, 1, 1, 100), s(0, 0, 0, 100), s(0, 1, 1, 100), s(0, 0, 0, 100), s(0, 1, 1, 100), s(0, 1, 0, 1000)],
};

/** The pattern an event plays; null for a hint (guidance is shown on screen, not beeped). */
export function patternFor(ev: FeedbackEvent): PatternName | null {
  switch (ev.kind) {
    case 'recorded':
      return 'ok';
    case 'already':
      return 'already';
    case 'unknown':
      return 'unknown';
    case 'fault':
      return 'fault';
    case 'hint':
      return null;
  }
}

/** The door opens for someone recognised (recorded now or earlier today), never otherwise. */
export function opensDoor(ev: FeedbackEvent): boolean {
  return ev.kind === 'recorded' || ev.kind === 'already';
}
