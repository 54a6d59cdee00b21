import type { ClockState } from './state.js';

/**
 * Parsers for `chronyc -c tracking` and `chronyc -c sources` (chrony's CSV mode, stable across
 * 3.x/4.x). Field positions follow chrony's client.c; a line with the wrong field count or a
 * non-number where a number belongs is an error, never a silently wrong clock state.
 */

export class ChronyParseError extends Error {
  override readonly name = 'ChronyParseError';
}

export const LEAP_STATES = ['Normal', 'Insert second', 'Delete second', 'Not synchronised'] as const;
export type LeapStatus = (typeof LEAP_STATES)[number];

export interface ChronyTracking {
  refId: string;
  refName: string;
  stratum: number;
  /** Unix seconds of the last reference update (0 = never). */
  refTimeS: number;
  /** chrony's "System time" correction, seconds: POSITIVE = system clock is SLOW (behind NTP time). */
  systemTimeS: number;
  lastOffsetS: number;
  rmsOffsetS: number;
  freqPpm: number;
  residualFreqPpm: number;
  skewPpm: number;
  rootDelayS: number;
  rootDispersionS: number;
  updateIntervalS: number;
  leap: LeapStatus;
}

function num(field: string | undefined, name: string): number {
  const v = Number(field);
  if (field === undefined || field.trim() === '' || !Number.isFinite(v)) throw new ChronyParseError(`chrony ${name}: expected a number, got ${JSON.stringify(field)}`);
  return v;
}

function csvLines(text: string): string[][] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0)
    .map((l) => l.split(','));
}

export function parseChronyTracking(text: string): ChronyTracking {
  const lines = csvLines(text);
  if (lines.length !== 1) throw new ChronyParseError(`chronyc -c tracking: expected 1 line, got ${lines.length}`);
  const f = lines[0]!;
  if (f.length !== 14) throw new ChronyParseError(`chronyc -c tracking: expected 14 fields, got ${f.length}`);
  const leap = f[13] as LeapStatus;
  if (!LEAP_STATES.includes(leap)) throw new ChronyParseError(`chrony leap status: unknown ${JSON.stringify(f[13])}`);
  if (!/^[0-9A-F]{8}$/i.test(f[0]!)) throw new ChronyParseError(`chrony reference id: expected 8 hex digits, got ${JSON.stringify(f[0])}`);
  return {
    refId: f[0]!.toUpperCase(),
    refName: f[1]!,
    stratum: num(f[2], 'stratum'),
    refTimeS: num(f[3], 'ref time'),
    systemTimeS: num(f[4], 'system time'),
    lastOffsetS: num(f[5], 'last offset'),
    rmsOffsetS: num(f[6], 'rms offset'),
    freqPpm: num(f[7], 'frequency'),
    residualFreqPpm: num(f[8], 'residual freq'),
    skewPpm: num(f[9], 'skew'),
    rootDelayS: num(f[10], 'root delay'),
    rootDispersionS: num(f[11], 'root dispersion'),
    updateIntervalS: num(f[12], 'update interval'),
    leap,
  };
}

const MODES = { '^': 'server', '=': 'peer', '#': 'refclock' } as const;
const STATES = { '*': 'selected', '+': 'combined', '-': 'not_combined', '?': 'unreachable', x: 'falseticker', '~': 'variable' } as const;

export interface ChronySource {
  mode: (typeof MODES)[keyof typeof MODES];
  state: (typeof STATES)[keyof typeof STATES];
  name: string;
  stratum: number;
  pollLog2: number;
  /** Reach register (last 8 polls, bit set = answered). */
  reach: number;
  /** Seconds since the last sample; null = never. */
  lastRxS: number | null;
  offsetS: number;
  measuredOffsetS: number;
  errorS: number;
}

export function parseChronySources(text: string): ChronySource[] {
  return csvLines(text).map((f, i) => {
    if (f.length !== 10) throw new ChronyParseError(`chronyc -c sources line ${i + 1}: expected 10 fields, got ${f.length}`);
    const mode = MODES[f[0] as keyof typeof MODES];
    const state = STATES[f[1] as keyof typeof STATES];
    if (!mode) throw new ChronyParseError(`chronyc -c sources line ${i + 1}: unknown mode ${JSON.stringify(f[0])}`);
    if (!state) throw new ChronyParseError(`chronyc -c sources line ${i + 1}: unknown state ${JSON.stringify(f[1])}`);
    if (!/^[0-7]+$/.test(f[5]!)) throw new ChronyParseError(`chronyc -c sources line ${i + 1}: reach must be octal, got ${JSON.stringify(f[5])}`);
    const lastRx = num(f[6], 'last rx');
    return {
      mode,
      state,
      name: f[2]!,
      stratum: num(f[3], 'stratum'),
      pollLog2: num(f[4], 'poll'),
      reach: parseInt(f[5]!, 8),
      lastRxS: lastRx >= 0xffffffff ? null : lastRx,
      offsetS: num(f[7], 'offset'),
      measuredOffsetS: num(f[8], 'measured offset'),
      errorS: num(f[9], 'error'),
    };
  });
}

/**
 * Turns chrony's view into a ClockState. Synced means: chrony has a reference (leap status not
 * "Not synchronised", stratum > 0) AND its error bound is within `maxErrorMs` — a clock still
 * slewing away a 2.5 s offset is not trusted yet.
 */
export function chronyClockState(t: ChronyTracking, sources: ChronySource[], maxErrorMs: number): ClockState {
  const reachable = sources.filter((s) => s.reach !== 0).length;
  const base = { source: 'chrony' as const, sourcesReachable: reachable, sourcesTotal: sources.length };
  const srcText = `${reachable}/${sources.length} sumber terjangkau / sources reachable`;
  if (t.leap === 'Not synchronised' || t.stratum === 0 || t.refId === '00000000') {
    return { ...base, synced: false, detail: `chrony belum sinkron / not synchronised (${srcText})` };
  }
  const offsetMs = round3(-t.systemTimeS * 1000); // chrony: positive = slow; ours: positive = ahead
  const maxErr = round3((Math.abs(t.systemTimeS) + t.rootDelayS / 2 + t.rootDispersionS) * 1000);
  const server = t.refName || t.refId;
  const common = { ...base, offsetMs, stratum: t.stratum, maxErrorMs: maxErr, server };
  if (maxErr > maxErrorMs) {
    return { ...common, synced: false, detail: `chrony mengoreksi selisih ${fmtMs(offsetMs)} / correcting offset ${fmtMs(offsetMs)} (error bound ${fmtMs(maxErr)} > ${maxErrorMs} ms)` };
  }
  return { ...common, synced: true, detail: `chrony sinkron ke / synced to ${server} stratum ${t.stratum}, offset ${fmtMs(offsetMs)} (${srcText})` };
}

function round3(v: number): number {
  return Math.round(v * 1000) / 1000;
}
export function fmtMs(ms: number): string {
  return `${ms >= 0 ? '+' : ''}${Math.abs(ms) >= 100 ? ms.toFixed(0) : ms.toFixed(3)} ms`;
}
