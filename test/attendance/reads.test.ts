import { EventEmitter } from 'node:events';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Hono } from 'hono';
import { Registry } from 'prom-client';
import type { AuthUser, HubBus, HubContext, HubEnv } from '../../hub/module-contract.js';
import { createAttendanceModule, DERIVED_AT_HEADER, PENDING_HEADER } from '../../hub/attendance/module.js';
import { markDirty, processDirty, processDirtyAsync } from '../../hub/attendance/recompute.js';
import { rootLogger } from '../../lib/logger.js';
import { Topics } from '../../protocol/index.js';
import { waitFor } from '../hub/helpers.js';
import { A, B, C, NOW, ingest, ingestInto, seed, seedStore, tempDb, tempStore, type AttStore } from './db.js';
import { systemClock } from '../../lib/clock.js';

/**
 * Issue 10 item 6: reads do not write, and the hub derives off the request path. A report read
 * answers with the derived state as it is plus how much is still pending (headers); the hub's
 * background job derives whole months on worker threads while the event loop keeps running.
 */
const BKPSDM: AuthUser = { username: 'bkpsdm1', name: 'BKPSDM', role: 'bkpsdm', opdCode: null };
const queued = (t: ReturnType<typeof tempDb>) => t.db.prepare('SELECT count(*) FROM att_dirty').pluck().get() as number;
const queuedIn = async (t: AttStore) => Number((await t.sql.all<{ n: number }>('SELECT count(*) AS n FROM att_dirty'))[0]!.n);
const dayOf = (rows: { nip: string; days: { date: string; status: string; minutes_late: number }[] }[], nip: string, date: string) => rows.find((r) => r.nip === nip)!.days.find((d) => d.date === date)!;

/** On the store under test (test/store.ts): SQLite, or PostgreSQL with HADIR_TEST_DB=postgres. */
describe('report reads and the background derivation job', () => {
  let t: AttStore;
  let mod: ReturnType<typeof createAttendanceModule>;
  let app: Hono<HubEnv>;
  beforeEach(async () => {
    t = await tempStore();
    await seedStore(t);
    for (const nip of [A, B, C]) await ingestInto(t, nip, '2026-10-06T07:20', { site: nip === C ? 'PKM-SKM' : nip === B ? 'SDN1' : 'DISDIK-KTR' });
    const ctx = { stores: t.stores, log: rootLogger, clock: systemClock, bus: new EventEmitter() as HubBus, metrics: new Registry(), topics: new Topics('t-reads/hadir/v1'), dataDir: t.dir, publicUrl: 'http://127.0.0.1' } as unknown as HubContext;
    // readWaitMs 0: a read never waits for the job, so what it returns is what was derived when it came
    mod = createAttendanceModule(ctx, { readWaitMs: 0 });
    await mod.start!();
    app = new Hono<HubEnv>();
    app.use('*', async (c, next) => {
      c.set('user', BKPSDM);
      await next();
    });
    app.route('/api/v1', mod.api!);
  });
  afterEach(async () => {
    await mod.stop!();
    await t.close();
  });
  const read = async () => {
    const r = await app.request('/api/v1/reports/attendance?month=2026-10');
    expect(r.status).toBe(200);
    return { pending: Number(r.headers.get(PENDING_HEADER)), derivedAt: r.headers.get(DERIVED_AT_HEADER), rows: (await r.json()) as Parameters<typeof dayOf>[0] };
  };

  it('a read answers with the last derived state and how much is pending; the job catches up in the background', async () => {
    const first = await waitFor(async () => {
      const r = await read();
      return r.pending === 0 ? r : null;
    }, 10_000, 'the month derived');
    expect(first.rows.map((r) => r.nip).sort()).toEqual([A, B, C].sort());
    expect(first.derivedAt).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    expect(dayOf(first.rows, A, '2026-10-07').status).not.toBe('present');

    // A's punches of the 7th arrive, and a rule change queues the whole month (derived on worker threads)
    await ingestInto(t, A, '2026-10-07T08:10');
    await ingestInto(t, A, '2026-10-07T16:05');
    await t.att.markDirty('*', ['2026-10']);
    const before = await queuedIn(t);
    expect(before).toBeGreaterThanOrEqual(3);
    const behind = await read();
    // the answer came before the job finished: nothing of the queue was derived by the request itself
    expect(behind.pending).toBeGreaterThanOrEqual(before);
    expect(dayOf(behind.rows, A, '2026-10-07').minutes_late).toBe(0);
    expect(dayOf(behind.rows, A, '2026-10-07').status).toBe(dayOf(first.rows, A, '2026-10-07').status);

    const caught = await waitFor(async () => {
      const r = await read();
      return r.pending === 0 ? r : null;
    }, 20_000, 'the job to catch up');
    expect(await queuedIn(t)).toBe(0);
    expect(dayOf(caught.rows, A, '2026-10-07').minutes_late).toBe(40);
  });
});

/** SQLite only: worker threads reading the SQLite file (PostgreSQL derives in the worker's process, under the queue's locks). */
describe('the hub drain (processDirtyAsync)', () => {
  let t: ReturnType<typeof tempDb>;
  beforeEach(() => {
    t = tempDb();
    seed(t.db);
    for (let d = 1; d <= 9; d++) ingest(t.db, A, `2026-10-0${d}T07:4${d}`);
    processDirty(t.db, NOW);
  });
  afterEach(() => t.close());

  /** How many 2 ms timer ticks ran while `work` was under way (0: the event loop was blocked throughout). */
  const ticksDuring = async (work: () => unknown): Promise<number> => {
    let ticks = 0;
    const iv = setInterval(() => ticks++, 2);
    try {
      await work();
    } finally {
      clearInterval(iv);
    }
    return ticks;
  };

  it('derives a whole month on worker threads: the event loop keeps running, the result is the one processDirty gives', async () => {
    const snapshot = () => t.db.prepare("SELECT nip, days, deduction_pct FROM att_months WHERE month = '2026-10' ORDER BY nip").all();
    markDirty(t.db, '*', ['2026-10']);
    // the synchronous drain (the command line's) blocks the thread throughout: the measure can tell
    expect(await ticksDuring(() => processDirty(t.db, NOW))).toBe(0);
    const sync = snapshot();
    t.db.prepare("UPDATE att_months SET days = '' WHERE month = '2026-10'").run();
    markDirty(t.db, '*', ['2026-10']);
    let r: Awaited<ReturnType<typeof processDirtyAsync>> | undefined;
    expect(await ticksDuring(async () => (r = await processDirtyAsync(t.db, NOW, { threads: 2 })))).toBeGreaterThan(0);
    expect(r).toMatchObject({ months: 1, employees: 3 });
    expect(snapshot()).toEqual(sync);
    expect(queued(t)).toBe(0);
  });
});
