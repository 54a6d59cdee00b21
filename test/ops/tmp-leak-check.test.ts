import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';

const REPO = join(import.meta.dirname, '..', '..');

/** The run-level check of test/global-setup.ts fails a run whose test leaves a temp folder, and still removes it. */
it('a test run that leaves a temp folder behind fails, naming it, and /tmp is clean afterwards', () => {
  const before = readdirSync(tmpdir());
  const r = spawnSync(process.execPath, [join(REPO, 'node_modules/vitest/vitest.mjs'), 'run', '--config', join(REPO, 'test/fixtures/tmp-leak/vitest.config.ts')], {
    cwd: REPO, encoding: 'utf8', timeout: 60_000, env: { ...process.env, CI: '1' },
  });
  const out = `${r.stdout}${r.stderr}`;
  expect(out).toMatch(/1 passed/); // the test itself passes …
  expect(out).toMatch(/tests left 1 temporary item\(s\) behind: hadir-leak-\w+/); // … the leak is named …
  expect(r.status, out).toBe(1); // … and fails the run
  // the nested run removed its folder (other test files of this run may make theirs meanwhile)
  expect(readdirSync(tmpdir()).filter((n) => !before.includes(n) && /^hadir-(testrun|leak)-/.test(n))).toEqual([]);
});
