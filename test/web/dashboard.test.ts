import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { pino } from 'pino';
import { Topics } from '../../protocol/index.js';
import { startHub, type RunningHub } from '../../hub/server.js';
import { enrolTestDevice, TestKiosk, tmpDir, waitFor, type TestDevice } from '../hub/helpers.js';
import { MONTH, PASSWORD, seed } from './seed.js';
import { makeTmpDir } from '../tmp.js';
import { systemClock } from '../../lib/clock.js';

const CHROMIUM = process.env.HADIR_CHROMIUM ?? '/usr/bin/chromium';
const ARGS = ['--lang=id-ID', '--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
/** Screenshots of each page: kept in HADIR_WEB_SHOTS when set (for review), otherwise removed with the test's temp dirs. */
export const SHOTS = process.env.HADIR_WEB_SHOTS ?? makeTmpDir('hadir-web-shots-');

let hub: RunningHub;
let browser: Browser;
let base: string;
let kiosk: TestKiosk;
let dev: TestDevice;

const rupiah = (n: number) => `Rp ${Math.floor(n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, '.')}`;

async function apiAs(token: string, path: string): Promise<Response> {
  return fetch(`${base}/api/v1${path}`, { headers: { authorization: `Bearer ${token}` } });
}
async function loginApi(username: string, password: string): Promise<Response> {
  return fetch(`${base}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });
}

async function newPage(): Promise<Page> {
  const ctx = await browser.newContext({ acceptDownloads: true, viewport: { width: 1366, height: 860 }, locale: 'id-ID', timezoneId: 'Asia/Jakarta' });
  const page = await ctx.newPage();
  page.on('pageerror', (e) => {
    throw e;
  });
  return page;
}
async function login(page: Page, username: string, password: string): Promise<void> {
  await page.goto(`${base}/`);
  await page.fill('input[name=username]', username);
  await page.fill('input[name=password]', password);
  await page.click('button[type=submit]');
  await page.waitForSelector('header.top');
}
/** expect.poll with room for a loaded CI machine (the default is 1 s). */
const poll = <T>(fn: () => T | Promise<T>) => expect.poll(fn, { timeout: 15_000, interval: 50 });
const shot = (page: Page, name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  hub = await startHub({ dataDir: tmpDir('web'), httpPort: 0, mqttPort: 0, httpHost: '127.0.0.1', env: {}, defaultMetrics: false, batchDelayMs: 2, log: pino({ level: 'silent' }) } as never);
  base = `http://127.0.0.1:${hub.httpPort}`;
  await seed(hub);
  // kiosks: one online (status + health + answers commands), one registered and never seen (offline), one in another OPD
  const topics = new Topics(hub.config.prefix);
  dev = await enrolTestDevice(hub.store, 'PKM-01-A', 'kiosk-pkm-1', hub.config.prefix);
  await enrolTestDevice(hub.store, 'PKM-01-A', 'kiosk-pkm-2', hub.config.prefix);
  await enrolTestDevice(hub.store, 'SDN-01-A', 'kiosk-sdn-1', hub.config.prefix);
  await hub.store.setDeviceStatus('kiosk-pkm-2', false, new Date(Date.now() - 3 * 3600_000).toISOString());
  kiosk = await TestKiosk.connect(hub.mqttUrl, topics, dev.id, dev.password);
  kiosk.client.on('message', (topic, payload) => {
    if (topic !== topics.cmd(dev.id)) return;
    const c = JSON.parse(payload.toString()) as { id: string; cmd: string };
    void kiosk.client.publishAsync(topics.cmdResult(dev.id), JSON.stringify({ id: c.id, ok: true, result: { pong: true, cmd: c.cmd }, at: new Date().toISOString() }), { qos: 1 });
  });
  await kiosk.client.subscribeAsync(topics.cmd(dev.id), { qos: 1 });
  // six hours of earlier health rows (received_at in the past cannot come over MQTT now, so they are
  // written as the health store keeps them): the clock drifted 1.2 s, the CPU warmed up
  const hist = hub.db.prepare('INSERT INTO device_health (device_id, at, received_at, boot_id, mono_ms, est_offset_ms, cpu_temp_c, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
  for (let i = 6; i >= 1; i--) {
    const at = new Date(Date.now() - i * 3600_000).toISOString();
    hist.run(dev.id, at, at, 'boot-1', 1, -200 * i, 60 + 3 * (6 - i), JSON.stringify({ at, appVersion: '0.1.0', uptimeS: 1, bootId: 'boot-1', monoMs: 1, backlog: { undelivered: 0, oldestUndeliveredAt: null, lastSeq: 1 }, system: { cpuTempC: 60 + 3 * (6 - i) } }));
  }
  await kiosk.publish(JSON.stringify({ online: true, at: new Date().toISOString(), appVersion: '0.1.0', bootId: 'boot-1' }), topics.status(dev.id));
  await kiosk.publish(JSON.stringify({
    at: new Date().toISOString(), appVersion: '0.1.0', uptimeS: 3600, bootId: 'boot-1', monoMs: 3_600_000,
    backlog: { undelivered: 3, oldestUndeliveredAt: new Date(Date.now() - 20 * 60_000).toISOString(), lastSeq: 12 },
    clock: { synced: true, source: 'chrony', offsetMs: 12 },
    system: { cpuTempC: 84, diskFreePct: 62 },
    components: { camera: { state: 'ok' }, finger: { state: 'fault', detail: 'sensor not answering on /dev/ttyAMA0' } },
  }), topics.health(dev.id));
  // today: a face punch through MQTT (stored, acked) and one with an unsynced clock (needs review)
  await kiosk.publish(dev.next({ nip: '198503122010011002' }));
  await kiosk.publish(dev.next({ nip: '199001012015032001', clock: { synced: false, source: 'none', bootId: 'boot-1', monoMs: 5000 } }));
  await waitFor(() => kiosk.ackedIds().size >= 2, 10_000, 'acks');
  await waitFor(async () => (await hub.store.getDevice(dev.id))?.online, 10_000, 'kiosk online');
  // an Indonesian browser: native date inputs show dd/mm/yyyy as they would in the offices
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, env: { ...process.env, LANG: 'id_ID.UTF-8', LANGUAGE: 'id' } });
});

