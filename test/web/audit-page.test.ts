import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { hashPassword } from '../../hub/secrets.js';
import { securityHub, type SecurityHub } from '../security/helpers.js';

const CHROMIUM = process.env.HADIR_CHROMIUM ?? '/usr/bin/chromium';
const PASSWORD = 'kata-sandi-uji-123';

/** The dashboard's audit view (BKPSDM: all entries, chain check; OPD admin: their OPD) and the technician's menu. */
describe('dashboard: audit log and technician view', () => {
  let h: SecurityHub;
  let browser: Browser;
  beforeAll(async () => {
    h = await securityHub();
    for (const u of ['bkpsdm1', 'dinkes1', 'tek1']) h.hub.db.prepare('UPDATE users SET password_hash = ? WHERE username = ?').run(hashPassword(PASSWORD), u);
    expect((await h.call('POST', '/api/v1/devices/kiosk-pkm-01/disable', h.tokens.tech, { reason: 'layar pecah' })).status).toBe(200);
    expect((await h.call('POST', '/api/v1/devices/kiosk-sdn-01/disable', h.tokens.bkpsdm, { reason: 'dipindah' })).status).toBe(200);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--lang=id-ID'] });
  });
  afterAll(async () => {
    await browser?.close();
    await h?.close();
  });

  async function login(username: string): Promise<Page> {
    const page = await (await browser.newContext({ locale: 'id-ID', timezoneId: 'Asia/Jakarta' })).newPage();
    page.on('pageerror', (e) => {
      throw e;
    });
    await page.goto(`${h.base}/`);
    await page.fill('input[name=username]', username);
    await page.fill('input[name=password]', PASSWORD);
    await page.click('button[type=submit]');
    await page.waitForSelector('header.top');
    return page;
  }

  it('BKPSDM sees every entry and checks the chain; an OPD admin sees their OPD only', async () => {
    const page = await login('bkpsdm1');
    await page.goto(`${h.base}/#/audit`);
    await page.waitForSelector('table.audit tbody tr');
    const text = await page.locator('table.audit').innerText();
    expect(text).toContain('device.disable');
    expect(text).toContain('tek1');
    expect(text).toContain('DISDIK');
    await page.click('[data-testid=audit-verify]');
    await expect.poll(() => page.locator('[data-testid=audit-verify-result]').innerText(), { timeout: 15_000 }).toMatch(/Utuh: \d+ entri/);

    const opd = await login('dinkes1');
    await opd.goto(`${h.base}/#/audit`);
    await opd.waitForSelector('table.audit tbody tr');
    const own = await opd.locator('table.audit').innerText();
    expect(own).toContain('kiosk-pkm-01');
    expect(own).not.toContain('kiosk-sdn-01');
    expect(await opd.locator('[data-testid=audit-verify]').count()).toBe(0);
  });

  it('a technician gets the terminal page only', async () => {
    const page = await login('tek1');
    const nav = await page.locator('header.top nav a').allInnerTexts();
    expect(nav).toEqual(['Terminal']);
    await page.goto(`${h.base}/#/tpp`);
    await page.waitForSelector('main h1');
    expect(await page.locator('main h1').innerText()).toMatch(/Terminal/);
  });
});
