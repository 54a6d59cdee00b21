import { UserError } from '../../lib/errors.js';

/**
 * Rollout planning as pure functions (no I/O, no clock reads): stage specs, which kiosk belongs to
 * which stage, install windows in a site's local time, and when a rollout advances, halts or ends.
 */

export type Stage =
  | { kind: 'count'; n: number }
  | { kind: 'percent'; pct: number }
  | { kind: 'sites'; sites: string[] }
  | { kind: 'opd'; opd: string }
  | { kind: 'devices'; devices: string[] }
  | { kind: 'all' };

export const DEFAULT_STAGES = '1,10%,all';
export const DEFAULT_WINDOW = '18:00-05:00';
/** Check-in and check-out hours of every built-in pattern (07:30 start; 14:00 teachers … 16:30 Friday). */
export const DEFAULT_BLACKOUTS = '05:00-09:00,13:30-18:00';

/** "1,10%,site:A+B,opd:DINKES,device:k1+k2,all" → stages. Every kiosk not matched earlier falls in the last `all`. */
export function parseStages(spec: string): Stage[] {
  const stages = spec.split(',').map((raw) => raw.trim()).filter(Boolean).map((s): Stage => {
    if (/^\d+$/.test(s) && Number(s) > 0) return { kind: 'count', n: Number(s) };
    const pct = /^(\d+(?:\.\d+)?)%$/.exec(s);
    if (pct && Number(pct[1]) > 0 && Number(pct[1]) <= 100) return { kind: 'percent', pct: Number(pct[1]) };
    const kv = /^(site|sites|opd|device|devices):(.+)$/.exec(s);
    if (kv) {
      const list = kv[2]!.split('+').map((x) => x.trim()).filter(Boolean);
      if (kv[1]!.startsWith('site')) return { kind: 'sites', sites: list };
      if (kv[1] === 'opd' && list.length === 1) return { kind: 'opd', opd: list[0]! };
      if (kv[1]!.startsWith('device')) return { kind: 'devices', devices: list };
    }
    if (s === 'all') return { kind: 'all' };
    throw new UserError(`stage ${JSON.stringify(s)} is not understood`, 'use N (kiosks), N% , site:A+B, opd:CODE, device:ID+ID or all, e.g. --stages 1,10%,opd:DINKES,all');
  });
  if (stages.length === 0) throw new UserError('--stages is empty', `e.g. --stages ${DEFAULT_STAGES}`);
  if (stages.slice(0, -1).some((s) => s.kind === 'all')) throw new UserError('"all" must be the last stage', `e.g. --stages ${DEFAULT_STAGES}`);
  if (stages[stages.length - 1]!.kind !== 'all') stages.push({ kind: 'all' });
  return stages;
}

export function describeStage(s: Stage): string {
  switch (s.kind) {
    case 'count': return s.n === 1 ? 'pilot (1 kiosk)' : `${s.n} kiosks`;
    case 'percent': return `${s.pct}%`;
    case 'sites': return `site ${s.sites.join('+')}`;
    case 'opd': return `OPD ${s.opd}`;
    case 'devices': return `device ${s.devices.join('+')}`;
    case 'all': return 'all';
  }
}

export interface FleetDevice {
  id: string;
  siteCode: string;
  opdCode: string | null;
}

/**
 * Puts each kiosk in the first stage that takes it. Count and percent stages take kiosks in a
 * spread order (round robin over sites, so a pilot and the 10 % are not all in one office);
 * percent is of the whole fleet in the rollout, rounded up.
 */
