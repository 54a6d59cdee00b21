import { EventEmitter } from 'node:events';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Hono } from 'hono';
import { Registry } from 'prom-client';
import ExcelJS from 'exceljs';
import type { AuthUser, HubBus, HubContext, HubEnv } from '../../hub/module-contract.js';
import { errorHandler } from '../../hub/http/errors.js';
import { createAttendanceModule } from '../../hub/attendance/module.js';
import { rootLogger } from '../../lib/logger.js';
import { Topics } from '../../protocol/index.js';
import { A, B, C, NOW, ingestInto, seedStore, tempStore, type AttStore } from './db.js';
import { systemClock } from '../../lib/clock.js';

const BKPSDM: AuthUser = { username: 'bkpsdm1', name: 'BKPSDM', role: 'bkpsdm', opdCode: null };
const DISDIK: AuthUser = { username: 'opd-disdik', name: 'Admin Disdik', role: 'opd_admin', opdCode: 'DISDIK' };
const DINKES: AuthUser = { username: 'opd-dinkes', name: 'Admin Dinkes', role: 'opd_admin', opdCode: 'DINKES' };

/** The store under test (test/store.ts): SQLite, or PostgreSQL with HADIR_TEST_DB=postgres. */
let t: AttStore;
let bus: HubBus;
let mod: ReturnType<typeof createAttendanceModule>;
let user: AuthUser;
let app: Hono<HubEnv>;

beforeEach(async () => {
  t = await tempStore();
  await seedStore(t);
  bus = new EventEmitter() as HubBus;
  const ctx = { stores: t.stores, log: rootLogger, clock: systemClock, bus, metrics: new Registry(), topics: new Topics('t-att/hadir/v1'), dataDir: t.dir, publicUrl: 'http://127.0.0.1' } as unknown as HubContext;
  mod = createAttendanceModule(ctx);
  await mod.start!();
  user = BKPSDM;
  // the hub core authenticates and sets the user; here the test picks who is calling
  app = new Hono<HubEnv>();
  app.onError(errorHandler(rootLogger)); // the hub's one error path (hub/http/app.ts)
  app.use('*', async (c, next) => {
    c.set('user', user);
    await next();
  });
  app.route('/api/v1', mod.api!);
});
afterEach(async () => {
  await mod.stop!();
  await t.close();
});

