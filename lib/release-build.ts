import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, openSync, readFileSync, readSync, closeSync, readdirSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import type { KeyObject } from 'node:crypto';
import { UserError } from './errors.js';
import { RELEASE_ARCHES, VERSION_RE, elfArch, manifestFor, writeBundle, type BundleEntry, type ReleaseArch, type ReleaseManifest } from './release-bundle.js';
import { journalSchemaVersion, readJournalMigrations } from './journal-schema.js';
import { compiledPath, compileSource, isCompiledSource, isDevOnlyModuleFile } from './app-compile.js';

/**
 * `hadir release build`: turns an app tree into a bundle. Sources: a git checkout (the files git
 * tracks plus untracked, not ignored ones: the working tree as it is), an unpacked tree, or the
 * offline mirror's `app/hadir-app.tar.gz` (git HEAD + `npm ci --omit=dev` made on an arm64 machine).
 * node_modules come from the tree, from `--node-modules DIR` (prepared for another CPU), or not at
 * all (`none`: test bundles, the updater links a configured tree instead).
 */

export interface BuildOptions {
  version: string;
  /** An app directory … */
  appDir?: string;
  /** … or the mirror's app tarball. */
  appTarball?: string;
  /** Directory to take node_modules from; 'none' for a bundle without them. Default: the app's own. */
  nodeModules?: string | 'none';
  arch?: ReleaseArch;
  minHubVersion?: string;
  out: string;
  key: KeyObject | null;
}

