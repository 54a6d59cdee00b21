import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ChronyParseError, chronyClockState, parseChronySources, parseChronyTracking } from '../../kiosk/clock/chrony.js';
import { parseShowTimesync, parseTimedatectlShow, timesyncdClockState, TimesyncdParseError } from '../../kiosk/clock/timesyncd.js';
import { probeClock } from '../../kiosk/clock/probe.js';

const fx = (p: string) => readFileSync(join(import.meta.dirname, 'fixtures', p), 'utf8');
const chrony = (kind: string) => chronyClockState(parseChronyTracking(fx(`chrony/tracking-${kind}.csv`)), parseChronySources(fx(`chrony/sources-${kind}.csv`)), 1000);

describe('chrony parsers (captured chronyc -c output)', () => {
  it('synced: offset sign follows chrony ("fast" = our clock ahead = positive offset)', () => {
    const t = parseChronyTracking(fx('chrony/tracking-synced.csv'));
    expect(t).toMatchObject({ refId: '7F000001', refName: '127.0.0.1', stratum: 9, leap: 'Normal', systemTimeS: -0.00000197 });
    const s = chrony('synced');
    expect(s.synced).toBe(true);
    expect(s.source).toBe('chrony');
    expect(s.offsetMs).toBeCloseTo(0.002, 3); // 0.000001970 s fast → +0.00197 ms
    expect(s.stratum).toBe(9);
    expect(s.sourcesReachable).toBe(1);
    expect(s.sourcesTotal).toBe(2);
  });
  it('sources: modes, states, octal reach, never-heard = null', () => {
    const src = parseChronySources(fx('chrony/sources-synced.csv'));
    expect(src[0]).toMatchObject({ mode: 'server', state: 'selected', name: '127.0.0.1', stratum: 8, reach: 0o377, lastRxS: 0 });
    expect(src[1]).toMatchObject({ state: 'unreachable', reach: 0, lastRxS: null });
  });
  it('just started: not synchronised', () => {
    const s = chrony('starting');
    expect(s.synced).toBe(false);
    expect(s.offsetMs).toBeUndefined();
    expect(s.detail).toMatch(/not synchronised/);
  });
  it('no server reachable: not synchronised, 0 of 1 reachable', () => {
    const s = chrony('unreachable');
    expect(s).toMatchObject({ synced: false, sourcesReachable: 0, sourcesTotal: 1 });
  });
  it('server lost after sync: chrony still within its error bound, sources unreachable reported', () => {
    const s = chrony('lost');
    expect(s.synced).toBe(true);
    expect(s.sourcesReachable).toBe(0);
    expect(s.detail).toMatch(/0\/2/);
  });
  it('stepping / correcting a 2.5 s offset: not trusted yet, offset reported (clock behind = negative)', () => {
    const s = chrony('stepping');
    expect(s.synced).toBe(false);
    expect(s.offsetMs).toBeCloseTo(-2481.23, 1);
    expect(s.detail).toMatch(/correcting offset/);
  });
  it('rejects malformed output instead of guessing', () => {
    expect(() => parseChronyTracking('506 Cannot talk to daemon')).toThrow(ChronyParseError);
    expect(() => parseChronyTracking(fx('chrony/tracking-synced.csv').replace('Normal', 'Weird'))).toThrow(/leap status/);
    expect(() => parseChronyTracking(fx('chrony/tracking-synced.csv').replace(',9,', ',nine,'))).toThrow(/stratum/);
    expect(() => parseChronySources('^,*,a,1,2,399,0,0,0,0')).toThrow(/octal/);
    expect(() => parseChronySources('!,*,a,1,2,377,0,0,0,0')).toThrow(/mode/);
  });
});

describe('systemd-timesyncd parsers', () => {
  it('synced with server and stratum from show-timesync', () => {
    const s = timesyncdClockState(parseTimedatectlShow(fx('timesyncd/show-synced.txt')), parseShowTimesync(fx('timesyncd/show-timesync-synced.txt')), false);
    expect(s).toMatchObject({ synced: true, source: 'timesyncd', server: 'ntp.kab.go.id', stratum: 2 });
    expect(s.offsetMs).toBeUndefined();
  });
  it('unsynced, and unreachable server', () => {
    const s = timesyncdClockState(parseTimedatectlShow(fx('timesyncd/show-unsynced.txt')), parseShowTimesync(fx('timesyncd/show-timesync-unreachable.txt')), false);
    expect(s).toMatchObject({ synced: false, source: 'timesyncd', server: 'ntp.kab.go.id' });
  });
  it('flag file /run/systemd/timesync/synchronized counts as synced', () => {
    expect(timesyncdClockState(parseTimedatectlShow(fx('timesyncd/show-unsynced.txt')), null, true).synced).toBe(true);
  });
  it('NTP disabled says so', () => {
    const s = timesyncdClockState(parseTimedatectlShow(fx('timesyncd/show-ntp-off.txt')), null, true);
    expect(s.synced).toBe(false);
    expect(s.detail).toMatch(/set-ntp true/);
  });
  it('rejects garbage', () => {
    expect(() => parseTimedatectlShow('Failed to connect to bus: Host is down')).toThrow(TimesyncdParseError);
    expect(() => parseTimedatectlShow('NTP=maybe\nNTPSynchronized=no')).toThrow(/NTP must be yes\|no/);
  });
});

describe('probeClock fallback order', () => {
  const cfg = { maxErrorMs: 1000, chronyc: 'chronyc', timedatectl: 'timedatectl', timesyncFlag: '/nonexistent' };
  it('chrony first, timesyncd when chronyc is missing, system when neither answers', async () => {
    const files: Record<string, string> = {
      'chronyc -c tracking': fx('chrony/tracking-synced.csv'),
      'chronyc -c sources': fx('chrony/sources-synced.csv'),
      'timedatectl show': fx('timesyncd/show-synced.txt'),
      'timedatectl show-timesync': fx('timesyncd/show-timesync-synced.txt'),
    };
    const runner = (avail: string[]) => async (cmd: string, args: string[]) => {
      const key = `${cmd} ${args.join(' ')}`;
      if (!avail.includes(cmd) || !(key in files)) throw Object.assign(new Error(`spawn ${cmd} ENOENT`), { code: 'ENOENT' });
      return files[key]!;
    };
    expect((await probeClock(cfg, runner(['chronyc', 'timedatectl']))).source).toBe('chrony');
    expect((await probeClock(cfg, runner(['timedatectl']))).source).toBe('timesyncd');
    const none = await probeClock(cfg, runner([]));
    expect(none).toMatchObject({ synced: false, source: 'system' });
    expect(none.detail).toMatch(/ENOENT/);
  });
});
