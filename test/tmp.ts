import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Temporary folders of the test helpers: each is removed after the test file that made it
 * (test/setup-file.ts registers removeTmpDirs as the file's last afterAll, so a hub or kiosk the
 * file stops in its own afterAll is down by then). test/global-setup.ts fails the run if anything
 * made some other way is left behind.
 */
const made = new Set<string>();

export function makeTmpDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.add(dir);
  return dir;
}

export function removeTmpDirs(): void {
  for (const dir of made) rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  made.clear();
}
