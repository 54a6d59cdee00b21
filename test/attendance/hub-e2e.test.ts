import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHub, type RunningHub } from '../../hub/server.js';
import { TestKiosk, enrolTestDevice, tmpDir, waitFor, type TestDevice } from '../hub/helpers.js';
import { A, NOW, ORG_CSV, STAFF_CSV } from './db.js';
import { rule } from './fixtures.js';
import { unpackDays } from '../../hub/attendance/pack.js';
import { parseCsv } from '../../hub/org/csv.js';
import { ORG_COLUMNS, STAFF_COLUMNS } from '../../hub/org/import.js';
import { createAttendanceModule } from '../../hub/attendance/module.js';
import { TEST_DB, sqlOf, testHubStore, type TestSql } from '../store.js';

/**
 * The real path: a kiosk publishes signed punches over MQTT to a running hub (embedded aedes, real
 * SQLite file — or PostgreSQL with HADIR_TEST_DB=postgres, test/store.ts); the hub core stores them and emits 'punches:stored'; attendance re-derives the day
 * without anyone asking.
 */
describe('hub end to end: kiosk punches become attendance', () => {
  let hub: RunningHub;
  let dev: TestDevice;
  let k: TestKiosk;
  let sql: TestSql;
  let drop: () => Promise<void> = async () => {};
  beforeAll(async () => {
    const st = await testHubStore();
    drop = st.drop;
    // on PostgreSQL: the attendance module (the other feature modules are not all ported yet)
    const modules = TEST_DB === 'postgres' ? { modules: [createAttendanceModule] } : {};
    hub = await startHub({ dataDir: tmpDir('att'), httpPort: 0, mqttPort: 0, batchDelayMs: 2, defaultMetrics: false, env: {}, ...st.opts, ...modules });
    sql = sqlOf(hub);
    const att = hub.ctx.stores.attendance;
    await att.importOrg(parseCsv(ORG_CSV, 'org.csv', ORG_COLUMNS));
    await att.importStaff(parseCsv(STAFF_CSV, 'staff.csv', STAFF_COLUMNS), { by: 'test', now: NOW, effective: '2026-10-01' });
    await att.addRule(rule(), 'test', NOW);
    dev = await enrolTestDevice(hub.store, 'DISDIK-KTR', 'kiosk-disdik-01');
    k = await TestKiosk.connect(hub.mqttUrl.replace('localhost', '127.0.0.1'), hub.ctx.topics, dev.id, dev.password);
  });
  afterAll(async () => {
    await k?.close();
    await hub?.close();
    await drop();
  });

  const monthDays = async () => {
    const [r] = await sql.all<{ days: string; opd_code: string; unit_code: string }>("SELECT days, opd_code, unit_code FROM att_months WHERE nip = ? AND month = '2026-10'", A);
    return r ? unpackDays(r.days, { unit: r.unit_code, opd: r.opd_code }) : undefined;
  };

  it('a punch delivered weeks late from an offline kiosk re-derives its day', async () => {
    const p1 = dev.next({ nip: A, capturedAt: '2026-10-05T00:47:12.000Z' }); // 07:47 WIB → TL1 (17 min)
    const p2 = dev.next({ nip: A, capturedAt: '2026-10-05T09:05:00.000Z' }); // 16:05 WIB
    await k.publish(p1);
    await k.publish(p2);
    await waitFor(() => k.ackedIds().has(p2.id), 10_000, 'ack');
    const day = await waitFor(async () => (await monthDays())?.find((d) => d.date === '2026-10-05' && d.in !== null), 10_000, 'derived day');
    expect(day).toMatchObject({ status: 'late', in: '07:47', out: '16:05', minutes_late: 17, code: 'TL1', pct: 0.5 });
  });

  it('a punch with an unsynced clock waits for review and is counted as pending', async () => {
    const p = dev.next({ nip: A, capturedAt: '2026-10-06T00:20:00.000Z', clock: { synced: false, source: 'none', bootId: 'boot-1', monoMs: 99 } });
    await k.publish(p);
    await waitFor(() => k.ackedIds().has(p.id), 10_000, 'ack');
    const day = await waitFor(async () => (await monthDays())?.find((d) => d.date === '2026-10-06' && d.pending_review > 0), 10_000, 'pending day');
    expect(day.status).toBe('absent');
    const r = await hub.ctx.stores.attendance.tppReport({ month: '2026-10', today: '2026-11-24', now: new Date().toISOString() });
    expect(r.meta.pending_review).toBe(1);
    const m = await (await hub.app.request('/metrics')).text();
    expect(m).toMatch(/^hadir_attendance_pending_review 1$/m);
    expect(m).toMatch(/^hadir_attendance_queue 0$/m);
  });
});