/** Never shipped to a kiosk: tests, CI files, VCS data, local state and weights (fetched per kiosk). */
const EXCLUDE = [/^test\//, /^vitest\.config\.ts$/, /^\.dependency-cruiser\.cjs$/, /^\.git(\/|$)/, /^\.ci\//, /^data\//, /^models\/onnx\//, /^node_modules\//, /\.tmp-\d+$/];

function walk(root: string, dir: string, out: string[]): void {
  for (const name of readdirSync(dir)) {
    const abs = join(dir, name);
    const st = lstatSync(abs);
    if (st.isDirectory()) walk(root, abs, out);
    else if (st.isFile() || st.isSymbolicLink()) out.push(relative(root, abs));
  }
}

function appFiles(appDir: string): string[] {
  if (existsSync(join(appDir, '.git'))) {
    const out = execFileSync('git', ['-C', appDir, 'ls-files', '-z', '--cached', '--others', '--exclude-standard'], { maxBuffer: 64 * 1024 * 1024 }).toString('utf8');
    return out.split('\0').filter((p) => p && existsSync(join(appDir, p)));
  }
  const all: string[] = [];
  walk(appDir, appDir, all);
  return all;
}

/** A source file as the kiosk runs it: compiled to JavaScript (lib/app-compile.ts). */
async function compiledEntry(root: string, path: string): Promise<BundleEntry> {
  const abs = join(root, path);
  return { path: compiledPath(path), data: Buffer.from(await compileSource(readFileSync(abs, 'utf8'), path)), mode: lstatSync(abs).mode & 0o777 };
}

function entry(root: string, path: string, prefix = ''): BundleEntry {
  const abs = join(root, path);
  const st = lstatSync(abs);
  const p = prefix + path.split('\\').join('/');
  if (st.isSymbolicLink()) return { path: p, link: readlinkSync(abs), mode: 0o777 };
  return { path: p, file: abs, mode: st.mode & 0o777 };
}

/** The CPU a node_modules tree was built for, from its first native module (null: none found). */
export function nodeModulesArch(dir: string): ReleaseArch | 'other' | null {
  const candidates = ['better-sqlite3/build/Release/better_sqlite3.node', 'sodium-native/build/Release/sodium.node'];
  for (const c of candidates) {
    const p = join(dir, c);
    if (!existsSync(p)) continue;
    const fd = openSync(p, 'r');
    const head = Buffer.alloc(20);
    try {
      readSync(fd, head, 0, 20, 0);
    } finally {
      closeSync(fd);
    }
    return elfArch(head);
  }
  return null;
}

export async function buildRelease(o: BuildOptions): Promise<{ manifest: ReleaseManifest; out: string; files: number }> {
  if (!VERSION_RE.test(o.version)) throw new UserError(`--version ${JSON.stringify(o.version)} is not a valid version`, 'use e.g. 1.4.0 (letters, digits, . + -)');
  if (!!o.appDir === !!o.appTarball) throw new UserError('give exactly one of --app DIR or --app-tarball FILE', 'e.g. --app . (this checkout) or --app-tarball /media/usb/hadir-mirror/app/hadir-app.tar.gz');
  let tmp: string | null = null;
  try {
    let appDir = o.appDir!;
    if (o.appTarball) {
      if (!existsSync(o.appTarball)) throw new UserError(`--app-tarball ${o.appTarball} does not exist`, 'make it with provisioning/make-mirror.sh');
      tmp = mkdtempSync(join(tmpdir(), 'hadir-release-'));
      try {
        execFileSync('tar', ['-xzf', o.appTarball, '-C', tmp], { stdio: ['ignore', 'ignore', 'pipe'] });
      } catch (e) {
        throw new UserError(`--app-tarball ${o.appTarball} could not be unpacked: ${String((e as { stderr?: Buffer }).stderr ?? e).trim().slice(0, 200)}`, 'copy it again from the mirror');
      }
      appDir = tmp;
    }
    if (!existsSync(join(appDir, 'package.json')) || !existsSync(join(appDir, 'bin/hadir.mjs'))) {
      throw new UserError(`${o.appDir ?? o.appTarball} is not a Hadir app tree (no package.json / bin/hadir.mjs)`, 'point --app at a checkout or --app-tarball at the mirror\'s app/hadir-app.tar.gz');
    }
    // A checkout's TypeScript is compiled on the way in; a tree that is already compiled (the
    // mirror's app tarball) goes in as it is.
    const entries = await Promise.all(
      appFiles(appDir)
        .filter((p) => !EXCLUDE.some((re) => re.test(p)) && p !== 'package.json')
        .map((p) => (isCompiledSource(p) ? compiledEntry(appDir, p) : entry(appDir, p))),
    );
    const seen = new Set<string>();
    for (const e of entries) {
      if (seen.has(e.path)) throw new UserError(`${e.path} is both a source file's output and a file of its own in ${o.appDir ?? o.appTarball}`, `remove the stray ${e.path} (left by a compiler run in the checkout?)`);
      seen.add(e.path);
    }
    // The version the kiosk reports (health, MQTT birth) is the package's: the bundle carries V.
    const pkg = JSON.parse(readFileSync(join(appDir, 'package.json'), 'utf8')) as { version: string };
    pkg.version = o.version;
    entries.push({ path: 'package.json', data: Buffer.from(JSON.stringify(pkg, null, 2) + '\n'), mode: 0o644 });

    let nodeModules: 'bundled' | 'external' = 'bundled';
    let arch = o.arch;
    if (o.nodeModules === 'none') {
      nodeModules = 'external';
      arch ??= process.arch as ReleaseArch;
    } else {
      const nm = o.nodeModules ?? join(appDir, 'node_modules');
      if (!existsSync(nm) || !statSync(nm).isDirectory()) {
        throw new UserError(`no node_modules at ${nm}`, 'give --node-modules DIR (prepared with `npm ci --omit=dev` on the target CPU) or --node-modules none for a test bundle');
      }
      const found = nodeModulesArch(nm);
      if (found === 'other') throw new UserError(`node_modules at ${nm} is built for a CPU Hadir does not ship`, 'build it on arm64 (Raspberry Pi) or x64');
      if (arch && found && found !== arch) throw new UserError(`--arch ${arch} but node_modules at ${nm} is built for ${found}`, `use --arch ${found} or node_modules built on ${arch}`);
      arch ??= found ?? undefined;
      if (!arch) throw new UserError(`cannot tell which CPU node_modules at ${nm} is for`, 'pass --arch arm64|x64');
      const nmFiles: string[] = [];
      walk(nm, nm, nmFiles);
      for (const p of nmFiles) if (!isDevOnlyModuleFile(p)) entries.push(entry(nm, p, 'node_modules/'));
    }
    if (!arch || !(RELEASE_ARCHES as readonly string[]).includes(arch)) throw new UserError(`--arch ${arch} is not supported`, 'use arm64 or x64');
    const manifest = await manifestFor(entries, {
      version: o.version,
      arch,
      nodeModules,
      minHubVersion: o.minHubVersion ?? '0.0.0',
      journalSchemaVersion: journalSchemaVersion(readJournalMigrations(appDir)),
    });
    await writeBundle(o.out, manifest, entries, o.key);
    return { manifest, out: o.out, files: entries.length };
  } finally {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  }
}
