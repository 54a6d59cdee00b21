import { uuidV7Ms } from '../../protocol/index.js';

/**
 * Is a punch's capture time believable? A kiosk's clock can be wrong while it claims to be synced
 * (a bad NTP source, a forged or replayed punch from a stolen kiosk key), and such a punch would
 * otherwise go straight into attendance and TPP — at a year like 2099 or 1970 it even creates
 * attendance months there. The hub compares capturedAt with two other clocks it has:
 *  - its own receive time: a punch cannot come from the future, and one older than MAX_AGE is
 *    older than any kiosk keeps an undelivered punch (and than any TPP month still open);
 *  - the punch's UUIDv7 time, which the kiosk takes from the same clock reading: far apart means
 *    capturedAt was changed after the id was made.
 * An implausible punch is stored (nothing is lost) but waits for an admin's review, with this reason.
 */
export const PLAUSIBILITY = {
  /** Ahead of the hub's clock by more than this: implausible (kiosk and hub clocks both NTP-synced). */
  futureMs: 10 * 60_000,
  /** Older than this when received: implausible. */
  maxAgeMs: 180 * 86_400_000,
  /** capturedAt and the UUIDv7 time further apart than this: implausible. */
  idSkewMs: 60 * 60_000,
};

const fmt = (ms: number) => {
  const m = Math.round(Math.abs(ms) / 60_000);
  return m < 120 ? `${m} min` : m < 2 * 1440 ? `${Math.round(m / 60)} h` : `${Math.round(m / 1440)} days`;
};

/** The reason a capture time is implausible (one line, Indonesian / English), or null. */
export function implausibleTime(p: { id: string; capturedAt: string }, receivedMs: number, lim = PLAUSIBILITY): string | null {
  const at = Date.parse(p.capturedAt);
  if (!Number.isFinite(at)) return `waktu tidak terbaca / unreadable capture time ${p.capturedAt}`;
  if (at - receivedMs > lim.futureMs) return `waktu di masa depan / captured ${fmt(at - receivedMs)} after the hub received it (${p.capturedAt})`;
  if (receivedMs - at > lim.maxAgeMs) return `waktu terlalu lama / captured ${fmt(receivedMs - at)} before the hub received it (${p.capturedAt})`;
  const idMs = uuidV7Ms(p.id);
  if (Math.abs(idMs - at) > lim.idSkewMs) return `waktu tidak cocok dengan id / capturedAt is ${fmt(at - idMs)} ${at > idMs ? 'after' : 'before'} the time in its UUIDv7 id (${new Date(idMs).toISOString()})`;
  return null;
}
