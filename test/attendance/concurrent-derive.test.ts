import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PgAttendanceStore, type PgAttendanceOptions } from '../../hub/attendance/pg-store.js';
import { postgresStores } from '../../hub/store/open.js';
import { openPostgres } from '../../hub/store/pg.js';
import { parseCsv } from '../../hub/org/csv.js';
import { ORG_COLUMNS, STAFF_COLUMNS } from '../../hub/org/import.js';
import { freshPostgres } from '../store.js';
import { A, B, C, NOW, ORG_CSV, STAFF_CSV } from './db.js';
import { rule } from './fixtures.js';
import type pg from 'pg';

/**
 * Issue 15: "Two workers deriving the same employee-month at once never lose an update." Always on
 * the real PostgreSQL (127.0.0.1:5432): two attendance repositories on their own pools — two hub
 * workers — drain one att_dirty queue. After both are done the stored months must equal a fresh
 * derivation from the inputs (a full recompute changes nothing). The first test forces the race:
 * worker 1 has read an employee-month's inputs and waits; a punch arrives and worker 2 claims it.
 * Without the employee-month lock worker 2 writes first and worker 1 then overwrites it with the
 * older result — the second test shows this very schedule does lose the punch when the locks are
 * turned off, so the first would fail if the design let an update be lost.
 */
