/**
 * Instants as people in the office read them: "03/12/2026 15:55 WIB" in the regency's zone
 * (Indonesia has no daylight saving: a fixed offset is exact). JSON output keeps UTC ISO.
 */
const ZONES: Record<number, string> = { 420: 'WIB', 480: 'WITA', 540: 'WIT' };

export function zoneName(offsetMin: number): string {
  return ZONES[offsetMin] ?? `UTC${offsetMin >= 0 ? '+' : '-'}${Math.abs(offsetMin) / 60}`;
}

export function localStamp(iso: string | null | undefined, offsetMin = 420): string {
  if (!iso) return '-';
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return iso;
  const w = new Date(t + offsetMin * 60_000).toISOString();
  return `${w.slice(8, 10)}/${w.slice(5, 7)}/${w.slice(0, 4)} ${w.slice(11, 16)} ${zoneName(offsetMin)}`;
}
