import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateDeviceKeys } from '../../protocol/index.js';
import { formatChecklist, runSelftest } from '../../kiosk/health/selftest.js';

async function closedPort(): Promise<number> {
  return new Promise((res) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => res(p));
    });
  });
}

describe('kiosk self-test failure rows (what the technician sees)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hadir-selftest-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('unreadable-by-others config, hub down, MQTT down, missing devices: each FAIL names the fix', async () => {
    const port = await closedPort();
    const conf = join(dir, 'kiosk.json');
    writeFileSync(conf, JSON.stringify({
      deviceId: 'kiosk-st-1', siteCode: 'PKM-01-A', hubUrl: `http://127.0.0.1:${port}`, dataDir: dir,
      mqtt: { url: `mqtt://127.0.0.1:${port}`, username: 'kiosk-st-1', password: 'x' },
      privateKeyPem: generateDeviceKeys().privateKeyPem,
      face: { camera: { device: join(dir, 'video0') } },
      finger: { port: join(dir, 'serial0') },
      gpio: { enabled: false },
      clock: { chronyc: '/nonexistent/chronyc', timedatectl: '/nonexistent/timedatectl' },
    }));
    chmodSync(conf, 0o644);
    const { rows } = await runSelftest({ configPath: conf, timeoutMs: 2000 });
    const by = new Map(rows.map((r) => [r.id, r]));
    expect(by.get('config')).toMatchObject({ state: 'fail', fix: `chmod 600 ${conf}` });
    expect(by.get('disk')?.state).toBe('ok');
    expect(by.get('clock')).toMatchObject({ state: 'warn' });
    expect(by.get('hub')).toMatchObject({ state: 'fail' });
    expect(by.get('hub')!.detail).toMatch(/ECONNREFUSED/);
    expect(by.get('enrolment')?.state).toBe('skip');
    expect(by.get('mqtt')).toMatchObject({ state: 'fail' });
    expect(by.get('camera')).toMatchObject({ state: 'fail' });
    expect(by.get('camera')!.detail).toMatch(/ENOENT/);
    expect(by.get('finger')).toMatchObject({ state: 'fail' });
    expect(by.get('gpio')).toMatchObject({ state: 'skip' });
    expect(by.get('mqtt')!.fix).toMatch(/firewall/);
    const text = formatChecklist('kiosk-st-1', rows);
    expect(text).toMatch(/^\[GAGAL\/FAIL\]\s+Hub \(HTTP\): .*\n\s+→ periksa kabel\/Wi-Fi/m);
    expect(text).toMatch(/Hasil \/ result: \d+ OK, 1 peringatan\/warnings, 5 gagal\/failed/);
  });

  it('a broken config stops at the first row with a clear fix', async () => {
    const conf = join(dir, 'bad.json');
    writeFileSync(conf, '{"deviceId": "Bad Id"}');
    const { config, rows } = await runSelftest({ configPath: conf });
    expect(config).toBeNull();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ id: 'config', state: 'fail' });
    expect(rows[0]!.detail).toMatch(/deviceId/);
  });
});
