import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { FingerSensor } from '../../kiosk/finger/driver.js';
import { openSerial } from '../../kiosk/finger/transport.js';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const hadir = (...args: string[]) => run(process.execPath, ['bin/hadir.mjs', ...args], { cwd: process.cwd(), env: { ...process.env, HADIR_LOG_LEVEL: 'warn' } });

describe('finger CLI', () => {
  it('hadir bench finger: summary, then one JSON line with commands_per_s, line_limit_per_s, ratio', async () => {
    const { stdout } = await hadir('bench', 'finger', '--seconds', '1');
    const lines = stdout.trim().split('\n');
    const last = JSON.parse(lines.at(-1)!) as Record<string, number>;
    expect(last.line_limit_per_s).toBeCloseTo(57600 / 10 / last.bytes_per_command!, 0);
    expect(last.commands_per_s).toBeGreaterThan(0);
    // Paced to the line, the stack can approach but never beat the wire.
    expect(last.ratio).toBeGreaterThan(0); // the figure itself is load-dependent; the lead re-measures
    expect(last.ratio).toBeLessThanOrEqual(1.0);
    expect(lines.length).toBeGreaterThan(2);
  });

  it('bad input is one clear line and a non-zero exit', async () => {
    const e1 = await hadir('bench', 'finger', '--seconds', 'x').catch((e: { code: number; stderr: string }) => e);
    expect(e1).toMatchObject({ code: 2, stderr: expect.stringMatching(/^hadir: --seconds must be a positive number/) });
    const e2 = await hadir('finger', 'sim', 'place', '--socket', '/tmp/hadir-no-such.sock', '--nip', '1').catch((e: { code: number; stderr: string }) => e);
    expect(e2).toMatchObject({ code: 2, stderr: expect.stringContaining('no simulated fingerprint sensor') });
    const e3 = await hadir('finger', 'probe', '--port', '/dev/ttyHADIR-missing').catch((e: { code: number; stderr: string }) => e);
    expect(e3).toMatchObject({ code: 2, stderr: expect.stringContaining('cannot open /dev/ttyHADIR-missing') });
    expect((e3 as { stderr: string }).stderr.trim().split('\n')).toHaveLength(1);
    const e4 = await hadir('finger', 'emulate', '--packet-size', '100').catch((e: { code: number; stderr: string }) => e);
    expect(e4).toMatchObject({ code: 2, stderr: expect.stringMatching(/^hadir: --packet-size must be one of 32, 64, 128, 256/) });
    const e5 = await hadir('finger', 'emulate', '--address', '0x1FFFFFFFF').catch((e: { code: number; stderr: string }) => e);
    expect(e5).toMatchObject({ code: 2, stderr: expect.stringMatching(/^hadir: --address must be a 32-bit number/) });
  });

  it('hadir finger emulate --address --password --packet-size: the module a client meets has them', async () => {
    const child = spawn(process.execPath, ['bin/hadir.mjs', 'finger', 'emulate', '--address', '0x0A0B0C0D', '--password', '77', '--packet-size', '32'], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const [line] = (await once(child.stdout, 'data')) as [Buffer];
      const { port } = JSON.parse(line.toString().split('\n')[0]!) as { port: string };
      const sensor = new FingerSensor(await openSerial(port, 57600), { address: 0x0a0b0c0d, password: 77, timeoutMs: 1000 });
      try {
        await expect(sensor.templateCount()).rejects.toMatchObject({ code: 'PASSWORD_REQUIRED' });
        await expect(sensor.verifyPassword(78)).rejects.toMatchObject({ code: 'WRONG_PASSWORD' });
        await sensor.verifyPassword();
        expect(await sensor.readSysParams()).toMatchObject({ address: 0x0a0b0c0d, packetSize: 32 });
      } finally {
        await sensor.close();
      }
    } finally {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  });
});
