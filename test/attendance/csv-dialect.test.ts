import { EventEmitter } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Hono } from 'hono';
import { Registry } from 'prom-client';
import { parse } from 'csv-parse/sync';
import type { AuthUser, HubBus, HubContext, HubEnv } from '../../hub/module-contract.js';
import { errorHandler } from '../../hub/http/errors.js';
import { createAttendanceModule } from '../../hub/attendance/module.js';
import { toCsv } from '../../hub/reports/csv.js';
import { rootLogger } from '../../lib/logger.js';
import { Topics } from '../../protocol/index.js';
import { A, ingestInto, seedStore, tempStore, type AttStore } from './db.js';
import { systemClock } from '../../lib/clock.js';

const BKPSDM: AuthUser = { username: 'bkpsdm1', name: 'BKPSDM', role: 'bkpsdm', opdCode: null };

/**
 * `csv_dialect=id` / `--csv-dialect id`: CSV that Excel with an Indonesian locale splits into
 * columns (';') and whose decimals it reads (','), with a UTF-8 BOM; `en` (default) stays RFC 4180.
 */
describe('CSV dialects (en: RFC 4180; id: Excel in an Indonesian locale)', () => {
  let t: AttStore;
  let mod: ReturnType<typeof createAttendanceModule>;
  let app: Hono<HubEnv>;
  beforeAll(async () => {
    t = await tempStore();
    await seedStore(t);
    // A is 15 minutes late on one day: 0.5 % (a decimal) in the TPP deduction
    await ingestInto(t, A, '2026-10-05T07:45');
    await ingestInto(t, A, '2026-10-05T16:05');
    const ctx = { stores: t.stores, log: rootLogger, clock: systemClock, bus: new EventEmitter() as HubBus, metrics: new Registry(), topics: new Topics('t-csv/hadir/v1'), dataDir: t.dir, publicUrl: 'http://127.0.0.1' } as unknown as HubContext;
    mod = createAttendanceModule(ctx);
    await mod.start!();
    app = new Hono<HubEnv>();
    app.onError(errorHandler(rootLogger)); // the hub's one error path (hub/http/app.ts)
    app.use('*', async (c, next) => (c.set('user', BKPSDM), next()));
    app.route('/api/v1', mod.api!);
  });
  afterAll(async () => {
    await mod?.stop!();
    await t?.close();
  });
  const get = async (path: string) => {
    const res = await app.request(`/api/v1${path}`);
    return { status: res.status, type: res.headers.get('content-type'), bytes: Buffer.from(await res.arrayBuffer()) };
  };

  it('toCsv: separator, decimal mark, BOM, line ends; numbers stay numbers', () => {
    const rows = [['Nama', 'Potongan (%)', 'TPP (Rp)'], ['Siti, S.Pd.', 4.25, 5_000_000]];
    expect(toCsv(rows, 'en')).toBe('Nama,Potongan (%),TPP (Rp)\n"Siti, S.Pd.",4.25,5000000\n');
    expect(toCsv(rows, 'id')).toBe('\uFEFFNama;Potongan (%);TPP (Rp)\r\n"Siti, S.Pd.";4,25;5000000\r\n');
  });

  it('GET /reports/tpp?format=csv&csv_dialect=id: BOM, ";" columns, "," decimals — the same figures as the JSON', async () => {
    const json = JSON.parse((await get('/reports/tpp?month=2026-10')).bytes.toString()) as { nip: string; deduction_pct: number; base: number; total: number }[];
    const a = json.find((r) => r.nip === A)!;
    expect(a.deduction_pct % 1).not.toBe(0); // the fixture really has a decimal to show

    const id = await get('/reports/tpp?month=2026-10&format=csv&csv_dialect=id');
    expect(id.status).toBe(200);
    expect(id.type).toMatch(/^text\/csv; charset=utf-8/);
    expect(id.bytes.subarray(0, 3).toString('hex')).toBe('efbbbf');
    const idRows = parse(id.bytes, { delimiter: ';', bom: true, columns: true }) as Record<string, string>[];
    const rowA = idRows.find((r) => r.NIP === A)!;
    expect(rowA['Potongan (%)']).toBe(String(a.deduction_pct).replace('.', ','));
    expect(rowA['TPP Dasar (Rp)']).toBe(String(a.base));
    expect(rowA['Jumlah Diterima (Rp)']).toBe(String(a.total));

    const en = await get('/reports/tpp?month=2026-10&format=csv');
    expect(en.bytes.subarray(0, 3).toString('hex')).not.toBe('efbbbf');
    const enRows = parse(en.bytes, { columns: true }) as Record<string, string>[];
    expect(enRows.find((r) => r.NIP === A)!['Potongan (%)']).toBe(String(a.deduction_pct));
    expect(Object.keys(enRows[0]!)).toEqual(Object.keys(rowA)); // same columns either way
  });

  it('attendance CSV in the id dialect; an unknown dialect is a 400 naming the field', async () => {
    const id = await get('/reports/attendance?month=2026-10&format=csv&csv_dialect=id');
    expect(id.bytes.toString('utf8')).toMatch(/^\uFEFFNIP;Nama;OPD;Unit;Jadwal;/);
    expect(id.bytes.toString('utf8')).toContain('\r\n');
    const bad = await get('/reports/attendance?month=2026-10&format=csv&csv_dialect=fr');
    expect(bad.status).toBe(400);
    expect(bad.bytes.toString()).toMatch(/csv_dialect/);
  });
});