afterAll(async () => {
  await browser?.close();
  await kiosk?.close();
  await hub?.close();
});

describe('web dashboard', () => {
  it('serves the page with a strict CSP, and the login API refuses bad passwords (401 with a reason) and rate-limits', async () => {
    const res = await fetch(`${base}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(await res.text()).toContain('/assets/js/main.js');
    expect((await fetch(`${base}/assets/js/main.js`)).headers.get('content-type')).toMatch(/javascript/);
    expect((await fetch(`${base}/assets/../server.ts`)).status).toBe(404);

    const bad = await loginApi('bkpsdm', 'salah-sekali');
    expect(bad.status).toBe(401);
    expect(((await bad.json()) as { error: string }).error).toMatch(/kata sandi salah/);
    expect((await loginApi('nobody', 'whatever-123')).status).toBe(401);
    for (let i = 0; i < 5; i++) expect((await loginApi('admin.disdik', `wrong-${i}`)).status).toBe(401);
    const locked = await loginApi('admin.disdik', PASSWORD.disdik); // even the right password, while locked
    expect(((await locked.clone().json()) as { error: string }).error).toMatch(/terlalu banyak/);
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('BKPSDM: summary, all OPDs in attendance, TPP totals equal the report API, terminals with alerts and a remote command', async () => {
    const page = await newPage();
    // a wrong password shows the reason on the page
    await page.goto(`${base}/`);
    await page.fill('input[name=username]', 'bkpsdm');
    await page.fill('input[name=password]', 'salah-sekali');
    await page.click('button[type=submit]');
    await poll(() => page.textContent('.form-error')).toMatch(/kata sandi salah/);
    await shot(page, '01-masuk-gagal');

    await page.fill('input[name=password]', PASSWORD.bk);
    await page.click('button[type=submit]');
    await page.waitForSelector('.cards .card');
    await poll(() => page.textContent('.cards')).toMatch(/Terminal online\s*1/);
    expect(await page.textContent('header.top')).toContain('BKPSDM');
    await shot(page, '02-ringkasan');

    // Presensi: BKPSDM may pick any OPD
    await page.goto(`${base}/#/presensi?bulan=${MONTH}&opd=DISDIK`);
    await page.waitForSelector('table.attendance tbody tr');
    const options = await page.$$eval('[data-testid=opd] option', (os) => os.map((o) => (o as HTMLOptionElement).value));
    expect(options).toEqual(expect.arrayContaining(['DINKES', 'DISDIK']));
    expect(await page.textContent('table.attendance')).toContain('Guru Ani');
    expect(await page.textContent('table.attendance')).not.toContain('Siti Rahma');
    await page.selectOption('[data-testid=opd]', 'DINKES');
    await poll(() => page.textContent('table.attendance')).toContain('Siti Rahma');
    await shot(page, '03-presensi');
    // downloads go through the report API with the token: the CSV is the API's CSV, XLSX and PDF are real files
    for (const f of ['csv', 'xlsx', 'pdf'] as const) {
      const [dl] = await Promise.all([page.waitForEvent('download'), page.click(`button[data-format=${f}]`)]);
      expect(dl.suggestedFilename()).toBe(`kehadiran-${MONTH}-DINKES.${f}`);
      const file = await dl.path();
      const bytes = readFileSync(file);
      if (f === 'csv') {
        // the page is in Indonesian: the CSV is the Indonesian-Excel dialect (BOM, ';')
        const tok = await page.evaluate(() => JSON.parse(localStorage.getItem('hadir.session')!).token as string);
        const api = Buffer.from(await (await apiAs(tok, `/reports/attendance?month=${MONTH}&opd=DINKES&format=csv&csv_dialect=id`)).arrayBuffer());
        expect(bytes.equals(api)).toBe(true);
        expect(bytes.subarray(0, 3).toString('hex')).toBe('efbbbf');
        expect(bytes.toString('utf8').split('\n')[0]).toMatch(/^\uFEFFNIP;Nama;OPD;/);
      }
      if (f === 'xlsx') expect(bytes.subarray(0, 2).toString()).toBe('PK');
      if (f === 'pdf') expect(bytes.subarray(0, 5).toString()).toBe('%PDF-');
    }
    // every text exists in both languages (a string: vitest would rewrite a dynamic import() in a function)
    expect(await page.evaluate("import('/assets/js/i18n.js').then((m) => m.missingKeys())")).toEqual({ en: [], id: [] });

    // the chosen month and OPD carry over to the TPP page through the menu
    await page.click('header.top nav a[href="#/tpp"]');
    await page.waitForSelector('table.tpp tbody tr');
    expect(await page.inputValue('[data-testid=opd]')).toBe('DINKES');
    expect(await page.inputValue('[data-testid=month]')).toBe(MONTH);

    // TPP: the page shows the report API's rupiah, row by row and in the sum
    const token = await page.evaluate(() => JSON.parse(localStorage.getItem('hadir.session')!).token as string);
    const rows = (await (await apiAs(token, `/reports/tpp?month=${MONTH}&opd=DINKES`)).json()) as { nip: string; total: number; produktivitas_missing: boolean }[];
    expect(rows.length).toBe(3);
    await page.goto(`${base}/#/tpp?bulan=${MONTH}&opd=DINKES`);
    await page.waitForSelector('table.tpp tbody tr');
    const shown = await page.$$eval('table.tpp > tbody > tr:not(.expand)', (trs) =>
      trs.map((tr) => ({ nip: tr.querySelector('td.mono')!.textContent, total: tr.querySelector('td[data-k=total]')!.textContent })));
    expect(shown).toEqual(rows.map((r) => ({ nip: r.nip, total: rupiah(r.total) })));
    expect(await page.textContent('td[data-k=sum-total]')).toBe(rupiah(rows.reduce((s, r) => s + r.total, 0)));
    expect(await page.textContent('.notice')).toMatch(/1 pegawai belum punya skor kinerja/);
    // Budi's deduction opens to days and rule lines
    const budiRow = page.locator('table.tpp > tbody > tr', { hasText: 'Budi Santoso' });
    await budiRow.locator('button').click();
    await page.waitForSelector('tr.expand .day-detail');
    expect(await page.textContent('tr.expand')).toMatch(/late\[0\]|TL1|missingCheckOutPct/);
    await shot(page, '04-tpp');

    // Fleet: what each kiosk runs and a failed update, with its reason, on the terminal page
    const fleet = hub.ctx.stores.fleet({ dataDir: hub.config.dataDir, hubVersion: '0.1.0', audit: { record: () => {} }, clock: systemClock });
    hub.db.prepare("INSERT INTO fleet_releases (version, arch, file, size, sha256, manifest, key_id, added_at) VALUES ('9.1.0', 'arm64', '/nonexistent', 1, ?, '{}', 'k', ?)").run('0'.repeat(64), new Date().toISOString());
    for (const id of ['kiosk-pkm-1', 'kiosk-pkm-2', 'kiosk-sdn-1']) await fleet.setDeviceVersion(id, '9.0.0', true);
    const ro = await fleet.startRollout({ version: '9.1.0', stages: 'all', window: 'always', blackouts: 'none', maxFailures: 5, by: 'bkpsdm' });
    await fleet.report('kiosk-pkm-1', { rolloutId: ro.id, version: '9.1.0', phase: 'rolled_back', reason: 'tidak sehat dalam / not healthy within 120 s: MQTT tidak terhubung / not connected' });
    // Terminal: online and offline kiosks of both OPDs, alerts, acknowledge, remote command with result
    await page.goto(`${base}/#/terminal`);
    await page.waitForSelector('table.devices tbody tr');
    const state = async (id: string) => page.locator('table.devices tbody tr', { hasText: id }).locator('td[data-k=state]').textContent();
    expect(await state('kiosk-pkm-1')).toBe('online');
    expect(await state('kiosk-pkm-2')).toBe('offline');
    expect(await page.textContent('table.devices')).toContain('kiosk-sdn-1');
    await waitFor(async () => ((await (await apiAs(token, '/alerts')).json()) as { items: unknown[] }).items.length >= 1, 10_000, 'alerts');
    await page.goto(`${base}/#/terminal?d=kiosk-pkm-1`);
    await page.waitForSelector('[data-testid=device-detail] table');
    const detail = page.locator('[data-testid=device-detail]');
    await poll(() => detail.textContent()).toMatch(/84 °C/);
    expect(await page.locator('table.devices tbody tr', { hasText: 'kiosk-pkm-1' }).locator('td[data-k=version]').textContent()).toMatch(/9\.0\.0.*→ 9\.1\.0: gagal/);
    expect(await detail.locator('[data-testid=fleet-failures]').textContent()).toMatch(/9\.1\.0.*MQTT tidak terhubung/);
    await poll(() => detail.textContent()).toMatch(/Drift[\s\S]*\/hari/);
    expect(await detail.locator('.spark svg').count()).toBe(2);
    await detail.locator('button', { hasText: 'Tandai diketahui' }).first().click();
    await poll(() => detail.textContent()).toMatch(/Diketahui \(bkpsdm\)/);
    await poll(() => page.textContent('[data-testid=alerts]')).toMatch(/Peringatan terbuka \(\d+\)[\s\S]*Diketahui \(bkpsdm\)/);
    await detail.locator('select').first().selectOption('ping');
    await detail.locator('button[type=submit]').click();
    await poll(() => detail.locator('form.inline p').textContent()).toMatch(/Selesai/);
    await shot(page, '05-terminal');
    // enrol_mode asks for who and how; the fake kiosk answers every command
    await detail.locator('select').first().selectOption('enrol_mode');
    await detail.locator('input[name=nip]').fill('198503122010011002');
    await detail.locator('select[name=method]').selectOption('finger');
    await detail.locator('select[name=finger]').selectOption('2');
    await detail.locator('button[type=submit]').click();
    await poll(() => detail.locator('form.inline p').textContent()).toMatch(/Selesai.*enrol_mode/);
    const cmds = (await (await apiAs(token, '/devices/kiosk-pkm-1/commands')).json()) as { items: { cmd: string; args: unknown }[] };
    expect(cmds.items.find((c) => c.cmd === 'enrol_mode')?.args).toEqual({ nip: '198503122010011002', method: 'finger', timeoutS: 60, finger: 2 });
    expect(await page.textContent('footer.foot')).toMatch(/MQTT terhubung/);

    await page.goto(`${base}/#/terlambat`);
    await page.waitForSelector('section.panel');
    await shot(page, '06-terlambat');
    // Terlambat: dd/mm/yyyy whatever the browser's locale; typing another date loads that day
    expect(await page.inputValue('.date-field input')).toMatch(/^\d{2}\/\d{2}\/\d{4}$/);
    await page.fill('.date-field input', '01/10/2026');
    await page.press('.date-field input', 'Enter');
    await page.locator('.date-field input').blur();
    await poll(() => page.textContent('main')).toContain('01/10/2026');
    await poll(() => page.textContent('main')).toMatch(/Budi Santoso[\s\S]*\+20/); // 07:50 on a 07:30 start
    await page.goto(`${base}/#/persetujuan`);
    await page.waitForSelector('section.panel table, section.panel .state');
    await poll(() => page.textContent('main')).toContain('Budi Santoso'); // the clock-unsynced punch
    await shot(page, '07-persetujuan');
    const leave = page.locator('section.panel tr', { hasText: 'Dewi Lestari' });
    expect(await leave.textContent()).toMatch(/Cuti sakit.*05\/10\/2026.*07\/10\/2026/);
    await leave.locator('button', { hasText: 'Setujui' }).click();
    await poll(() => page.textContent('main')).toContain('Tidak ada pengajuan yang menunggu.');
    const approved = (await (await apiAs(token, '/exceptions?status=approved')).json()) as { nip: string; decided_by: string }[];
    expect(approved).toEqual([expect.objectContaining({ nip: '198707072012122003', decided_by: 'bkpsdm' })]);

    // English, remembered across a reload
    await page.click('[data-testid=lang]');
    await poll(() => page.textContent('header.top nav')).toContain('Approvals');
    await page.reload();
    await page.waitForSelector('header.top');
    expect(await page.textContent('header.top nav')).toContain('Attendance');
    await page.goto(`${base}/#/tpp?bulan=${MONTH}`);
    await page.waitForSelector('table.tpp tbody tr');
    await page.selectOption('[data-testid=opd]', ''); // all OPDs
    await poll(() => page.locator('table.tpp > tbody > tr').count()).toBe(5);
    expect(await page.textContent('table.tpp thead')).toContain('Total paid');
    expect(await page.locator('table.tpp > tbody > tr').count()).toBe(5);
    await shot(page, '11-tpp-english-all-opd');
    // in English the CSV download is the RFC 4180 dialect (',', no BOM)
    const [enCsv] = await Promise.all([page.waitForEvent('download'), page.click('button[data-format=csv]')]);
    const enBytes = readFileSync((await enCsv.path())!);
    expect(enBytes.subarray(0, 3).toString('hex')).not.toBe('efbbbf');
    expect(enBytes.toString('utf8').split('\n')[0]).toMatch(/^NIP,Nama,OPD,/);
    await page.click('[data-testid=lang]');
    await page.context().close();
  });

  it('OPD admin: fixed to their OPD in every page, and the API refuses another OPD (403)', async () => {
    const page = await newPage();
    await login(page, 'admin.dinkes', PASSWORD.dinkes);
    expect(await page.textContent('header.top')).toMatch(/Admin OPD · Dinas Kesehatan/);
    await page.goto(`${base}/#/presensi?bulan=${MONTH}&opd=DISDIK`); // a hand-edited URL changes nothing
    await page.waitForSelector('table.attendance tbody tr');
    expect(await page.$eval('[data-testid=opd]', (s) => (s as HTMLSelectElement).disabled)).toBe(true);
    expect(await page.$$eval('[data-testid=opd] option', (os) => os.map((o) => (o as HTMLOptionElement).value))).toEqual(['DINKES']);
    const table = await page.textContent('table.attendance');
    expect(table).toContain('Siti Rahma');
    expect(table).not.toContain('Guru Ani');
    await shot(page, '08-opd-admin-presensi');
    await page.fill('[data-testid=filter]', 'budi');
    expect(await page.locator('table.attendance tbody tr:visible').count()).toBe(1);

    // the OPD admin files a duty-travel request; it waits for approval; a NIP of another OPD is refused
    await page.goto(`${base}/#/persetujuan`);
    await page.click('details.request summary');
    const form = page.locator('details.request form');
    await form.locator('input[name=nip]').fill('198503122010011002');
    await form.locator('select[name=type]').selectOption('dinas_luar');
    await form.locator('input[name=from]').fill('12/10/2026');
    await form.locator('input[name=to]').fill('13/10/2026');
    await form.locator('input[name=evidence]').fill('SPT 090/77/2026');
    await form.locator('button[type=submit]').click();
    await poll(() => page.textContent('main')).toMatch(/Siti Rahma[\s\S]*Dinas luar[\s\S]*12\/10\/2026/);
    await form.locator('input[name=nip]').fill('198001012005011003');
    await form.locator('input[name=from]').fill('12/10/2026');
    await form.locator('input[name=to]').fill('12/10/2026');
    await form.locator('button[type=submit]').click();
    await poll(() => page.textContent('#toast')).toMatch(/DINKES|OPD/);
    await page.setViewportSize({ width: 820, height: 1180 }); // tablet portrait
    await shot(page, '08b-opd-admin-persetujuan-tablet');
    await page.setViewportSize({ width: 1366, height: 860 });

    const token = await page.evaluate(() => JSON.parse(localStorage.getItem('hadir.session')!).token as string);
    const other = await page.evaluate(async ([m, t]) => {
      const r = await fetch(`/api/v1/reports/attendance?month=${m}&opd=DISDIK`, { headers: { authorization: `Bearer ${t}` } });
      return { status: r.status, body: await r.json() };
    }, [MONTH, token] as const);
    expect(other.status).toBe(403);
    expect(other.body.error).toMatch(/DINKES/);
    const own = (await (await apiAs(token, `/reports/tpp?month=${MONTH}`)).json()) as { opd: string }[];
    expect(new Set(own.map((r) => r.opd))).toEqual(new Set(['DINKES']));

    await page.goto(`${base}/#/terminal`);
    await page.waitForSelector('table.devices tbody tr');
    const devices = await page.textContent('table.devices');
    expect(devices).toContain('kiosk-pkm-1');
    expect(devices).not.toContain('kiosk-sdn-1');
    await shot(page, '09-opd-admin-terminal');

    // logout revokes the token at the hub
    await page.click('header.top button.secondary');
    await page.waitForSelector('form.login');
    expect((await apiAs(token, '/auth/me')).status).toBe(401);
    await page.context().close();
  });

  it('a revoked session sends the browser back to the login page with a notice', async () => {
    const page = await newPage();
    await login(page, 'bkpsdm', PASSWORD.bk);
    const token = await page.evaluate(() => JSON.parse(localStorage.getItem('hadir.session')!).token as string);
    await fetch(`${base}/api/v1/auth/logout`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    await page.click('header.top nav a[href="#/terminal"]');
    await page.waitForSelector('form.login');
    expect(await page.textContent('.form-error')).toMatch(/Sesi Anda berakhir/);
    await page.setViewportSize({ width: 800, height: 1100 }); // tablet portrait
    await shot(page, '10-masuk-tablet');
    await page.context().close();
  });
});
