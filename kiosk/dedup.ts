/**
 * Same person again within the window → "already recorded at 07:28", no new punch. Pure: the
 * caller reads the person's latest punch time from the journal (so the window survives restarts)
 * and passes the current capture time.
 */
export function withinDedupWindow(lastCapturedAt: string | null, nowIso: string, windowMin: number): boolean {
  if (lastCapturedAt === null || windowMin <= 0) return false;
  const diffMs = Date.parse(nowIso) - Date.parse(lastCapturedAt);
  // A clock that stepped backwards (negative diff) still counts as "just now": never a second punch
  // because the wall clock was corrected.
  return diffMs < windowMin * 60_000;
}

/** "07:28" in the kiosk's time zone (what staff read on the screen). */
export function localTime(iso: string, timeZone: string): string {
  return new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hour12: false }).format(new Date(iso));
}
