/**
 * True time of a punch taken while the clock was not synchronised (a Pi has no RTC: after a boot
 * without network its clock starts wherever fake-hwclock left it). Within one boot the monotonic
 * clock runs continuously, so a later SYNCED reference (same boot id) fixes the earlier stamp:
 *   true(stamp) = ref.wall − ref.offset − (ref.mono − stamp.mono)
 * Pure: used by the kiosk (at the moment of sync) and by the hub (from later punches / health).
 */
export interface MonoStamp {
  bootId: string;
  monoMs: number;
}
export interface SyncedReference extends MonoStamp {
  /** Wall clock at the reference, UTC ISO-8601 or ms. */
  wallAt: string | number;
  /** Reference clock's offset from true time (ms, positive = ahead); 0 when unknown. */
  offsetMs?: number;
}
export interface Reconstruction {
  trueAt: string;
  /** How far the reference is from the stamp on the monotonic clock (ms): the error grows with it. */
  spanMs: number;
}

/** Null when the reference is from another boot (monotonic times are not comparable) or precedes the stamp. */
export function reconstructTrueTime(stamp: MonoStamp, ref: SyncedReference): Reconstruction | null {
  if (stamp.bootId !== ref.bootId) return null;
  const spanMs = ref.monoMs - stamp.monoMs;
  if (spanMs < 0) return null;
  const refWall = typeof ref.wallAt === 'number' ? ref.wallAt : Date.parse(ref.wallAt);
  if (!Number.isFinite(refWall)) return null;
  return { trueAt: new Date(Math.round(refWall - (ref.offsetMs ?? 0) - spanMs)).toISOString(), spanMs };
}

/** The best reference for a stamp: the earliest synced one of the same boot taken after it. */
export function pickReference<R extends SyncedReference>(stamp: MonoStamp, refs: readonly R[]): R | null {
  let best: R | null = null;
  for (const r of refs) {
    if (r.bootId !== stamp.bootId || r.monoMs < stamp.monoMs) continue;
    if (!best || r.monoMs < best.monoMs) best = r;
  }
  return best;
}
