import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, fsyncSync, linkSync, copyFileSync, mkdirSync, openSync, readdirSync, readlinkSync, renameSync, rmSync, statSync, symlinkSync, unlinkSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';

/**
 * The release directory layout on a kiosk (provisioning's): <root>/releases/<version>/ and
 * <root>/current → releases/<version> (relative link). The link is switched by making a new link
 * and renaming it over the old one, so at every instant — power cut included — `current` names a
 * complete release.
 */
export class ReleaseDirs {
  constructor(readonly root: string) {}

  get releasesDir(): string {
    return join(this.root, 'releases');
  }
  get currentLink(): string {
    return join(this.root, 'current');
  }
  dir(version: string): string {
    return join(this.releasesDir, version);
  }
  staging(version: string): string {
    return join(this.releasesDir, `.staging-${version}`);
  }

  /** The release directory name `current` points at (null: no link yet). */
  current(): string | null {
    try {
      return basename(readlinkSync(this.currentLink));
    } catch {
      return null;
    }
  }

  /** Atomically points `current` at releases/<name>. */
  switchTo(name: string): void {
    if (!existsSync(join(this.dir(name), 'bin/hadir.mjs'))) throw new Error(`release ${name} is incomplete (no bin/hadir.mjs)`);
    const tmp = `${this.currentLink}.new-${process.pid}`;
    rmSync(tmp, { force: true });
    symlinkSync(join('releases', name), tmp);
    renameSync(tmp, this.currentLink);
    fsyncDir(this.root);
  }

  /**
   * Moves a verified staging tree into place (replacing a leftover of an earlier attempt). Its
   * files' data is flushed first: after a power cut the rename alone can survive with files that
   * were never written (zeros), and `current` would then point at a release that cannot start.
   */
  promote(version: string): void {
    syncFileSystem(this.staging(version));
    const dest = this.dir(version);
    if (existsSync(dest)) {
      if (this.current() === version) throw new Error(`release ${version} is the current one; refusing to replace it`);
      rmSync(dest, { recursive: true, force: true });
    }
    renameSync(this.staging(version), dest);
    fsyncDir(this.releasesDir);
  }

  /** Removes release directories except `keep`, and any staging leftovers. */
  prune(keep: (string | null | undefined)[]): string[] {
    const removed: string[] = [];
    if (!existsSync(this.releasesDir)) return removed;
    const k = new Set(keep.filter(Boolean) as string[]);
    for (const name of readdirSync(this.releasesDir)) {
      if (k.has(name)) continue;
      const p = join(this.releasesDir, name);
      if (!statSync(p).isDirectory()) continue;
      rmSync(p, { recursive: true, force: true });
      removed.push(name);
    }
    return removed;
  }

  /** Staging trees left by a killed updater (never current: only complete trees are renamed into place). */
  cleanStaging(): void {
    if (!existsSync(this.releasesDir)) return;
    for (const name of readdirSync(this.releasesDir)) if (name.startsWith('.staging-')) rmSync(join(this.releasesDir, name), { recursive: true, force: true });
  }
}

/** syncfs(2) on the file system holding `path` (coreutils `sync -f`: Node has no syncfs; one call instead of an fsync per file of a release). */
export function syncFileSystem(path: string): void {
  execFileSync('sync', ['-f', path], { stdio: 'ignore' });
}

export function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Face model weights are not in a bundle (fetched per kiosk, verified by `hadir models verify`):
 * a new release gets the previous one's by hard link (copy across file systems).
 */
export function carryModels(fromRelease: string, toRelease: string): number {
  const src = join(fromRelease, 'models/onnx');
  const dst = join(toRelease, 'models/onnx');
  if (!existsSync(src) || existsSync(dst)) return 0;
  let n = 0;
  const walk = (rel: string) => {
    const s = join(src, rel);
    const d = join(dst, rel);
    if (statSync(s).isDirectory()) {
      mkdirSync(d, { recursive: true });
      for (const e of readdirSync(s)) walk(join(rel, e));
      return;
    }
    try {
      linkSync(s, d);
    } catch {
      copyFileSync(s, d);
    }
    n++;
  };
  walk('');
  return n;
}

/** node_modules for bundles built without them (`--node-modules none`, tests only). */
export function linkNodeModules(release: string, dir: string): void {
  const p = join(release, 'node_modules');
  if (existsSync(p)) unlinkSync(p);
  symlinkSync(resolve(dir), p);
}
