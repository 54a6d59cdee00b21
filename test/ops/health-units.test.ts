import { readFileSync } from 'node:fs';
import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeThrottled, parseDefaultRouteIface, parseMeminfo, parseThermal, parseThrottled, parseWireless } from '../../kiosk/health/system.js';
import { DEFAULT_RULES, alertRulesSchema, backlogGrowingForMs, estimateOffsetMs, evaluateAlerts, inWorkingHours, type DeviceHealthView } from '../../hub/health/rules.js';
import { CommandsExtension } from '../../kiosk/commands/extension.js';
import type { KioskContext } from '../../kiosk/extension-api.js';
import type { CmdResult, Health } from '../../protocol/index.js';

const fx = (p: string) => readFileSync(join(import.meta.dirname, 'fixtures', p), 'utf8');

describe('kiosk system metric parsers', () => {
  it('meminfo, default route (lowest metric), wireless RSSI, thermal', () => {
    expect(parseMeminfo(fx('proc/meminfo'))).toEqual({ totalMb: 3792, availableMb: 2942 });
    expect(parseDefaultRouteIface(fx('proc/route'))).toBe('eth0');
    expect(parseWireless(fx('proc/wireless'))).toEqual({ wlan0: -52 });
    expect(parseThermal('48312\n')).toBe(48.3);
    expect(parseMeminfo('garbage')).toBeNull();
  });
  it('throttling from vcgencmd and /sys', () => {
    expect(parseThrottled('throttled=0x50005\n')).toBe('0x50005');
    expect(parseThrottled('50000\n')).toBe('0x50000');
    expect(decodeThrottled('0x50005')).toEqual(['under-voltage', 'throttled', 'under-voltage-occurred', 'throttled-occurred']);
    expect(decodeThrottled('0x0')).toEqual([]);
  });
});

const base: Health = {
  at: '2026-11-24T01:00:00.000Z', appVersion: '0.1.0', uptimeS: 1, bootId: 'b', monoMs: 1,
  backlog: { undelivered: 0, oldestUndeliveredAt: null, lastSeq: 0 },
};
const view = (over: Partial<DeviceHealthView> = {}, h: Partial<Health> = {}): DeviceHealthView => ({
  deviceId: 'k', online: true, statusAtMs: null, estOffsetMs: 0, recent: [], unsyncedSinceMs: null,
  latest: { body: { ...base, ...h }, receivedAtMs: NOW - 30_000 },
  ...over,
});
const NOW = Date.parse('2026-11-24T01:00:00Z'); // Tuesday 08:00 WIB

describe('alert rules (pure)', () => {
  it('working hours in the regency time zone', () => {
    expect(inWorkingHours(DEFAULT_RULES, NOW)).toBe(true);
    expect(inWorkingHours(DEFAULT_RULES, Date.parse('2026-11-24T12:00:00Z'))).toBe(false); // 19:00 WIB
    expect(inWorkingHours(DEFAULT_RULES, Date.parse('2026-11-22T01:00:00Z'))).toBe(false); // Sunday
    const wita = alertRulesSchema.parse({ workingHours: { utcOffsetMin: 480, from: '09:30' } });
    expect(inWorkingHours(wita, NOW)).toBe(false); // 01:00Z = 09:00 WITA, before 09:30
    expect(inWorkingHours(wita, NOW + 3600_000)).toBe(true);
  });
  it('offline only raised in working hours, kept once open until back', () => {
    const off = view({ online: false, statusAtMs: NOW - 20 * 60_000 });
    expect(evaluateAlerts(DEFAULT_RULES, off, NOW).map((c) => c.kind)).toEqual(['offline']);
    const night = Date.parse('2026-11-24T15:00:00Z');
    const offNight = view({ online: false, statusAtMs: night - 20 * 60_000 });
    expect(evaluateAlerts(DEFAULT_RULES, offNight, night)).toEqual([]);
    expect(evaluateAlerts(DEFAULT_RULES, offNight, night, new Set(['offline'])).map((c) => c.kind)).toEqual(['offline']);
    expect(evaluateAlerts(DEFAULT_RULES, view({ online: false, statusAtMs: NOW - 14 * 60_000 }), NOW)).toEqual([]);
  });
  it('drift limit, unsynced duration, backlog growth and age', () => {
    expect(evaluateAlerts(DEFAULT_RULES, view({ estOffsetMs: 2100 }), NOW).map((c) => c.kind)).toEqual(['clock_drift']);
    expect(evaluateAlerts(DEFAULT_RULES, view({ estOffsetMs: -1900 }), NOW)).toEqual([]);
    expect(evaluateAlerts(DEFAULT_RULES, view({ unsyncedSinceMs: NOW - 31 * 60_000 }), NOW).map((c) => c.kind)).toEqual(['clock_unsynced']);
    const growing = [0, 5, 9, 9, 14].map((u, i) => ({ receivedAtMs: NOW - (4 - i) * 5 * 60_000, undelivered: u }));
    expect(backlogGrowingForMs(growing)).toBe(20 * 60_000);
    expect(backlogGrowingForMs([...growing, { receivedAtMs: NOW, undelivered: 3 }])).toBe(0);
    expect(evaluateAlerts(DEFAULT_RULES, view({ recent: growing }, { backlog: { undelivered: 14, oldestUndeliveredAt: null, lastSeq: 20 } }), NOW).map((c) => c.kind)).toEqual(['backlog_growing']);
    const old = { undelivered: 3, oldestUndeliveredAt: new Date(NOW - 2 * 3600_000).toISOString(), lastSeq: 3 };
    expect(evaluateAlerts(DEFAULT_RULES, view({}, { backlog: old }), NOW)[0]!.detail).toMatch(/120 min/);
  });
  it('disabled rules raise nothing', () => {
    const rules = alertRulesSchema.parse({ disk: { enabled: false }, temperature: { enabled: false } });
    expect(evaluateAlerts(rules, view({}, { system: { diskFreePct: 1, cpuTempC: 95, throttled: '0x4' } }), NOW)).toEqual([]);
    expect(evaluateAlerts(DEFAULT_RULES, view({}, { system: { diskFreePct: 1, cpuTempC: 95, throttled: '0x4' } }), NOW).map((c) => c.kind)).toEqual(['disk_low', 'temperature', 'throttling']);
  });
  it('offset estimate takes the least-delayed sample', () => {
    expect(estimateOffsetMs([{ atMs: 1000, receivedAtMs: 1040 }, { atMs: 2000, receivedAtMs: 2005 }, { atMs: 3000, receivedAtMs: 3900 }])).toBe(-5);
    expect(estimateOffsetMs([])).toBeNull();
  });
});

