import { describe, expect, it } from 'vitest';
import { assignStages, installAllowed, parseSpan, parseSpans, parseStages, progress, type FleetDevice } from '../../hub/fleet/rollout.js';

const devices = (n: number, sites = 5): FleetDevice[] =>
  Array.from({ length: n }, (_, i) => ({ id: `k-${String(i).padStart(3, '0')}`, siteCode: `S${i % sites}`, opdCode: i % 2 ? 'DINKES' : 'DISDIK' }));

describe('rollout planning', () => {
  it('parses stages and always ends with all', () => {
    expect(parseStages('1,10%,site:S1+S2,opd:DINKES,all')).toEqual([
      { kind: 'count', n: 1 }, { kind: 'percent', pct: 10 }, { kind: 'sites', sites: ['S1', 'S2'] }, { kind: 'opd', opd: 'DINKES' }, { kind: 'all' },
    ]);
    expect(parseStages('1,10%').at(-1)).toEqual({ kind: 'all' });
    expect(() => parseStages('all,1')).toThrow(/last stage/);
    expect(() => parseStages('1,ten')).toThrow(/not understood/);
  });

  it('assigns a pilot, 10 % spread over sites, an OPD and the rest', () => {
    const ds = devices(100);
    const plan = assignStages(ds, parseStages('1,10%,opd:DINKES,all'));
    const by = (s: number) => ds.filter((d) => plan.get(d.id) === s);
    expect(by(0)).toHaveLength(1);
    expect(by(1)).toHaveLength(10);
    expect(new Set(by(1).map((d) => d.siteCode)).size).toBe(5); // spread, not one office
    expect(by(2).every((d) => d.opdCode === 'DINKES')).toBe(true);
    expect(by(3).every((d) => d.opdCode === 'DISDIK')).toBe(true);
    expect(plan.size).toBe(100);
  });

  it('install window in site local time, never in check-in/check-out hours', () => {
    const w = parseSpan('18:00-05:00');
    const b = parseSpans('05:00-09:00,13:30-18:00');
    const utc = (hhmm: string) => Date.parse(`2026-12-03T${hhmm}:00Z`);
    // WIB (+7): 12:00 UTC = 19:00 local → allowed; 23:30 UTC = 06:30 local → check-in → no
    expect(installAllowed(utc('12:00'), 420, w, b)).toBe(true);
    expect(installAllowed(utc('23:30'), 420, w, b)).toBe(false);
    // 21:00 UTC = 04:00 WIB (in window) but 05:00 WIT (+9) → check-in starts
    expect(installAllowed(utc('21:00'), 420, w, b)).toBe(true);
    expect(installAllowed(utc('20:00'), 540, w, b)).toBe(false);
    // the afternoon blackout wins over a window that overlaps it
    expect(installAllowed(utc('10:00'), 420, parseSpan('16:00-05:00'), b)).toBe(false);
    expect(() => parseSpan('25:00-05:00')).toThrow(/time of day/);
  });

  it('halts past the failure limit or when the pilot fails; advances stage by stage', () => {
    const stages = parseStages('1,10%,all');
    const base = { state: 'running' as const, stage: 0, stages, maxFailures: 1 };
    expect(progress(base, [{ stage: 0, state: 'failed' }])).toMatchObject({ state: 'halted', reason: expect.stringMatching(/pilot/) });
    expect(progress(base, [{ stage: 0, state: 'confirmed' }, { stage: 1, state: 'pending' }])).toMatchObject({ state: 'running', stage: 1 });
    const ten = [{ stage: 0, state: 'confirmed' as const }, ...Array.from({ length: 9 }, (_, i) => ({ stage: 2, state: (i < 2 ? 'failed' : 'confirmed') as 'failed' | 'confirmed' }))];
    expect(progress({ ...base, stage: 2 }, ten)).toMatchObject({ state: 'halted', reason: expect.stringMatching(/2 kiosk/) });
    expect(progress({ ...base, stage: 2, maxFailures: 2 }, ten)).toMatchObject({ state: 'completed' });
    expect(progress({ ...base, state: 'paused' }, ten).state).toBe('paused');
  });
});
