import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FingerSensor } from '../../kiosk/finger/driver.js';
import { SensorEmulator } from '../../kiosk/finger/emulator.js';
import { syntheticTemplate } from '../../finger/synthetic.js';
import { openEmulatedMockPort } from '../../kiosk/finger/transport.js';
import { LibraryMapStore, planSync, syncLibrary, templateHash, wantedFromRoster, type WantedTemplate } from '../../kiosk/finger/sync.js';
import type { RosterPerson } from '../../protocol/index.js';

const dirs: string[] = [];
const sensors: FingerSensor[] = [];
afterEach(async () => {
  for (const s of sensors.splice(0)) await s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function person(nip: string, fingers: number[], variant = ''): RosterPerson {
  return {
    nip,
    name: nip,
    finger: fingers.map((f) => ({ finger: f, template: syntheticTemplate(`${nip}#${f}${variant}`).toString('base64'), updatedAt: '2026-11-01T00:00:00.000Z' })),
  };
}

function want(nip: string, finger: number, v = ''): WantedTemplate {
  const t = syntheticTemplate(`${nip}#${finger}${v}`);
  return { nip, finger, template: t, hash: templateHash(t) };
}

describe('planSync (pure)', () => {
  it('first load fills pages from 0 in key order; overflow beyond capacity', () => {
    const p = planSync([want('b', 1), want('a', 1), want('c', 1)], { version: 1, pages: {} }, new Set(), 2);
    expect(p.stores.map((s) => [s.page, s.want.nip])).toEqual([
      [0, 'a'],
      [1, 'b'],
    ]);
    expect(p.overflow.map((w) => w.nip)).toEqual(['c']);
    expect(p.reset).toBe(false);
  });

  it('incremental: unchanged kept, changed rewritten, removed deleted, strays deleted', () => {
    const a = want('a', 1);
    const map = { version: 1 as const, pages: { 0: { nip: 'a', finger: 1, hash: a.hash }, 1: { nip: 'b', finger: 1, hash: 'old' }, 2: { nip: 'gone', finger: 1, hash: 'x' } } };
    const p = planSync([a, want('b', 1), want('d', 2)], map, new Set([0, 1, 2, 5]), 10);
    expect(p.deletes).toEqual([1, 2, 5]);
    expect(p.stores.map((s) => [s.page, s.want.nip])).toEqual([
      [1, 'b'],
      [2, 'd'],
    ]);
    expect(Object.keys(p.next.pages).sort()).toEqual(['0', '1', '2']);
  });

  it('empty sensor with a non-empty map is a sensor swap → full reload', () => {
    const a = want('a', 1);
    const p = planSync([a], { version: 1, pages: { 7: { nip: 'a', finger: 1, hash: a.hash } } }, new Set(), 10);
    expect(p.reset).toBe(true);
    expect(p.stores).toEqual([{ page: 0, want: a }]);
  });
});

describe('syncLibrary against the emulator', () => {
  async function setup(capacity = 200) {
    const dir = mkdtempSync(join(tmpdir(), 'hadir-finger-sync-'));
    dirs.push(dir);
    const emu = new SensorEmulator({ capacity });
    const sensor = new FingerSensor(await openEmulatedMockPort(emu), { timeoutMs: 300 });
    sensors.push(sensor);
    await sensor.readSysParams();
    return { emu, sensor, store: new LibraryMapStore(dir) };
  }

  it('loads, then moves only what changed, then reloads fully after a sensor swap', async () => {
    const { emu, sensor, store } = await setup();
    const roster = [person('198001012005011001', [1, 2]), person('198502022010012002', [1])];
    const r1 = await syncLibrary(sensor, store, wantedFromRoster(roster), 200);
    expect(r1).toMatchObject({ loaded: 3, deleted: 0, overflow: 0, reset: false });
    expect(emu.library.size).toBe(3);

    // Nothing changed → no template crosses the line (no DownChar/Store, only the index table).
    const before = emu.stats.commands;
    const r2 = await syncLibrary(sensor, store, wantedFromRoster(roster), 200);
    expect(r2).toMatchObject({ loaded: 0, deleted: 0, kept: 3 });
    expect(emu.stats.commands - before).toBe(1); // one ReadIndexTable page

    // Re-enrolled finger + a person removed + one added.
    const roster3 = [person('198001012005011001', [1]), person('198001012005011001', [])].slice(0, 1);
    roster3[0]!.finger!.push({ finger: 2, template: syntheticTemplate('198001012005011001#2-new').toString('base64'), updatedAt: 'x' });
    roster3.push(person('199003032015013003', [3]));
    const r3 = await syncLibrary(sensor, store, wantedFromRoster(roster3), 200);
    expect(r3).toMatchObject({ loaded: 2, deleted: 2, kept: 1 });
    expect(emu.library.size).toBe(3);
    const pages = store.load().pages;
    expect(Object.values(pages).map((e) => `${e.nip}#${e.finger}`).sort()).toEqual(['198001012005011001#1', '198001012005011001#2', '199003032015013003#3']);
    for (const [page, e] of Object.entries(pages)) expect(templateHash(emu.library.get(Number(page))!)).toBe(e.hash);

    // Sensor swapped for a new one (empty library): everything reloaded.
    emu.swap();
    const r4 = await syncLibrary(sensor, store, wantedFromRoster(roster3), 200);
    expect(r4).toMatchObject({ reset: true, loaded: 3 });
    expect(emu.library.size).toBe(3);
  });

  it('respects capacity and reports the overflow', async () => {
    const { emu, sensor, store } = await setup(5);
    const roster = Array.from({ length: 4 }, (_, i) => person(`19800101200501100${i}`, [1, 2]));
    const r = await syncLibrary(sensor, store, wantedFromRoster(roster), 5);
    expect(r).toMatchObject({ loaded: 5, overflow: 3 });
    expect(emu.library.size).toBe(5);
  });

  it('a template the sensor refuses is skipped and reported, the rest still load', async () => {
    const { emu, sensor, store } = await setup();
    const roster = [person('a', [1]), person('b', [1])];
    // A 100-byte "template" (from another sensor family) leaves the char buffer empty → Store fails.
    roster[0]!.finger![0]!.template = Buffer.alloc(100, 7).toString('base64');
    const r = await syncLibrary(sensor, store, wantedFromRoster(roster), 200);
    expect(r.loaded).toBe(1);
    expect(r.failed).toEqual([{ key: 'a#1', reason: expect.stringContaining('TEMPLATE_EMPTY') }]);
    expect(emu.library.size).toBe(1);
  });
});
