/**
 * The one clock shape: a function returning the wall clock in ms since the epoch. Code that reads
 * the time takes a Clock (tests pass a fixed or stepping one); only the process edge passes
 * `systemClock`. Instants that travel (journal rows, MQTT payloads) are ISO strings made with iso().
 */
export type Clock = () => number;

export const systemClock: Clock = () => Date.now();

/** The clock's instant as an ISO-8601 UTC string with milliseconds (`2026-11-24T00:30:00.000Z`). */
export function iso(clock: Clock): string {
  return new Date(clock()).toISOString();
}
