import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SqliteDb } from '../../hub/store/sqlite.js';
import { transferStaff } from '../../hub/org/import.js';
import { addException, decideException } from '../../hub/attendance/admin.js';
import { recomputeMonth, recomputeMonthAsync } from '../../hub/attendance/recompute.js';
import { prepareMonthAsync } from '../../hub/reports/data.js';
import { A, B, C, NOW, ingest, seed, tempDb } from './db.js';

/**
 * A full month derived on several threads (each with its own read connection, a NIP range each)
 * must give exactly the rows one thread gives: same days, same totals, for every kind of input.
 */
describe('full-month recompute on several threads', () => {
  let db: SqliteDb;
  let close: () => void;
  beforeEach(() => {
    ({ db, close } = tempDb());
    seed(db);
  });
  afterEach(() => close());

  const snapshot = () => (db.prepare("SELECT * FROM att_months WHERE month = '2026-10' ORDER BY nip").all() as { days: string }[]).map((r) => ({ ...r, derived_at: 0, changed_at: 0 }));

  /** October with late days, early leaves, shifts, a pending punch, a transfer and a leave. */
  const seedOctober = () => {
    for (let d = 1; d <= 31; d++) {
      const date = `2026-10-${String(d).padStart(2, '0')}`;
      const wd = new Date(`${date}T00:00:00Z`).getUTCDay();
      if (wd === 0 || wd === 6) continue;
      // A: late on odd days, B (teacher): early leave on Fridays, C (puskesmas shifts): mornings only
      ingest(db, A, `${date}T${d % 2 ? '08:1' + (d % 10) : '07:25'}`);
      if (d !== 14) ingest(db, A, `${date}T16:0${d % 10}`);
      ingest(db, B, `${date}T06:55`, { site: 'SDN1' });
      ingest(db, B, `${date}T${wd === 5 ? '12:30' : '14:05'}`, { site: 'SDN1' });
      ingest(db, C, `${date}T07:5${d % 10}`, { site: 'PKM-SKM', pending: d === 20 });
    }
    transferStaff(db, { nip: A, unit: 'SDN1', from: '2026-10-19', schedule: 'GURU5', by: 'test', now: NOW });
    const leave = addException(db, { nip: B, type: 'cuti_tahunan', from: '2026-10-12', to: '2026-10-13', by: 'test', now: NOW, scope: null });
    decideException(db, { id: leave.id, approve: true, by: 'test', now: NOW, scope: null });
  };

  it('gives the same att_months rows as one thread, and really runs the workers', () => {
    seedOctober();
    const one = recomputeMonth(db, '2026-10', null, NOW, 7, { threads: 1 });
    expect(one).toMatchObject({ derived: 3, threads: 1 });
    const single = snapshot();
    expect(single).toHaveLength(3);
    db.prepare('DELETE FROM att_months').run();

    const three = recomputeMonth(db, '2026-10', null, NOW, 7, { threads: 3 });
    expect(three).toMatchObject({ derived: 3, changed: 3, threads: 3 });
    expect(snapshot()).toEqual(single);
    // written one row per transaction (a province's month is written in chunks): the same rows
    db.prepare('DELETE FROM att_months').run();
    expect(recomputeMonth(db, '2026-10', null, NOW, 7, { threads: 1, writeChunk: 1 })).toMatchObject({ derived: 3, changed: 3 });
    expect(snapshot()).toEqual(single);
    // the days really differ between employees (the comparison is not trivially equal)
    expect(new Set(single.map((r) => r.days)).size).toBe(3);
  });

  it('async (the hub): every range on a worker, the same rows, and this thread keeps running meanwhile', async () => {
    seedOctober();
    recomputeMonth(db, '2026-10', null, NOW, 7, { threads: 1 });
    const single = snapshot();
    db.prepare('DELETE FROM att_months').run();
    let ticks = 0;
    const t = setInterval(() => ticks++, 5);
    const r = await recomputeMonthAsync(db, '2026-10', NOW, 7, { threads: 2, writeChunk: 1 });
    clearInterval(t);
    expect(r).toMatchObject({ derived: 3, changed: 3, threads: 2 });
    expect(snapshot()).toEqual(single);
    expect(ticks).toBeGreaterThan(3); // the event loop ran while the workers derived
    // the report path: a month never derived is prepared this way, then nothing is left to do
    db.prepare('DELETE FROM att_months').run();
    await prepareMonthAsync(db, '2026-10', NOW, { threads: 2, wholeMonthFrom: 0 });
    expect(db.prepare("SELECT count(*) FROM att_months WHERE month = '2026-10'").pluck().get()).toBe(3);
  });

  it('a failing worker fails the recompute with its reason, and nothing is written', () => {
    ingest(db, A, '2026-10-05T07:25');
    // the same connection, but the workers are told a file name that does not exist: they cannot open it
    const missing = `${db.name}.missing`;
    const broken = new Proxy(db, {
      get(t, k) {
        if (k === 'name') return missing;
        const v = Reflect.get(t, k, t) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v;
      },
    });
    expect(() => recomputeMonth(broken, '2026-10', null, NOW, 7, { threads: 2 })).toThrow(/derivation thread 1 failed: .*(unable to open|does not exist|SQLITE_CANTOPEN)/i);
    expect(db.prepare('SELECT count(*) FROM att_months').pluck().get()).toBe(0);
  });
});
