import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileAppTree, isCompiledSource } from '../../lib/app-compile.js';

/** The ahead-of-time compile a release ships (lib/app-compile.ts): what is compiled, and that the result runs as tsx ran it. */
describe('app compile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hadir-compile-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('compiles the app folders only: not tests, declarations, node_modules or root config', () => {
    expect(isCompiledSource('kiosk/app.ts')).toBe(true);
    expect(isCompiledSource('hub/store/open.ts')).toBe(true);
    expect(isCompiledSource('test/kiosk/app.test.ts')).toBe(false);
    expect(isCompiledSource('vitest.config.ts')).toBe(false);
    expect(isCompiledSource('lib/types.d.ts')).toBe(false);
    expect(isCompiledSource('hub/node_modules/x/index.ts')).toBe(false);
    expect(isCompiledSource('hub/web/public/js/main.js')).toBe(false);
  });

  it('turns X.ts into X.js in place, drops the source, and the result runs under plain node', () => {
    const root = join(dir, 'app');
    mkdirSync(join(root, 'lib'), { recursive: true });
    mkdirSync(join(root, 'test'), { recursive: true });
    writeFileSync(join(root, 'package.json'), '{ "type": "module" }\n');
    // A type-only import without `import type` (elided as tsx elides it: a runtime import of
    // ./types.js would fail, there is no such file), a parameter property and a class field.
    writeFileSync(join(root, 'lib', 'types.ts'), 'export interface Punch { seq: number }\n');
    writeFileSync(
      join(root, 'lib', 'main.ts'),
      [
        "import { Punch } from './types.js';",
        "import { double } from './math.js';",
        'class Counter { n: number = 1; constructor(private readonly step: number) {} next(): number { return (this.n += this.step); } }',
        'const p: Punch = { seq: double(21) };',
        'console.log(JSON.stringify({ seq: p.seq, next: new Counter(2).next(), own: Object.keys(new Counter(1)).sort() }));',
      ].join('\n'),
      { mode: 0o755 },
    );
    writeFileSync(join(root, 'lib', 'math.ts'), 'export const double = (x: number): number => x * 2;\n');
    writeFileSync(join(root, 'test', 'main.test.ts'), 'const x: number = 1;\n');

    expect(existsSync(join(root, 'lib', 'main.js'))).toBe(false);
    return compileAppTree(root).then((r) => {
      expect(r.files).toBe(3);
      expect(existsSync(join(root, 'lib', 'main.ts'))).toBe(false);
      expect(existsSync(join(root, 'lib', 'main.js'))).toBe(true);
      expect(existsSync(join(root, 'test', 'main.test.ts'))).toBe(true); // tests are left alone
      expect(readFileSync(join(root, 'lib', 'main.js'), 'utf8')).not.toContain('./types.js');
      const run = spawnSync(process.execPath, [join(root, 'lib', 'main.js')], { encoding: 'utf8' });
      expect(run.stderr).toBe('');
      expect(JSON.parse(run.stdout)).toEqual({ seq: 42, next: 3, own: ['n', 'step'] });
    });
  });
});
