import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { pino } from 'pino';
import { startHub, type RunningHub } from '../../hub/server.js';
import { issueCodes } from '../../hub/staff/auth.js';
import { tmpDir } from '../hub/helpers.js';
import { MONTH, PASSWORD, seed } from '../web/seed.js';

const CHROMIUM = process.env.HADIR_CHROMIUM ?? '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
/** Screenshots (artifacts): test/everyday/shots/ — gitignored. */
const SHOTS = join(import.meta.dirname, 'shots');
const BUDI = '199001012015032001';
const SITI = '198503122010011002';
const PHONE = { width: 390, height: 844 };

let hub: RunningHub;
let browser: Browser;
let base: string;
let dir: string;

async function page(viewport = { width: 1366, height: 860 }, timezoneId = 'UTC'): Promise<Page> {
  // The browser is deliberately in UTC: every time on screen must still be the office's (WIB).
  const ctx = await browser.newContext({ viewport, locale: 'id-ID', timezoneId });
  const p = await ctx.newPage();
  p.on('pageerror', (e) => {
    throw e;
  });
  return p;
}
async function adminLogin(p: Page, user: string, pw: string): Promise<void> {
  await p.goto(`${base}/`);
  await p.fill('input[name=username]', user);
  await p.fill('input[name=password]', pw);
  await p.click('button[type=submit]');
  await p.waitForSelector('header.top');
}
const poll = <T>(fn: () => T | Promise<T>) => expect.poll(fn, { timeout: 15_000, interval: 50 });

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  dir = tmpDir('everyday-web');
  hub = await startHub({ dataDir: dir, httpPort: 0, mqttPort: 0, httpHost: '127.0.0.1', env: {}, defaultMetrics: false, log: pino({ level: 'silent' }) } as never);
  base = `http://127.0.0.1:${hub.httpPort}`;
  await seed(hub);
  // today's punches (WIB): Siti 07:10, Budi 07:52 (late) — the summary shows the LATEST first
  const today = new Date(Date.now() + 7 * 3600_000).toISOString().slice(0, 10);
  const ins = hub.db.prepare(`INSERT INTO punches (id, device_id, seq, nip, method, captured_at, site_code, clock_synced, clock_source, received_at, imported_by, review_status) VALUES (?, NULL, NULL, ?, 'manual', ?, 'PKM-01-A', 1, 'import', ?, 'test', 'none')`);
  const at = (hhmm: string) => new Date(`${today}T${hhmm}:00+07:00`).toISOString();
  if (Date.parse(at('07:52')) < Date.now()) {
    ins.run('0190a000-0000-7000-8000-000000000001', SITI, at('07:10'), new Date().toISOString());
    ins.run('0190a000-0000-7000-8000-000000000002', BUDI, at('07:52'), new Date().toISOString());
  }
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await hub?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('staff page (own data, phone, Bahasa Indonesia)', () => {
  it('activation code → own password → month with every rupiah of the deduction and the rule line; keberatan lands in the OPD queue', async () => {
    const [slip] = issueCodes(hub.db, { nip: BUDI, by: 'admin.dinkes', now: new Date() });
    const p = await page(PHONE);
    await p.goto(`${base}/saya`);
    await p.click('text=Pertama kali? Pakai kode aktivasi');
    await p.fill('input[name=nip]', BUDI);
    await p.fill('input[name=password]', 'budi-rahasia-9');
    await p.fill('input[name=password2]', 'budi-rahasia-9');
    await p.fill('input[name=code]', slip!.code.toLowerCase().replace(/-/g, ' ')); // typed loosely
    await p.click('button[type=submit]');
    await p.waitForSelector('[data-testid=month]');
    await p.selectOption('[data-testid=month]', MONTH);
    await p.waitForSelector('[data-testid=lines] li');
    // the same figures as the TPP report for that person
    const admin = await (await fetch(`${base}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'bkpsdm', password: PASSWORD.bk }) })).json() as { token: string };
    const rep = await (await fetch(`${base}/api/v1/reports/tpp?month=${MONTH}&opd=DINKES`, { headers: { authorization: `Bearer ${admin.token}` } })).json() as { nip: string; total: number }[];
    const row = rep.find((r) => r.nip === BUDI)!;
    const rp = (n: number) => `Rp ${Math.floor(n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, '.')}`;
    expect(await p.textContent('[data-testid=tpp-total]')).toBe(rp(row.total));
    const lines = await p.locator('[data-testid=lines] li').allTextContents();
    expect(lines.length).toBeGreaterThan(3);
    for (const l of lines) expect(l).toMatch(/Perbup perbup-2026-01/);
    expect(lines.join('\n')).toMatch(/−Rp \d/);
    // nothing wider than the phone
    expect(await p.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
    await p.screenshot({ path: join(SHOTS, 'staff-phone-month.png'), fullPage: true });
    await p.screenshot({ path: join(SHOTS, 'staff-phone-top.png') }); // what the phone shows first

    // own data only: another person's punch photo is a 404, the month lists only own punches
    const token = await p.evaluate(() => localStorage.getItem('hadir.staff'));
    const other = await fetch(`${base}/api/v1/saya/punches/0190a000-0000-7000-8000-000000000001/photo`, { headers: { authorization: `Bearer ${token}` } });
    expect(other.status).toBe(404);
    const month = await (await fetch(`${base}/api/v1/saya/month?month=${MONTH}`, { headers: { authorization: `Bearer ${token}` } })).json() as { punches: unknown[]; days: unknown[] };
    expect(month.days.length).toBeGreaterThan(20);
    const all = hub.db.prepare(`SELECT count(*) FROM punches WHERE nip = ? AND captured_at LIKE '${MONTH}%'`).pluck().get(BUDI) as number;
    expect(month.punches.length).toBe(all);

    // keberatan with a reason → pending in the DINKES admin's approvals
    await p.fill('[data-testid=keberatan] input[name=date]', `${MONTH}-09`);
    await p.fill('[data-testid=keberatan] textarea', 'Saya absen pulang 16:05 tetapi tidak tercatat, listrik padam.');
    await p.click('[data-testid=keberatan] button[type=submit]');
    await poll(() => p.textContent('[data-testid=keb-status]')).toBe('menunggu');
    await p.screenshot({ path: join(SHOTS, 'staff-phone-keberatan.png'), fullPage: true });

    const a = await page();
    await adminLogin(a, 'admin.dinkes', PASSWORD.dinkes);
    await a.goto(`${base}/#/persetujuan`);
    await a.waitForSelector('text=listrik padam');
    await a.screenshot({ path: join(SHOTS, 'approvals-keberatan.png'), fullPage: true });
    await a.click('section.panel >> nth=0 >> button:has-text("Setujui")');
    await poll(() => hub.db.prepare('SELECT status FROM keberatan').pluck().get()).toBe('approved');
    // another OPD's admin does not see it
    const disdik = await (await fetch(`${base}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin.disdik', password: PASSWORD.disdik }) })).json() as { token: string };
    expect(await (await fetch(`${base}/api/v1/keberatan`, { headers: { authorization: `Bearer ${disdik.token}` } })).json()).toEqual([]);
  }, 60_000);

  it('a wrong code is refused in Indonesian and nothing is activated', async () => {
    const p = await page(PHONE);
    await p.goto(`${base}/saya`);
    await p.click('text=Pertama kali? Pakai kode aktivasi');
    await p.fill('input[name=nip]', SITI);
    await p.fill('input[name=password]', 'siti-rahasia-9');
    await p.fill('input[name=password2]', 'siti-rahasia-9');
    await p.fill('input[name=code]', 'AAAA-BBBB-CC');
    await p.click('button[type=submit]');
    await poll(() => p.textContent('p.state.error')).toBe('NIP atau kode/kata sandi salah');
    expect(hub.db.prepare('SELECT count(*) FROM staff_login WHERE nip = ?').pluck().get(SITI)).toBe(0);
  });
});

describe('dashboard everyday fixes', () => {
  it('summary on a phone: latest punch first, office time with zone (browser in UTC), TPP card in rupiah, late list', async () => {
    const p = await page(PHONE);
    await adminLogin(p, 'bkpsdm', PASSWORD.bk);
    await p.waitForSelector('.cards .card');
    const recent = p.locator('section.panel:has(h2:text("Presensi terakhir")) tbody tr');
    if ((await recent.count()) >= 2) {
      expect(await recent.nth(0).locator('td').first().textContent()).toBe('07:52 WIB');
      expect(await recent.nth(1).locator('td').first().textContent()).toBe('07:10 WIB');
      await poll(() => p.locator('[data-testid=late-list] tbody tr').count()).toBeGreaterThan(0);
    }
    await poll(() => p.locator('.card:has-text("TPP bulan ini") .card-value').textContent()).toMatch(/^Rp \d/);
    // an error toast never hides the table: the page gains room to scroll past it
    await p.evaluate("import('/assets/js/ui.js').then((m) => m.toast('Hub tidak dapat memproses permintaan', 'bad'))");
    const pad = await p.evaluate(() => getComputedStyle(document.body).paddingBottom);
    expect(parseFloat(pad)).toBeGreaterThanOrEqual(90);
    await p.screenshot({ path: join(SHOTS, 'summary-phone.png'), fullPage: true });
  });

  it('an Indonesian page never shows an English message from the API', async () => {
    const p = await page();
    await adminLogin(p, 'bkpsdm', PASSWORD.bk);
    // the API answers 404 "unknown OPD code "NOPE" (kode OPD tidak dikenal)"
    await p.goto(`${base}/#/presensi?bulan=${MONTH}&opd=NOPE`);
    const box = p.locator('.state.error');
    await box.waitFor();
    const text = (await box.textContent())!;
    expect(text).not.toMatch(/unknown OPD code/);
    expect(text).toMatch(/kode OPD tidak dikenal/);
    // English-only hub messages become a plain Indonesian sentence
    const msg = await p.evaluate("import('/assets/js/api.js').then((m) => m.localMessage('no TPP rule is installed', 400, 'id'))");
    expect(msg).toBe('Permintaan ditolak hub (isian tidak valid)');
    const both = await p.evaluate("import('/assets/js/api.js').then((m) => m.localMessage('perangkat x tidak dikenal / device x is not registered', 404, 'id'))");
    expect(both).toBe('perangkat x tidak dikenal');
    await p.screenshot({ path: join(SHOTS, 'error-indonesian.png'), fullPage: true });
  });
});
