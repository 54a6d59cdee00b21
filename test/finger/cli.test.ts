import { execFile } from 'node:child_process';
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
  });
});
