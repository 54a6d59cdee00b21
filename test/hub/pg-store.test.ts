import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generateDeviceKeys, loadPrivateKey } from '../../protocol/index.js';
import { openHubStores } from '../../hub/store/open.js';
import type { CoreStore } from '../../hub/store/core-store.js';
import { registerDevice } from '../../hub/devices/registry.js';
import { AuditLog } from '../../hub/audit/index.js';
import { makeDevice, seedOrgSql, type TestDevice } from './helpers.js';
import { freshPostgres, sqlOf, type TestSql } from '../store.js';
import { systemClock } from '../../lib/clock.js';

/**
 * What only the PostgreSQL store has to prove (it always runs on the real PostgreSQL at
 * 127.0.0.1:5432): month partitions made on demand, exactly once between two hub workers storing
 * the same punches at the same time, the attendance queue fed by its triggers, the audit chain
 * under concurrent appends, and a clear refusal of the SQLite handle a PostgreSQL hub has not.
 */
describe('PostgreSQL store', () => {
  let db: Awaited<ReturnType<typeof freshPostgres>>;
  let a: Awaited<ReturnType<typeof openHubStores>>;
  let b: Awaited<ReturnType<typeof openHubStores>>;
  let sql: TestSql;
  let d: TestDevice;
  const at = '2026-11-24T01:00:00.000Z';

  beforeEach(async () => {
    db = await freshPostgres();
    // two "workers": two pools on the same database, both running the migrations at once
    [a, b] = await Promise.all([openHubStores({ dbPath: '', postgresUrl: db.url }), openHubStores({ dbPath: '', postgresUrl: db.url })]);
    sql = sqlOf(a);
    await seedOrgSql(sql);
    const keys = generateDeviceKeys();
    await registerDevice(a.store, { siteCode: 'PKM-01-A', deviceId: 'kiosk-a', now: new Date() });
    await a.store.setDeviceEnrolled('kiosk-a', keys.publicKeyPem, 'x', at);
    d = makeDevice('kiosk-a', '', loadPrivateKey(keys.privateKeyPem), keys.publicKeyPem);
  });
  afterEach(async () => {
    await a.store.close();
    await b.store.close();
    await db.drop();
  });
  const batch = (store: CoreStore, ps: ReturnType<TestDevice['next']>[]) => store.ingestBatch(ps.map((punch) => ({ punch, siteCode: 'PKM-01-A', receivedAt: at })), []);

  it('applies each migration once when two workers start together', async () => {
    const ids = (await sql.all<{ id: string }>('SELECT id FROM schema_migrations ORDER BY id')).map((r) => r.id);
    expect(ids).toEqual(['000_core', '100_attendance', '101_attendance_queue_per_statement', '200_health', '300_biometrics', '400_audit_log', '500_fleet', '500_staff_portal']);
  });

  it('stores punches in month partitions made on demand; an implausible year goes to the default partition', async () => {
    const oct = d.next({ capturedAt: '2026-10-31T23:59:59.999Z' });
    const nov = d.next({ capturedAt: '2026-11-01T00:00:00.000Z' });
    const odd = d.next({ capturedAt: '1970-01-01T00:00:00.000Z' });
    await batch(a.store, [oct, nov, odd]);
    const where = await sql.all<{ part: string; id: string }>('SELECT tableoid::regclass::text AS part, id FROM punches ORDER BY captured_at');
    expect(where).toEqual([
      { part: 'punches_other', id: odd.id },
      { part: 'punches_2026_10', id: oct.id },
      { part: 'punches_2026_11', id: nov.id },
    ]);
    expect(await a.store.countPunches({ from: '2026-11-01T00:00:00.000Z' })).toBe(1);
  });

  it('two workers storing the same punches at once: each id stored once, seq state exact, both ack all', async () => {
    const ps = Array.from({ length: 60 }, () => d.next());
    // the same 60 punches arrive at both workers, in batches that overlap and cross (redelivery after a failover)
    const [ra, rb] = await Promise.all([
      Promise.all([batch(a.store, ps.slice(0, 40)), batch(a.store, ps.slice(40))]),
      Promise.all([batch(b.store, ps.slice(20)), batch(b.store, ps.slice(0, 20))]),
    ]);
    const acked = new Set([...ra, ...rb].flatMap((r) => r.devices.get('kiosk-a')!.ids));
    expect(acked.size).toBe(60);
    expect([...ra, ...rb].flatMap((r) => r.devices.get('kiosk-a')!.rejected)).toEqual([]);
    expect([...ra, ...rb].reduce((n, r) => n + r.stored.length, 0)).toBe(60);
    expect(await a.store.countPunches({})).toBe(60);
    const dev = (await b.store.getDevice('kiosk-a'))!;
    expect([dev.contiguousSeq, dev.maxSeq]).toEqual([60, 60]);
    expect(await a.store.seqGaps('kiosk-a', true)).toEqual([]);
    // the attendance queue got one entry per stored punch from the trigger, not per attempt
    expect((await sql.all<{ n: number }>('SELECT count(*)::int AS n FROM att_dirty'))[0]!.n).toBe(60);
  });

  it('two workers storing neighbouring punches of one kiosk at once: every chain break flagged exactly once, no gap left', async () => {
    // 200 punches; the links into seq 50, 101 and 150 are broken; odd seqs go to one worker, even to the other, in crossing batches
    const ps = Array.from({ length: 200 }, (_, i) => d.next([49, 100, 149].includes(i) ? { prevHash: '0'.repeat(64) } : {}));
    const odd = ps.filter((p) => p.seq % 2 === 1);
    const even = ps.filter((p) => p.seq % 2 === 0);
    for (let round = 0; round < 5; round++) {
      const part = (xs: typeof ps) => xs.slice(round * 20, round * 20 + 20);
      await Promise.all([batch(a.store, part(odd)), batch(b.store, [...part(even)].reverse())]);
    }
    const flagged = (await sql.all<{ seq: number }>('SELECT seq FROM punches WHERE chain_break = 1 ORDER BY seq')).map((r) => Number(r.seq));
    expect(flagged).toEqual([50, 101, 150]);
    const dev = (await a.store.getDevice('kiosk-a'))!;
    expect([dev.contiguousSeq, dev.maxSeq]).toEqual([200, 200]);
    expect(await a.store.seqGaps('kiosk-a', true)).toEqual([]);
  });

  it('a punch with an implausible time is queued for attendance only once accepted (as SQLite migration 104)', async () => {
    const queued = async () => (await sql.all<{ n: number }>('SELECT count(*)::int AS n FROM att_dirty'))[0]!.n;
    await sql.run("INSERT INTO punch_keys (id, captured_at) VALUES ('p-odd', '2099-01-01T00:00:00.000Z')");
    await sql.run(`INSERT INTO punches (id, nip, method, captured_at, received_at, review_status, review_reason)
      VALUES ('p-odd', '198503122010011002', 'face', '2099-01-01T00:00:00.000Z', ?, 'pending', 'implausible_time')`, at);
    expect(await queued()).toBe(0);
    await sql.run("UPDATE punches SET review_status = 'accepted', corrected_at = '2026-11-24T00:30:00.000Z' WHERE id = 'p-odd'");
    expect(await sql.all('SELECT nip, captured_at FROM att_dirty')).toEqual([{ nip: '198503122010011002', captured_at: '2026-11-24T00:30:00.000Z' }]);
  });

  it('the audit chain stays whole under concurrent appends from two workers', async () => {
    const la = new AuditLog(a.stores.audit, systemClock);
    const lb = new AuditLog(b.stores.audit, systemClock);
    await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? la : lb).record({ actor: 'test', actorKind: 'user', action: `t.${i}`, target: null })));
    const r = await la.verify();
    expect(r).toMatchObject({ ok: true, entries: 20, lastId: 20, problems: [] });
  });

  it('has no SQLite handle, and says so in one line', async () => {
    expect(() => a.db.prepare('SELECT 1')).toThrow(/runs on PostgreSQL: there is no SQLite handle/);
  });
});
