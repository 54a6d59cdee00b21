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

/**
 * True for a file in node_modules (path relative to node_modules, `/`-separated) that Node never
 * loads when the kiosk runs: source maps, type declarations, TypeScript sources, build info,
 * bundle-analyser pages and markdown — licence texts excepted, they ship. Measured on the arm64
 * mirror (2026-12-03): 245 MB of its 533 MB node_modules and 5,600 of its 20,500 files are these
 * (231 MB source maps, @tensorflow/tfjs's alone ~100 MB); a Pi downloads, verifies, unpacks and
 * keeps two releases of them for nothing.
 * Deliberately narrow, and by hand rather than a pruning library's default globs (tests/, docs/,
 * example/ …): a folder name says nothing about whether `require` reaches into it; a suffix does.
 */
export function isDevOnlyModuleFile(path: string): boolean {
  const base = path.slice(path.lastIndexOf('/') + 1);
  if (/\.(map|tsbuildinfo)$/.test(base) || /\.d\.[mc]?ts$/.test(base) || /\.min\.js\.html$/.test(base)) return true;
  if (/\.[mc]?ts$/.test(base)) return true; // Node 20 cannot run TypeScript: a package's src/*.ts is for its own build
  return /\.(md|markdown)$/i.test(base) && !/^(licen[cs]e|notice|copying|authors|third[-_]party)/i.test(base);
}

/** Removes isDevOnlyModuleFile() files from a node_modules tree in place. */
export function pruneNodeModules(dir: string): { files: number; bytes: number } {
  const out = { files: 0, bytes: 0 };
  const visit = (abs: string, rel: string): void => {
    for (const e of readdirSync(abs, { withFileTypes: true })) {
      const a = join(abs, e.name);
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) visit(a, r);
      else if (e.isFile() && isDevOnlyModuleFile(r)) {
        out.bytes += statSync(a).size;
        out.files++;
        rmSync(a);
      }
    }
  };
  visit(dir, '');
  return out;
}
