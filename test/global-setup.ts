import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Every test run gets its own temporary directory (TMPDIR, inherited by the test workers and every
 * process they start), and at the end it must be empty: a test that leaves a folder or file behind
 * fails the run, naming what it left. The directory is removed either way, so /tmp stays clean
 * even after a failed run, and runs of other users or checkouts do not disturb the check.
 */
export default function setup(): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'hadir-testrun-'));
  // like /tmp, traversable by daemons that drop to their own user (Mosquitto, chronyd)
  chmodSync(dir, 0o711);
  const previous = { TMPDIR: process.env.TMPDIR, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR };
  process.env.TMPDIR = dir;
  // A login session's runtime dir, as systemd gives one: without it Chromium's audio (libpulse)
  // makes $TMPDIR/pulse-<random> whenever a page plays a sound, and leaves it there.
  const runtime = join(dir, 'xdg-runtime');
  mkdirSync(runtime, { mode: 0o700 });
  process.env.XDG_RUNTIME_DIR = runtime;
  return () => {
    for (const [k, v] of Object.entries(previous)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    // tsx-<uid>: the compile cache of tsx (every `hadir` child runs through it); xdg-runtime: above — made by design, not leaks
    const left = readdirSync(dir).filter((n) => !/^tsx-\d+$/.test(n) && n !== 'xdg-runtime');
    rmSync(dir, { recursive: true, force: true });
    if (left.length) {
      // A throw here is only printed by vitest ("error during close") and the run still exits 0.
      process.stderr.write(`\nFAIL test/global-setup.ts: tests left ${left.length} temporary item(s) behind: ${left.sort().join(', ')} — the test that makes each must remove it (afterAll/finally)\n`);
      process.exitCode = 1;
    }
  };
}
