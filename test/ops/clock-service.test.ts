import { afterAll, describe, expect, it } from 'vitest';
import { JumpDetector } from '../../kiosk/clock/jump.js';
import { pickReference, reconstructTrueTime } from '../../clock/reconstruct.js';
import { TrustedClock, monotonicMs, readBootId } from '../../kiosk/clock/service.js';
import { probeClock } from '../../kiosk/clock/probe.js';
import type { ClockState } from '../../kiosk/clock/state.js';
import { ChronyLab, haveChronyd } from './chrony-helpers.js';

const BOOT = '5b1c8e55-0d0f-4a4e-9f43-2f6f1b4f1a11';

/** A controllable wall + monotonic clock pair: advance() moves both, step() moves the wall only. */
function fakeClocks(startWall: number, startMono = 20_000) {
  let wall = startWall;
  let mono = startMono;
  return { now: () => wall, mono: () => mono, advance(ms: number) { wall += ms; mono += ms; }, step(ms: number) { wall += ms; } };
}

describe('unsynced-boot reconstruction', () => {
  it('punches stamped before sync get their true time from the monotonic offset once synced', async () => {
    // The Pi booted with fake-hwclock 5 days behind; NTP is unreachable for the first 10 minutes.
    const trueBoot = Date.parse('2026-11-24T00:00:20.000Z');
    const c = fakeClocks(trueBoot - 5 * 86_400_000);
    let state: ClockState = { synced: false, source: 'chrony', detail: 'not synchronised' };
    const clock = new TrustedClock({ bootId: BOOT, probe: async () => state, jumpThresholdMs: 2000, now: c.now, mono: c.mono });
    const got: unknown[] = [];
    clock.on('reconstructed', (l) => got.push(...l));
    await clock.refresh();
    clock.tick(); // the extension ticks every second from start
    c.advance(60_000);
    const s1 = clock.stamp(); // true 00:01:20
    c.advance(240_000);
    const s2 = clock.stamp(); // true 00:05:20
    expect(s1).toMatchObject({ synced: false, source: 'chrony', bootId: BOOT });
    expect(s1.capturedAt).toBe('2026-11-19T00:01:20.000Z');
    c.advance(300_000);
    // chrony steps the clock (+5 days, leaving it 40 ms ahead) and reports synced with offset +40 ms.
    c.step(5 * 86_400_000 + 40);
    clock.tick();
    state = { synced: true, source: 'chrony', offsetMs: 40, detail: 'synced' };
    await clock.refresh();
    expect(got).toEqual([
      expect.objectContaining({ capturedAt: s1.capturedAt, monoMs: s1.monoMs, trueAt: '2026-11-24T00:01:20.000Z', spanMs: 540_000 }),
      expect.objectContaining({ capturedAt: s2.capturedAt, trueAt: '2026-11-24T00:05:20.000Z', spanMs: 300_000 }),
    ]);
    const s3 = clock.stamp();
    expect(s3).toMatchObject({ synced: true, offsetMs: 40, capturedAt: '2026-11-24T00:10:20.040Z' });
    // the first step while unsynced is the expected boot step, not an alarm
    expect(clock.status().lastJump?.kind).toBe('sync_step');
    expect(clock.status().jumpDetected).toBe(false);
    expect(clock.state().state).toBe('ok');
  });

  it('pure reconstruction refuses another boot and references taken before the stamp', () => {
    const stamp = { bootId: BOOT, monoMs: 1000 };
    expect(reconstructTrueTime(stamp, { bootId: 'other', monoMs: 5000, wallAt: '2026-11-24T01:00:00.000Z' })).toBeNull();
    expect(reconstructTrueTime(stamp, { bootId: BOOT, monoMs: 500, wallAt: '2026-11-24T01:00:00.000Z' })).toBeNull();
    expect(reconstructTrueTime(stamp, { bootId: BOOT, monoMs: 61_000, wallAt: '2026-11-24T01:00:00.000Z', offsetMs: -250 })).toEqual({
      trueAt: '2026-11-24T00:59:00.250Z',
      spanMs: 60_000,
    });
    const refs = [
      { bootId: BOOT, monoMs: 90_000, wallAt: 'b' },
      { bootId: BOOT, monoMs: 2_000, wallAt: 'a' },
      { bootId: 'x', monoMs: 1_500, wallAt: 'c' },
      { bootId: BOOT, monoMs: 900, wallAt: 'd' },
    ];
    expect(pickReference(stamp, refs)?.wallAt).toBe('a');
  });
});

describe('clock jump detection', () => {
  it('a step of a synced clock is reported; slewing and normal running are not', async () => {
    const c = fakeClocks(Date.parse('2026-11-24T01:00:00Z'));
    const clock = new TrustedClock({ bootId: BOOT, probe: async () => ({ synced: true, source: 'chrony', offsetMs: 1, detail: 'synced' }), jumpThresholdMs: 2000, now: c.now, mono: c.mono });
    await clock.refresh();
    const jumps: unknown[] = [];
    clock.on('jump', (j) => jumps.push(j));
    clock.tick();
    for (let i = 0; i < 10; i++) {
      c.advance(1000);
      c.step(1.5); // NTP-ish drift corrections are tiny
      expect(clock.tick()).toBeNull();
    }
    c.advance(1000);
    c.step(-3_600_000); // someone set the clock back an hour
    const j = clock.tick();
    expect(j).toMatchObject({ kind: 'unexplained', deltaMs: -3_600_000 });
    expect(jumps).toHaveLength(1);
    expect(clock.status().jumpDetected).toBe(true);
    expect(clock.state()).toMatchObject({ state: 'degraded' });
    expect(clock.state().detail).toMatch(/clock jumped -3600 s/);
  });
  it('detector threshold is inclusive of small steps', () => {
    const d = new JumpDetector(2000);
    expect(d.observe(10_000, 0, true)).toBeNull();
    expect(d.observe(12_000 + 1999, 2000, true)).toBeNull();
    expect(d.observe(30_000, 3000, true)).toMatchObject({ kind: 'unexplained' });
  });
  it('real monotonic clock and boot id are readable here', () => {
    const a = monotonicMs();
    expect(a).toBeGreaterThan(0);
    expect(monotonicMs()).toBeGreaterThanOrEqual(a);
    expect(readBootId()).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe.skipIf(!haveChronyd)('probeClock against a real chronyd', () => {
  const lab = new ChronyLab();
  afterAll(() => lab.stop());
  it('unsynced right after start, synced after the first samples; chronyc missing → fallback', async () => {
    lab.startServer();
    lab.startClient();
    const cfg = { maxErrorMs: 1000, chronyc: 'chronyc', chronyHost: lab.clientSocket, timedatectl: '/nonexistent/timedatectl', timesyncFlag: '/nonexistent' };
    await new Promise((r) => setTimeout(r, 300));
    let s = await probeClock(cfg);
    expect(s.source).toBe('chrony');
    const deadline = Date.now() + 15_000;
    while (!s.synced && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      s = await probeClock(cfg);
    }
    expect(s).toMatchObject({ synced: true, source: 'chrony', stratum: 9, server: '127.0.0.1' });
    expect(Math.abs(s.offsetMs!)).toBeLessThan(5);
    const none = await probeClock({ ...cfg, chronyHost: `${lab.dir}/nothing.sock` });
    expect(none).toMatchObject({ synced: false, source: 'system' });
  });
});
