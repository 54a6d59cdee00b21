import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { makeTmpDir } from '../tmp.js';

/**
 * The import graph (issue 10), checked with dependency-cruiser and the rules in
 * .dependency-cruiser.cjs: no hub file imports kiosk/, no kiosk file imports hub/, both import only
 * themselves, the shared packages (protocol/, face/, clock/, finger/, lib/, models/) and
 * node_modules, and the shared packages import neither side.
 */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CONFIG = join(ROOT, '.dependency-cruiser.cjs');
const DEPCRUISE = join(ROOT, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs');
const CHECKED = ['hub', 'kiosk', 'protocol', 'face', 'clock', 'finger', 'lib', 'models'];

interface Violation {
  from: string;
  to: string;
  rule: { name: string };
}
interface CruiseResult {
  modules: { source: string; dependencies: { resolved: string; couldNotResolve: boolean }[] }[];
  summary: { violations: Violation[]; totalCruised: number };
}

function cruise(cwd: string, dirs: string[]): CruiseResult {
  const r = spawnSync(process.execPath, [DEPCRUISE, '--config', CONFIG, '--output-type', 'json', ...dirs], { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (!r.stdout) throw new Error(`depcruise failed (exit ${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout) as CruiseResult;
}

const named = (v: Violation[]) => v.map((x) => `${x.rule.name}: ${x.from} → ${x.to}`).sort();

describe('import graph: the hub and the kiosk meet only in shared packages', () => {
  it('the real tree has no violations (each one is listed by rule, importer and imported file)', () => {
    const r = cruise(ROOT, CHECKED);
    expect(named(r.summary.violations)).toEqual([]);
    // The rules saw real, resolved edges (a cruise that resolved nothing would also find no violations).
    expect(r.summary.totalCruised).toBeGreaterThan(200);
    const faceModule = r.modules.find((m) => m.source === 'hub/biometrics/face-module.ts');
    expect(faceModule?.dependencies.map((d) => d.resolved)).toContain('face/quality.ts');
    const app = r.modules.find((m) => m.source === 'kiosk/app.ts');
    expect(app?.dependencies.map((d) => d.resolved)).toContain('protocol/index.ts');
  }, 120_000);

  it('flags a hub file importing the kiosk (static, dynamic and type-only), a kiosk file importing the hub or a tool, and a shared package importing a side', () => {
    const dir = makeTmpDir('hadir-depcruise-');
    const put = (p: string, text: string) => {
      mkdirSync(dirname(join(dir, p)), { recursive: true });
      writeFileSync(join(dir, p), text);
    };
    copyFileSync(join(ROOT, 'tsconfig.json'), join(dir, 'tsconfig.json'));
    put('kiosk/journal.ts', "import { startHub } from '../hub/server.js';\nexport const journal = startHub;\n");
    put('kiosk/app.ts', "import { main } from '../cli/main.js';\nimport { x } from '../protocol/index.js';\nexport const app = [main, x];\n");
    put('hub/server.ts', "import { journal } from '../kiosk/journal.js';\nexport const startHub = () => journal;\n");
    put('hub/face.ts', "export async function load() {\n  return (await import('../kiosk/app.js')).app;\n}\n");
    put('hub/types.ts', "import type { Thing } from '../kiosk/types.js';\nexport type T = Thing;\n");
    put('kiosk/types.ts', 'export interface Thing { a: number }\n');
    put('cli/main.ts', 'export const main = 1;\n');
    put('protocol/index.ts', "import { app } from '../kiosk/app.js';\nexport const x = app;\n");
    const r = cruise(dir, ['hub', 'kiosk', 'protocol']);
    expect(named(r.summary.violations)).toEqual([
      'hub-imports-kiosk: hub/face.ts → kiosk/app.ts',
      'hub-imports-kiosk: hub/server.ts → kiosk/journal.ts',
      'hub-imports-kiosk: hub/types.ts → kiosk/types.ts',
      'hub-imports-outside-shared: hub/face.ts → kiosk/app.ts',
      'hub-imports-outside-shared: hub/server.ts → kiosk/journal.ts',
      'hub-imports-outside-shared: hub/types.ts → kiosk/types.ts',
      'kiosk-imports-hub: kiosk/journal.ts → hub/server.ts',
      'kiosk-imports-outside-shared: kiosk/app.ts → cli/main.ts',
      'kiosk-imports-outside-shared: kiosk/journal.ts → hub/server.ts',
      'shared-imports-a-side: protocol/index.ts → kiosk/app.ts',
    ]);
  }, 120_000);
});