export function assignStages(devices: FleetDevice[], stages: Stage[]): Map<string, number> {
  const out = new Map<string, number>();
  const bySite = new Map<string, FleetDevice[]>();
  for (const d of [...devices].sort((a, b) => (a.id < b.id ? -1 : 1))) bySite.set(d.siteCode, [...(bySite.get(d.siteCode) ?? []), d]);
  const spread: FleetDevice[] = [];
  const lists = [...bySite.values()];
  for (let i = 0; spread.length < devices.length; i++) for (const l of lists) if (l[i]) spread.push(l[i]!);
  stages.forEach((s, idx) => {
    const free = spread.filter((d) => !out.has(d.id));
    let take: FleetDevice[] = [];
    if (s.kind === 'count') take = free.slice(0, s.n);
    else if (s.kind === 'percent') take = free.slice(0, Math.ceil((devices.length * s.pct) / 100));
    else if (s.kind === 'sites') take = free.filter((d) => s.sites.includes(d.siteCode));
    else if (s.kind === 'opd') take = free.filter((d) => d.opdCode === s.opd);
    else if (s.kind === 'devices') take = free.filter((d) => s.devices.includes(d.id));
    else take = free;
    for (const d of take) out.set(d.id, idx);
  });
  return out;
}

// ------------------------------------------------------------------ windows

export type Span = [from: number, to: number]; // minutes of the day; to < from wraps past midnight

function hhmm(s: string, what: string): number {
  const m = /^(\d{1,2}):(\d{2})$/.exec(s.trim());
  if (!m || Number(m[1]) > 24 || Number(m[2]) > 59 || (Number(m[1]) === 24 && Number(m[2]) !== 0)) {
    throw new UserError(`${what} ${JSON.stringify(s)} is not a time of day`, 'use HH:MM, e.g. 18:00');
  }
  return Number(m[1]) * 60 + Number(m[2]);
}

export function parseSpan(s: string, what = '--window'): Span {
  if (s === 'always') return [0, 1440];
  const parts = s.split('-');
  if (parts.length !== 2) throw new UserError(`${what} ${JSON.stringify(s)} is not a time range`, 'use HH:MM-HH:MM, e.g. 18:00-05:00 (local time of each site), or "always"');
  return [hhmm(parts[0]!, what), hhmm(parts[1]!, what)];
}

export function parseSpans(s: string, what = '--blackout'): Span[] {
  if (s.trim() === '' || s === 'none') return [];
  return s.split(',').map((p) => parseSpan(p, what));
}

function inSpan(min: number, [from, to]: Span): boolean {
  if (from === to) return false;
  return from < to ? min >= from && min < to : min >= from || min < to;
}

/** May a kiosk install now? `utcMs` is the hub's clock; the site's offset turns it into local minutes. */
export function installAllowed(utcMs: number, utcOffsetMin: number, window: Span, blackouts: Span[]): boolean {
  const local = (((Math.floor(utcMs / 60_000) + utcOffsetMin) % 1440) + 1440) % 1440;
  return inSpan(local, window) && !blackouts.some((b) => inSpan(local, b));
}

// ------------------------------------------------------------------ progress

export type TargetState = 'pending' | 'downloading' | 'downloaded' | 'installing' | 'confirmed' | 'failed';
export type RolloutState = 'running' | 'paused' | 'halted' | 'aborted' | 'completed';

/**
 * After a report: the stage to offer, and whether the rollout halts (more failures than allowed,
 * or its pilot failed) or is complete. A stage is done when each of its kiosks confirmed or failed.
 */
export function progress(
  r: { state: RolloutState; stage: number; stages: Stage[]; maxFailures: number },
  targets: { stage: number; state: TargetState }[],
): { state: RolloutState; stage: number; reason: string | null } {
  if (r.state !== 'running') return { state: r.state, stage: r.stage, reason: null };
  const failed = targets.filter((t) => t.state === 'failed').length;
  if (failed > r.maxFailures) return { state: 'halted', stage: r.stage, reason: `${failed} kiosk gagal / failed (batas / limit ${r.maxFailures})` };
  const pilot = r.stages[0]?.kind === 'count' || r.stages[0]?.kind === 'devices';
  if (pilot && targets.some((t) => t.stage === 0 && t.state === 'failed')) return { state: 'halted', stage: r.stage, reason: 'pilot gagal / the pilot stage failed' };
  let stage = r.stage;
  while (stage < r.stages.length && targets.filter((t) => t.stage === stage).every((t) => t.state === 'confirmed' || t.state === 'failed')) stage++;
  if (stage >= r.stages.length) return { state: 'completed', stage: r.stages.length - 1, reason: null };
  return { state: 'running', stage, reason: null };
}