const get = (path: string) => app.request(`/api/v1${path}`);
const post = (path: string, body?: unknown) => app.request(`/api/v1${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });

describe('attendance API', () => {
  it('TPP report JSON has the DESIGN fields; an OPD admin sees only their OPD and is refused another', async () => {
    const all = (await (await get('/reports/tpp?month=2026-10')).json()) as Record<string, unknown>[];
    expect(all.map((r) => r.nip).sort()).toEqual([A, B, C].sort());
    for (const k of ['nip', 'name', 'opd', 'base', 'deduction_pct', 'disiplin', 'produktivitas_score', 'produktivitas', 'total', 'days']) expect(all[0]).toHaveProperty(k);
    expect(all[0]!.days).toEqual(expect.arrayContaining([expect.objectContaining({ date: '2026-10-01', status: expect.any(String), minutes_late: 0, minutes_early: 0, pct: expect.any(Number) })]));
    user = DISDIK;
    const own = (await (await get('/reports/tpp?month=2026-10')).json()) as { opd: string }[];
    expect(new Set(own.map((r) => r.opd))).toEqual(new Set(['DISDIK']));
    const refused = await get('/reports/tpp?month=2026-10&opd=DINKES');
    expect(refused.status).toBe(403);
    expect(await refused.json()).toEqual({ error: expect.stringMatching(/DISDIK only/) });
    const bad = await get('/reports/tpp?month=2026-13');
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ error: expect.stringMatching(/month/) }); // the shared {error} body, naming the field
  });

  it('serves csv, xlsx and pdf with their content types', async () => {
    const csv = await get('/reports/attendance?month=2026-10&format=csv');
    expect(csv.headers.get('content-type')).toMatch(/text\/csv/);
    expect((await csv.text()).split('\n')[0]).toMatch(/^NIP,Nama,OPD,Unit,Jadwal,Hari Kerja/);
    const x = await get('/reports/tpp?month=2026-10&format=xlsx');
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(Buffer.from(await x.arrayBuffer()) as never);
    expect(wb.getWorksheet('Rekap TPP')).toBeDefined();
    const pdf = await get('/reports/tpp?month=2026-10&format=pdf');
    expect(pdf.headers.get('content-type')).toBe('application/pdf');
    expect(Buffer.from(await pdf.arrayBuffer()).subarray(0, 5).toString()).toBe('%PDF-');
  });

  it('leave approval: an OPD admin approves their own staff only; the day re-derives', async () => {
    user = DISDIK;
    const r = await post('/exceptions', { nip: A, type: 'dinas_luar', from: '2026-10-05', to: '2026-10-05', evidence: 'SPT 090/12/2026' });
    expect(r.status).toBe(201);
    const e = (await r.json()) as { id: number; status: string };
    expect(e.status).toBe('pending');
    expect((await post('/exceptions', { nip: C, type: 'cuti_tahunan', from: '2026-10-05', to: '2026-10-05' })).status).toBe(403);
    user = DINKES;
    expect((await post(`/exceptions/${e.id}/approve`)).status).toBe(403);
    user = DISDIK;
    expect(((await (await post(`/exceptions/${e.id}/approve`)).json()) as { status: string }).status).toBe('approved');
    const rows = (await (await get('/reports/attendance?month=2026-10')).json()) as { nip: string; days: { date: string; status: string }[] }[];
    expect(rows.find((x) => x.nip === A)!.days.find((d) => d.date === '2026-10-05')!.status).toBe('dinas_luar');
    expect((await get('/exceptions?status=approved')).status).toBe(200);
  });

  it('clock-unverified punches: listed per OPD, accepted with a corrected time', async () => {
    const id = await ingestInto(t, A, '2026-10-05T09:00', { pending: true });
    user = DINKES;
    expect(await (await get('/punches/pending')).json()).toEqual([]);
    expect((await post(`/punches/${id}/review`, { action: 'accept' })).status).toBe(403);
    user = DISDIK;
    expect(((await (await get('/punches/pending')).json()) as { id: string }[]).map((p) => p.id)).toEqual([id]);
    expect((await post(`/punches/${id}/review`, { action: 'accept', correctedAt: '2026-10-05T07:35:00+07:00' })).status).toBe(200);
    const late = (await (await get('/reports/late-today?date=2026-10-05')).json()) as { late: { nip: string; in: string; minutes_late: number }[] };
    expect(late.late).toEqual([expect.objectContaining({ nip: A, in: '07:35', minutes_late: 5 })]);
  });

  it("re-derives on 'punches:stored' without being asked", async () => {
    // derive October first so the month exists
    await get('/reports/attendance?month=2026-10');
    const days = async () => ((await t.sql.all<{ days: string }>("SELECT days FROM att_months WHERE nip = ? AND month = '2026-10'", A))[0]?.days ?? '');
    const before = await days();
    expect(before).not.toMatch(/"in":"07:10"/);
    const id = await ingestInto(t, A, '2026-10-06T07:10');
    bus.emit('punches:stored', [{ nip: A, capturedAt: '2026-10-06T00:10:00.000Z', id }]);
    // the module coalesces bursts and drains within about a second
    const deadline = Date.now() + 5_000;
    while (!/"in":"07:10"/.test(await days()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(await days()).toMatch(/"in":"07:10"/);
    expect(Number((await t.sql.all<{ n: number }>('SELECT count(*) AS n FROM att_dirty'))[0]!.n)).toBe(0);
  });
});
void NOW;
