import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, openSync, writeSync, fsyncSync, closeSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { UserError, isErrno } from '../lib/errors.js';

/**
 * The face model manifest (models/manifest.json) and the local model folder.
 * Weights are never committed: `hadir models fetch` fills the folder from a directory or URL and
 * checks every file's size and sha256 against the manifest; nothing replaces an installed file
 * until every file of the set has been verified.
 */

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export const modelEntrySchema = z.strictObject({
  id: z.string().min(1),
  role: z.enum(['detector', 'embedding', 'liveness']),
  file: z.string().regex(/^[A-Za-z0-9._-]+\.onnx$/),
  bytes: z.number().int().positive(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  source: z.strictObject({ repo: z.string(), commit: z.string(), path: z.string() }),
  licence: z.string(),
  input: z.record(z.string(), z.string()),
});
export type ModelEntry = z.infer<typeof modelEntrySchema>;
export const manifestSchema = z.strictObject({
  version: z.literal(1),
  note: z.string().optional(),
  models: z.array(modelEntrySchema).min(1),
});
export type ModelManifest = z.infer<typeof manifestSchema>;

export function loadManifest(path = join(REPO_ROOT, 'models', 'manifest.json')): ModelManifest {
  return manifestSchema.parse(JSON.parse(readFileSync(path, 'utf8')));
}

/** Model folder: HADIR_MODEL_DIR, else `models/onnx` in the repository (git-ignored). */
export function modelDir(explicit?: string): string {
  const d = explicit ?? process.env.HADIR_MODEL_DIR;
  if (d) return isAbsolute(d) ? d : resolve(d);
  return join(REPO_ROOT, 'models', 'onnx');
}

export async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

export type FileState = 'ok' | 'missing' | 'size' | 'sha256';
export interface VerifyRow {
  file: string;
  state: FileState;
  detail: string;
}

/** Checks every manifest file in `dir`: present, right size, right sha256. */
export async function verifyModels(dir = modelDir(), manifest = loadManifest()): Promise<VerifyRow[]> {
  const rows: VerifyRow[] = [];
  for (const e of manifest.models) {
    const p = join(dir, e.file);
    let size: number;
    try {
      size = statSync(p).size;
    } catch (err) {
      if (isErrno(err, 'ENOENT')) {
        rows.push({ file: e.file, state: 'missing', detail: `${p} not found` });
        continue;
      }
      throw err;
    }
    if (size !== e.bytes) {
      rows.push({ file: e.file, state: 'size', detail: `${size} bytes, expected ${e.bytes}` });
      continue;
    }
    const sha = await sha256File(p);
    rows.push(sha === e.sha256 ? { file: e.file, state: 'ok', detail: sha.slice(0, 16) } : { file: e.file, state: 'sha256', detail: `sha256 ${sha}, expected ${e.sha256}` });
  }
  return rows;
}

/** True when every model file is installed and intact (cheap size check only; `verifyModels` hashes). */
export function modelsPresent(dir = modelDir(), manifest = loadManifest()): boolean {
  return manifest.models.every((e) => {
    const p = join(dir, e.file);
    return existsSync(p) && statSync(p).size === e.bytes;
  });
}

export interface FetchOptions {
  /** A directory holding the files, or an http(s) base URL (file names appended). Default: each file's source repository at its pinned commit. */
  from?: string;
  dir?: string;
  manifest?: ModelManifest;
  progress?: (line: string) => void;
}

function isUrl(s: string): boolean {
  return /^https?:\/\//i.test(s);
}

function sourceUrl(e: ModelEntry): string {
  return `https://raw.githubusercontent.com/${e.source.repo}/${e.source.commit}/${e.source.path}`;
}

async function readSource(e: ModelEntry, from: string | undefined, progress: (l: string) => void): Promise<Buffer> {
  if (from && !isUrl(from)) {
    const p = join(resolve(from), e.file);
    try {
      return readFileSync(p);
    } catch (err) {
      if (isErrno(err, 'ENOENT')) throw new UserError(`model file ${e.file} is missing in ${resolve(from)}`, 'point --from at a folder holding all files of models/manifest.json (e.g. ../shared/models)');
      throw err;
    }
  }
  const url = from ? `${from.replace(/\/+$/, '')}/${e.file}` : sourceUrl(e);
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(10 * 60_000) }); // a stalled mirror must not hang provisioning
  } catch (err) {
    throw new UserError(`cannot download ${url}: ${(err as Error).message}`, 'check the network, or copy the files from a folder with --from DIR');
  }
  if (!res.ok || !res.body) throw new UserError(`cannot download ${url}: HTTP ${res.status}`, 'check the URL, or copy the files from a folder with --from DIR');
  const chunks: Buffer[] = [];
  let got = 0;
  let lastPct = -1;
  for await (const c of res.body as unknown as AsyncIterable<Uint8Array>) {
    chunks.push(Buffer.from(c));
    got += c.length;
    const pct = Math.floor((got / e.bytes) * 100);
    if (pct >= lastPct + 25 && pct <= 100) {
      lastPct = pct;
      progress(`  ${e.file}: ${pct}%`);
    }
  }
  return Buffer.concat(chunks);
}

function writeSynced(path: string, data: Buffer): void {
  const fd = openSync(path, 'w', 0o644);
  try {
    writeSync(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Fills the model folder. Every file is staged and verified first; only when the whole set is
 * good are they renamed into place, so a bad or missing file changes nothing.
 */
export async function fetchModels(opts: FetchOptions = {}): Promise<{ dir: string; installed: string[]; unchanged: string[] }> {
  const manifest = opts.manifest ?? loadManifest();
  const dir = modelDir(opts.dir);
  const progress = opts.progress ?? (() => {});
  mkdirSync(dir, { recursive: true });
  const stage = join(dir, `.staging-${process.pid}`);
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(stage);
  const installed: string[] = [];
  const unchanged: string[] = [];
  const staged: ModelEntry[] = [];
  try {
    const current = new Map((await verifyModels(dir, manifest)).map((r) => [r.file, r.state]));
    for (const e of manifest.models) {
      if (current.get(e.file) === 'ok') {
        progress(`  ${e.file.padEnd(44)} ${String(e.bytes).padStart(9)} B  ok (already installed)`);
        unchanged.push(e.file);
        continue;
      }
      const data = await readSource(e, opts.from, progress);
      if (data.length !== e.bytes) throw new UserError(`${e.file} from ${opts.from ?? e.source.repo} has ${data.length} bytes, the manifest expects ${e.bytes}`, 'the source holds a different or damaged file; get the file named in models/manifest.json');
      const sha = createHash('sha256').update(data).digest('hex');
      if (sha !== e.sha256) throw new UserError(`${e.file} from ${opts.from ?? e.source.repo} has sha256 ${sha}, the manifest expects ${e.sha256}`, 'the source holds a different or tampered file; get the file named in models/manifest.json');
      writeSynced(join(stage, e.file), data);
      staged.push(e);
      progress(`  ${e.file.padEnd(44)} ${String(e.bytes).padStart(9)} B  sha256 ok`);
    }
    for (const e of staged) {
      renameSync(join(stage, e.file), join(dir, e.file));
      installed.push(e.file);
    }
    const dfd = openSync(dir, 'r');
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
  return { dir, installed, unchanged };
}