describe('two workers deriving one attendance queue (PostgreSQL)', () => {
  let db: Awaited<ReturnType<typeof freshPostgres>>;
  const pools: pg.Pool[] = [];
  const worker = async (opts: PgAttendanceOptions = {}) => {
    const pool = await openPostgres(db.url);
    pools.push(pool);
    return new PgAttendanceStore(pool, opts);
  };
  let admin: pg.Pool;
  let seq = 0;
  /** A punch stored as ingest stores it (key, then body; the trigger queues it). */
  const punch = async (nip: string, localWib: string) => {
    const id = `0190c0de-0000-7000-9000-${String(++seq).padStart(12, '0')}`;
    const at = new Date(`${localWib}:00+07:00`).toISOString();
    await admin.query('INSERT INTO punch_keys (id, device_id, seq, captured_at) VALUES ($1, $2, $3, $4)', [id, 'kiosk-c', seq, at]);
    await admin.query(`INSERT INTO punches (id, device_id, seq, nip, method, captured_at, site_code, clock_synced, received_at, review_status)
      VALUES ($1, 'kiosk-c', $2, $3, 'face', $4, $5, 1, $6, 'none')`, [id, seq, nip, at, nip === C ? 'PKM-SKM' : nip === B ? 'SDN1' : 'DISDIK-KTR', NOW]);
  };
  const monthOf = async (nip: string) => (await admin.query('SELECT days FROM att_months WHERE nip = $1 AND month = $2', [nip, '2026-10'])).rows[0]?.days as string | undefined;
  /** A full recompute from the inputs: 0 changed rows means every stored month was already right. */
  const staleRows = async () => (await (await worker()).recomputeMonth('2026-10', NOW)).changed;
  /** Advisory locks waited for in this test's database (other test files' databases share the cluster's pg_locks). */
  const waitingLocks = async () =>
    Number((await admin.query("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())")).rows[0].count);

  beforeEach(async () => {
    db = await freshPostgres();
    admin = await openPostgres(db.url);
    pools.push(admin);
    const att = postgresStores(admin).attendance;
    await att.importOrg(parseCsv(ORG_CSV, 'org.csv', ORG_COLUMNS));
    await att.importStaff(parseCsv(STAFF_CSV, 'staff.csv', STAFF_COLUMNS), { by: 'test', now: NOW, effective: '2026-10-01' });
    await att.addRule(rule(), 'test', NOW);
    await admin.query("INSERT INTO devices (id, site_code, created_at) VALUES ('kiosk-c', 'DISDIK-KTR', $1)", [NOW]);
    await punch(A, '2026-10-06T07:20');
    await att.derive(NOW);
    await att.prepareMonth('2026-10', NOW); // every employee's October is derived: a recompute of a right month changes nothing
  });
  afterEach(async () => {
    await Promise.all(pools.splice(0).map((p) => p.end()));
    await db.drop();
  });

  /** Worker 1 reads A's October (with punch 1), then punch 2 arrives and worker 2 derives it; then worker 1 writes. */
  async function race(lock: boolean): Promise<{ w2DoneBeforeW1Wrote: boolean }> {
    let readSignal!: () => void;
    const read = new Promise<void>((r) => (readSignal = r));
    let openGate!: () => void;
    const gate = new Promise<void>((r) => (openGate = r));
    let first = true;
    const w1 = await worker({
      lock,
      afterRead: async () => {
        if (!first) return;
        first = false;
        readSignal();
        await gate;
      },
    });
    const w2 = await worker({ lock });
    await punch(A, '2026-10-07T08:15'); // punch 1: late on Wednesday
    const d1 = w1.derive(NOW);
    await read;
    await punch(A, '2026-10-08T07:25'); // punch 2: Thursday, arrives while worker 1 holds its result
    let w2Done = false;
    const d2 = w2.derive(NOW).then((r) => ((w2Done = true), r));
    // worker 2 either finishes (no lock) or waits for worker 1's employee-month lock
    const until = Date.now() + 10_000;
    while (!w2Done && (await waitingLocks()) === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    const w2DoneBeforeW1Wrote = w2Done;
    openGate();
    await Promise.all([d1, d2]);
    return { w2DoneBeforeW1Wrote };
  }

  it('worker 2 waits for worker 1 and then derives from both punches: nothing is lost', async () => {
    const r = await race(true);
    expect(r.w2DoneBeforeW1Wrote).toBe(false); // it waited on the lock
    expect(Number((await admin.query('SELECT count(*) FROM att_dirty')).rows[0].count)).toBe(0);
    expect(await staleRows()).toBe(0);
    expect(await monthOf(A)).toContain('07:25'); // Thursday's check-in is in the stored month
  });

  it('the same schedule without the locks loses punch 2 (the check above would fail)', async () => {
    const r = await race(false);
    expect(r.w2DoneBeforeW1Wrote).toBe(true);
    expect(Number((await admin.query('SELECT count(*) FROM att_dirty')).rows[0].count)).toBe(0); // queue empty, yet …
    expect(await staleRows()).toBe(1); // … A's month is stale: an update was lost
  });

  it('two workers draining while punches stream in: every stored month equals a fresh derivation', async () => {
    const [w1, w2] = [await worker(), await worker()];
    let stop = false;
    const loop = async (w: PgAttendanceStore) => {
      while (!stop) await w.derive(NOW);
    };
    const loops = [loop(w1), loop(w2)];
    const days = Array.from({ length: 20 }, (_, i) => `2026-10-${String(i + 5).padStart(2, '0')}`);
    for (const d of days) await Promise.all([punch(A, `${d}T07:${10 + (d.charCodeAt(9) % 40)}`), punch(B, `${d}T06:55`), punch(C, `${d}T07:30`), punch(A, `${d}T16:05`)]);
    stop = true;
    await Promise.all(loops);
    await Promise.all([w1.derive(NOW), w2.derive(NOW)]);
    expect(Number((await admin.query('SELECT count(*) FROM att_dirty')).rows[0].count)).toBe(0);
    expect(await staleRows()).toBe(0);
  });

  it('a late punch derived with only its employee\'s sites loaded equals the whole month (unit time zone, unit site policy)', async () => {
    const att = postgresStores(admin).attendance;
    await att.setConfig({ sitePolicy: 'unit' });
    await att.derive(NOW);
    // A's unit gets a second site that carries WITA (the unit's zone); A never punches there
    await admin.query("INSERT INTO sites (code, unit_code, name, utc_offset_min) VALUES ('DISDIK-KTR2', 'DISDIK-SEK', 'Kantor 2', 480)");
    await att.markDirty(A, ['2026-10']);
    await att.derive(NOW);
    // one punch at another unit's school (does not count under the unit policy), one at A's own office
    for (const [k, [site, at]] of [['SDN1', '2026-10-07T07:10'], ['DISDIK-KTR', '2026-10-08T07:50']].entries()) {
      const id = `0190c0de-0000-7000-a000-${String(k + 1).padStart(12, '0')}`;
      const iso = new Date(`${at}:00+07:00`).toISOString();
      await admin.query('INSERT INTO punch_keys (id, device_id, seq, captured_at) VALUES ($1, $2, $3, $4)', [id, 'kiosk-c', 1000 + k, iso]);
      await admin.query(`INSERT INTO punches (id, device_id, seq, nip, method, captured_at, site_code, clock_synced, received_at, review_status)
        VALUES ($1, 'kiosk-c', $2, $3, 'face', $4, $5, 1, $6, 'none')`, [id, 1000 + k, A, iso, site, NOW]);
    }
    const before = await monthOf(A);
    expect((await (await worker()).derive(NOW)).employees).toBe(1); // the few-employees path
    expect(await monthOf(A)).not.toBe(before);
    // a whole-month derivation (every site loaded) finds nothing to change
    expect(await staleRows()).toBe(0);
  });
});