describe('kiosk remote commands (unit)', () => {
  function fakeCtx(published: CmdResult[]) {
    let handler: (b: Buffer) => void = () => {};
    const ctx = {
      deviceId: 'k-1',
      now: Date.now,
      log: { info() {}, warn() {} },
      bus: new EventEmitter(),
      link: { connected: true, async publish(_k: string, p: unknown) { published.push(p as CmdResult); }, subscribe(_k: string, h: (b: Buffer) => void) { handler = h; } },
      clock: { component: 'clock', state: () => ({ state: 'ok' }), stamp: () => ({ capturedAt: new Date().toISOString(), synced: true, source: 'chrony', bootId: 'b', monoMs: 1 }) },
      roster: { async refresh() { return null; } },
      journalStats: () => ({ undelivered: 0, oldestUndeliveredAt: null, lastSeq: 0, rejected: 0 }),
    } as unknown as KioskContext;
    return { ctx, send: (o: unknown) => handler(Buffer.from(JSON.stringify(o))) };
  }
  it('restart_service answers first, then restarts; a repeated id is answered again without a second run; stale commands refused', async () => {
    const published: CmdResult[] = [];
    const { ctx } = fakeCtx(published);
    let restarts = 0;
    const ext = new CommandsExtension(ctx, { restart: () => restarts++ });
    await ext.start();
    const cmd = { id: 'c-1', cmd: 'restart_service', at: new Date().toISOString() };
    await ext.handle(Buffer.from(JSON.stringify(cmd)));
    expect(published[0]).toMatchObject({ id: 'c-1', ok: true, result: { restarting: true } });
    expect(restarts).toBe(0);
    await new Promise((r) => setTimeout(r, 600));
    expect(restarts).toBe(1);
    await ext.handle(Buffer.from(JSON.stringify(cmd)));
    expect(published).toHaveLength(2);
    await new Promise((r) => setTimeout(r, 600));
    expect(restarts).toBe(1);
    await ext.handle(Buffer.from(JSON.stringify({ id: 'c-2', cmd: 'ping', at: new Date(Date.now() - 3600_000).toISOString() })));
    expect(published[2]).toMatchObject({ id: 'c-2', ok: false, error: expect.stringMatching(/expired/) });
    await ext.handle(Buffer.from(JSON.stringify({ id: 'c-3', cmd: 'reload_roster', at: new Date().toISOString() })));
    expect(published[3]).toMatchObject({ id: 'c-3', ok: false, error: expect.stringMatching(/roster could not be fetched/) });
    await ext.handle(Buffer.from(JSON.stringify({ id: 'c-4', cmd: 'format_disk', at: new Date().toISOString() })));
    expect(published[4]).toMatchObject({ id: 'c-4', ok: false, error: expect.stringMatching(/invalid command/) });
    expect(await ext.handle(Buffer.from('not json'))).toBeNull();
  });
  it('enrol_mode waits for the enrolment result of its own request', async () => {
    const published: CmdResult[] = [];
    const { ctx } = fakeCtx(published);
    ctx.bus.on('enrol:request', (r) => {
      ctx.bus.emit('enrol:result', { requestId: 'other', ok: false, detail: 'not mine' });
      setTimeout(() => ctx.bus.emit('enrol:result', { requestId: r.requestId, ok: true, detail: `finger ${r.finger} stored` }), 20);
    });
    const ext = new CommandsExtension(ctx);
    const res = await ext.handle(Buffer.from(JSON.stringify({ id: 'e-1', cmd: 'enrol_mode', args: { nip: '198503122010011002', method: 'finger', finger: 2 }, at: new Date().toISOString() })));
    expect(res).toMatchObject({ ok: true, result: { enrolled: true, detail: 'finger 2 stored' } });
  });
});
