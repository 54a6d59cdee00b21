import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTmpDir } from '../tmp.js';

/** A throwaway root with systemd's own units and the ExecStart binaries of our units. */
export function unitTestRoot(root = makeTmpDir('hadir-units-')): string {
  cpSync('/usr/lib/systemd/system', join(root, 'usr/lib/systemd/system'), { recursive: true, verbatimSymlinks: true });
  mkdirSync(join(root, 'etc/systemd/system'), { recursive: true });
  for (const bin of ['opt/hadir/node/bin/node', 'usr/bin/cage', 'usr/bin/chromium']) {
    mkdirSync(join(root, bin, '..'), { recursive: true });
    writeFileSync(join(root, bin), '#!/bin/sh\nexit 0\n');
    chmodSync(join(root, bin), 0o755);
  }
  return root;
}

export function verifyUnits(root: string, units: string[]): { status: number | null; output: string } {
  const r = spawnSync('systemd-analyze', ['verify', `--root=${root}`, ...units.map((u) => `/etc/systemd/system/${u}`)], { encoding: 'utf8' });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

