import { afterAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';

const ROOT = resolve(import.meta.dirname, '../..');
const BIN = join(ROOT, 'bin', 'hadir.mjs');
const SHOTS = join(import.meta.dirname, 'shots');
const dirs: string[] = [];
const tmp = (tag: string) => {
  const d = mkdtempSync(join(tmpdir(), `hadir-everyday-${tag}-`));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const hadir = (args: string[], o: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {}) =>
  spawnSync(process.execPath, [BIN, ...args], { cwd: o.cwd ?? ROOT, encoding: 'utf8', env: { ...process.env, HADIR_LOG_LEVEL: 'warn', HADIR_DATA_DIR: '', ...o.env }, input: o.input });

describe('hadir CLI everyday fixes', () => {
  it('--version prints the package version', () => {
    const r = hadir(['--version']);
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version);
  });

  it('an admin command without --data in a directory with no hub data refuses and creates nothing', () => {
    const cwd = tmp('nodata');
    const env = { HADIR_DATA_DIR: undefined, HADIR_DB_URL: undefined };
    const r = spawnSync(process.execPath, [BIN, 'report', 'tpp', '--format', 'json'], { cwd, encoding: 'utf8', env: Object.fromEntries(Object.entries({ ...process.env, ...env }).filter(([, v]) => v !== undefined)) as NodeJS.ProcessEnv });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/no hub data in \.\/data — pass --data DIR/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(existsSync(join(cwd, 'data'))).toBe(false);
  });

  it('demo --help states its defaults once', () => {
    const r = hadir(['demo', '--help']);
    expect(r.stdout).toMatch(/--http-port <n>\s+hub HTTP port \(default: any free port\)\n/);
    expect(r.stdout).not.toMatch(/\(default: "0"\)/);
  });

  it('the sample Perbup rule is a real, valid rule file; report totals print as Rp 1.234.567', () => {
    expect(hadir(['rules', 'check', 'samples/perbup-contoh-2026.yaml']).stdout).toMatch(/^OK: perbup-contoh-2026/);
    const data = tmp('rp');
    writeFileSync(join(data, 'org.csv'), 'opd_code,opd_name,unit_code,unit_name,site_code,site_name\nDINKES,Dinas Kesehatan,PKM-01,Puskesmas Kota,PKM-01-A,Puskesmas A\n');
    writeFileSync(join(data, 'staff.csv'), 'nip,name,opd,unit,employment,job_class,tpp_base,schedule\n199001012015032001,Budi Santoso,DINKES,PKM-01,ASN,7,20868000,KANTOR5\n');
    expect(hadir(['import', 'org', join(data, 'org.csv'), '--data', data]).status).toBe(0);
    const st = hadir(['import', 'staff', join(data, 'staff.csv'), '--data', data]);
    expect(st.stdout).not.toMatch(/pegawai-bulan in \d/); // no mixed "in"
    expect(hadir(['rules', 'add', 'samples/perbup-contoh-2026.yaml', '--data', data]).status).toBe(0);
    const rep = hadir(['report', 'tpp', '--month', '2026-10', '--format', 'csv', '--data', data]);
    expect(rep.status).toBe(0);
    expect(rep.stderr).toMatch(/total Rp \d{1,3}(\.\d{3})*;/);

    // staff page activation codes: one per active person, printable CSV, mode 0600, one-time
    const out = join(data, 'codes.csv');
    const c = hadir(['staff', 'codes', '--opd', 'DINKES', '--out', out, '--data', data]);
    expect(c.status).toBe(0);
    const rows = readFileSync(out, 'utf8').replace(/^\ufeff/, '').trim().split(/\r\n/);
    expect(rows[0]).toBe('nip,nama,opd,unit,kode_aktivasi,berlaku_sampai');
    expect(rows[1]).toMatch(/^"199001012015032001","Budi Santoso","DINKES","PKM-01","[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{2}","\d{2}\/\d{2}\/\d{4}"$/);
    expect(statSync(out).mode & 0o777).toBe(0o600);
  });
});

/**
 * `hadir demo` as a newcomer runs it: the first dashboard screen has TPP, the late list and the
 * terminals filled, no punch waits for review (the kiosks take trusted time from the hub), one
 * alert fires, the banner comes before any punch, and the temp dir is gone after Ctrl-C.
 */
describe('hadir demo shows the whole product', () => {
  it('first screen filled, one alert, nothing pending, banner first, cleaned up on exit', async () => {
    const tmpRoot = tmp('demo-tmp');
    const env: NodeJS.ProcessEnv = { ...process.env, TMPDIR: tmpRoot };
    delete env.HADIR_LOG_LEVEL; // as a newcomer runs it
    delete env.HADIR_DATA_DIR;
    const child = spawn(process.execPath, [BIN, 'demo'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    let gone = false;
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => ((gone = true), r(code))));
    try {
      const until = Date.now() + 120_000;
      while (!gone && !/Presensi baru/.test(out) && Date.now() < until) await new Promise((r) => setTimeout(r, 200));
      expect(out, err).toMatch(/Presensi baru/);
      const base = /dasbor\s+(http:\/\/\S+?)\/\s/.exec(out)![1]!;
      const login = (await (await fetch(`${base}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: 'hadir-demo-2026' }) })).json()) as { token: string };
      const api = async (p: string) => (await fetch(`${base}/api/v1${p}`, { headers: { authorization: `Bearer ${login.token}` } })).json();
      const wib = new Date(Date.now() + 7 * 3600_000);
      const month = wib.toISOString().slice(0, 7);
      const tpp = (await api(`/reports/tpp?month=${month}`)) as { total: number }[];
      expect(tpp.length).toBe(18);
      expect(tpp.some((r) => r.total > 0)).toBe(true);
      const devices = (await api('/devices')) as { items: { id: string; enrolled: boolean }[] };
      expect(devices.items.map((d) => d.id)).toEqual(['kiosk-demo-1', 'kiosk-demo-2', 'kiosk-demo-3']);
      const late = (await api('/reports/late-today')) as { late: unknown[] };
      // the history has late check-ins for today once the morning is past (LAYANAN7 works every day)
      if (wib.getUTCHours() >= 10) expect(late.late.length).toBeGreaterThan(0);
      // a few live punches arrive, each with trusted time: none waits for review
      await new Promise((r) => setTimeout(r, 8000));
      const live = (await api('/punches?order=desc&limit=50&device=kiosk-demo-1')) as { items: { clockSynced: boolean; clockSource: string }[] };
      expect(live.items.length).toBeGreaterThan(0);
      for (const p of live.items) expect(p.clockSynced).toBe(true);
      expect(await api('/punches/pending')).toEqual([]);
      // exactly the demo's one alert fires
      let alerts: { items: { kind: string; deviceId: string }[] } = { items: [] };
      for (let i = 0; i < 60 && !alerts.items.length; i++) {
        alerts = (await api('/alerts?status=open')) as typeof alerts;
        if (!alerts.items.length) await new Promise((r) => setTimeout(r, 500));
      }
      expect(alerts.items.map((a) => [a.deviceId, a.kind])).toEqual([['kiosk-demo-3', 'temperature']]);
      // the first dashboard screen, as a newcomer sees it
      mkdirSync(SHOTS, { recursive: true });
      const browser = await chromium.launch({ executablePath: process.env.HADIR_CHROMIUM ?? '/usr/bin/chromium', args: ['--no-sandbox', '--headless'] });
      try {
        const page = await browser.newPage({ viewport: { width: 1366, height: 900 } });
        await page.goto(`${base}/`);
        await page.fill('input[name=username]', 'admin');
        await page.fill('input[name=password]', 'hadir-demo-2026');
        await page.click('button[type=submit]');
        await page.waitForSelector('.card:has-text("TPP bulan ini") .card-value:text-matches("^Rp [1-9]")');
        await page.screenshot({ path: join(SHOTS, 'demo-first-screen.png'), fullPage: true });
      } finally {
        await browser.close();
      }
      // stdout: the banner before any punch line, no wall of "Sudah tercatat"
      const lines = out.split('\n');
      const banner = lines.findIndex((l) => l.startsWith('Hadir demo berjalan'));
      const firstPunch = lines.findIndex((l) => /→ tersimpan di hub/.test(l));
      expect(banner).toBeGreaterThanOrEqual(0);
      expect(firstPunch).toBeGreaterThan(banner);
      expect(out).not.toMatch(/Sudah tercatat pukul/);
      expect(out).toMatch(/jam (hub ±\d+ ms|chrony)/);
    } finally {
      child.kill('SIGINT');
      await exited;
    }
    expect(out).toMatch(/Selesai \/ done: \d+ presensi kiosk/);
    expect(readdirSync(tmpRoot).filter((f) => f.startsWith('hadir-demo-'))).toEqual([]);
  }, 240_000);
});
