import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../e2e/harness.js';

const straced = spawnSync('sh', ['-c', 'command -v strace']).status === 0;

/**
 * A power cut right after an update's release is moved into place must not leave a release of
 * unwritten files: the updater flushes the staging tree's data (syncfs) before the rename. Seen
 * through strace on a real updater process (a power cut itself cannot be made on this machine).
 */
describe.skipIf(!straced)('updater: release data on disk before it is promoted', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hadir-promote-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('syncfs comes before the rename of the staging tree', () => {
    const staging = join(dir, 'releases', '.staging-2.0.0');
    mkdirSync(join(staging, 'bin'), { recursive: true });
    writeFileSync(join(staging, 'bin', 'hadir.mjs'), 'export {};\n');
    const trace = join(dir, 'strace.log');
    const script = `const { ReleaseDirs } = await import(${JSON.stringify(join(ROOT, 'kiosk/updater/releases.ts'))}); new ReleaseDirs(${JSON.stringify(dir)}).promote('2.0.0');`;
    const r = spawnSync('strace', ['-f', '-qq', '-e', 'trace=syncfs,rename,renameat,renameat2', '-o', trace, process.execPath, '--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', cwd: ROOT });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const lines = readFileSync(trace, 'utf8').split('\n');
    const promoted = lines.findIndex((l) => /rename.*\.staging-2\.0\.0"/.test(l));
    expect(promoted, 'the staging tree is renamed into place').toBeGreaterThan(0);
    expect(lines.slice(0, promoted).some((l) => /syncfs\(\d+\) += 0/.test(l)), 'syncfs before the rename').toBe(true);
  });
});
