import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { transform } from 'esbuild';

/**
 * The app as a kiosk runs it: TypeScript turned into JavaScript ahead of time. A checkout runs the
 * `.ts` sources through tsx's loader (no build step, nothing stale to forget); a release bundle and
 * the offline mirror's app ship the compiled `.js` instead, because on a Pi tsx costs seconds on
 * every restart and ~35–40 MB of memory (README, "Runtime"; `node bench/startup.mjs`).
 *
 * The compiler is esbuild's per-file transform, the same one tsx applies at run time, so a kiosk
 * runs the JavaScript a checkout runs. It needs no type information (types are checked by
 * `tsc --noEmit` in CI), hence no dev dependencies on the machine that builds for another CPU.
 * `X.ts` becomes `X.js` beside it (the sources already import `./X.js`), and `X.ts` is dropped:
 * a tree with no `cli/main.ts` is what tells `bin/hadir.mjs` to run without tsx, so there is never
 * an old `.js` next to a newer `.ts`.
 */

/** The app's source folders (what tsconfig.json includes, less the tests and their config). */
export const APP_SOURCE_DIRS = ['bin', 'cli', 'lib', 'protocol', 'face', 'clock', 'finger', 'bench', 'kiosk', 'hub', 'models'] as const;

/** True for a path (relative to the app root, `/`-separated) that a release ships compiled. */
export function isCompiledSource(path: string): boolean {
  if (!path.endsWith('.ts') || path.endsWith('.d.ts')) return false;
  const top = path.split('/')[0] ?? '';
  return path.includes('/') && (APP_SOURCE_DIRS as readonly string[]).includes(top) && !path.split('/').includes('node_modules');
}

/** `dir/X.ts` → `dir/X.js`. */
export const compiledPath = (path: string): string => path.slice(0, -'.ts'.length) + '.js';

/** One TypeScript file as the JavaScript Node runs (ESM, Node 20). */
export async function compileSource(source: string, path: string): Promise<string> {
  const r = await transform(source, {
    loader: 'ts',
    format: 'esm',
    platform: 'node',
    target: 'node20',
    sourcefile: path,
    // As tsconfig.json (target ES2022): class fields are defined, as under tsx and tsc.
    tsconfigRaw: { compilerOptions: { target: 'ES2022', useDefineForClassFields: true } },
  });
  return r.code;
}

function walk(root: string, dir: string, out: string[]): void {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules') continue;
    const abs = join(dir, name);
    if (statSync(abs).isDirectory()) walk(root, abs, out);
    else out.push(relative(root, abs).split('\\').join('/'));
  }
}

/** Compiles an app tree in place (the mirror's staging folder): every source `.ts` → `.js`, the `.ts` removed. */
export async function compileAppTree(root: string): Promise<{ files: number }> {
  const paths: string[] = [];
  for (const d of APP_SOURCE_DIRS) {
    try {
      walk(root, join(root, d), paths);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }
  const sources = paths.filter(isCompiledSource);
  for (const p of sources) {
    const abs = join(root, p);
    writeFileSync(join(root, compiledPath(p)), await compileSource(readFileSync(abs, 'utf8'), p), { mode: statSync(abs).mode & 0o777 });
    rmSync(abs);
  }
  return { files: sources.length };
}
