import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, statSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startHub } from '../../hub/server.js';
import { kioskConfigSchema } from '../../kiosk/config.js';
import { hadir, rand, seedOrg, tmp } from './harness.js';

/** The kiosk commands as an admin/technician uses them, against the real hub; bad input → one clear line. */
const closers: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of closers.reverse()) await c();
});

describe('hadir kiosk commands', () => {
  it('enroll: key made here, config 0600 valid; a used or unknown token changes nothing', async () => {
    const dir = tmp('cli');
    const hubDir = join(dir, 'hub');
    const site = `S-${rand(2)}`.toUpperCase();
    seedOrg(hubDir, site, 0); // a site with nobody in it
    const hub = await startHub({ httpPort: 0, httpHost: '127.0.0.1', mqttPort: 0, mqttHost: '127.0.0.1', dataDir: hubDir, defaultMetrics: false });
    closers.push(() => hub.close());
    const add = await hadir(['device', 'add', '--site', site, '--id', 'kiosk-cli-1', '--data', hubDir]);
    expect(add.code, add.stderr).toBe(0);
    const token = add.stdout.trim().split('\n').pop()!.trim();
    const out = join(dir, 'kiosk.json');
    const ok = await hadir(['kiosk', 'enroll', '--hub', hub.publicUrl, '--token', token, '--out', out, '--data', join(dir, 'kdata')]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain('kiosk-cli-1');
    expect(statSync(out).mode & 0o777).toBe(0o600);
    const cfg = kioskConfigSchema.parse(JSON.parse(readFileSync(out, 'utf8')));
    expect(cfg).toMatchObject({ deviceId: 'kiosk-cli-1', siteCode: site, dataDir: join(dir, 'kdata') });
    expect(cfg.privateKeyPem).toContain('PRIVATE KEY');

    const out2 = join(dir, 'kiosk2.json');
    const reused = await hadir(['kiosk', 'enroll', '--hub', hub.publicUrl, '--token', token, '--out', out2]);
    expect(reused.code).not.toBe(0);
    expect(reused.stderr.trim().split('\n')).toHaveLength(1);
    expect(reused.stderr).toMatch(/^hadir: the hub refused enrolment \(HTTP 409\)/);
    expect(existsSync(out2)).toBe(false);
    const unknown = await hadir(['kiosk', 'enroll', '--hub', hub.publicUrl, '--token', 'not-a-token', '--out', out2]);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toMatch(/^hadir: the hub refused enrolment \(HTTP 40\d\)/);
    expect(existsSync(out2)).toBe(false);

    // An empty roster: a bounded simulate run refuses clearly instead of waiting forever.
    writeFileSync(out, JSON.stringify({ ...JSON.parse(readFileSync(out, 'utf8')), screen: { port: 0 }, face: { enabled: false }, finger: { enabled: false } }), { mode: 0o600 });
    const sim = await hadir(['kiosk', '--config', out, '--simulate', '--punches', '5']);
    expect(sim.code).not.toBe(0);
    expect(sim.stderr).toMatch(/hadir: the roster for site .* is empty/);
    // The journal exists now (empty) and can be listed.
    const j = await hadir(['kiosk', 'journal', '--config', out, '--format', 'csv']);
    expect(j.code, j.stderr).toBe(0);
    expect(j.stdout.trim()).toBe('seq,id,nip,method,capturedAt,clockSynced,clockSource,score,journaledAt,delivered,deliveredAt,rejectedReason');
  }, 120_000);

  it('bad input: one line naming the problem and the fix', async () => {
    const dir = tmp('clibad');
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"deviceId": "Not Valid"');
    const r1 = await hadir(['kiosk', '--config', bad]);
    expect(r1.code).toBe(2);
    expect(r1.stderr).toMatch(/^hadir: .*bad\.json is not valid JSON.* — /);
    const r2 = await hadir(['kiosk', 'journal', '--config', join(dir, 'missing.json')]);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toMatch(/^hadir: config file .*missing\.json does not exist — /);
    const r3 = await hadir(['kiosk', 'journal', '--format', 'xml'], { HADIR_KIOSK_CONFIG: bad });
    expect(r3.stderr).toMatch(/^hadir: --format xml is not supported — use --format json or csv/);
    for (const r of [r1, r2, r3]) expect(r.stderr.trim().split('\n')).toHaveLength(1);
  }, 120_000);

  it('bench journal prints a summary and a last-line JSON object', async () => {
    const r = await hadir(['bench', 'journal', '--count', '200']);
    expect(r.code, r.stderr).toBe(0);
    const last = JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, number>;
    expect(last.append_p50_ms).toBeGreaterThan(0);
    expect(last.append_p99_ms).toBeGreaterThanOrEqual(last.append_p50_ms!);
    expect(last.count).toBe(200);
  }, 120_000);

  it('demo: hub + three simulated kiosks on sample data, punches printed as the hub stores them', async () => {
    const r = await hadir(['demo', '--duration', '6', '--rate', '2', '--data', tmp('demo')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/dasbor\s+http:\/\/localhost:\d+\//);
    expect(r.stdout.match(/layar\s+http:\/\/127\.0\.0\.1:\d+\//g)).toHaveLength(3);
    const stored = r.stdout.split('\n').filter((l) => l.includes('tersimpan di hub / stored'));
    expect(stored.length).toBeGreaterThan(3);
    expect(stored.some((l) => l.includes('kiosk-demo-1')) && stored.some((l) => l.includes('kiosk-demo-2'))).toBe(true);
    const total = Number(/Selesai \/ done: (\d+) presensi kiosk/.exec(r.stdout)?.[1]);
    expect(total).toBeGreaterThanOrEqual(stored.length);
  }, 240_000); // imports a month of sample history first
});
