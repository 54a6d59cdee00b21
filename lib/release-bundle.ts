import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { createReadStream, createWriteStream, mkdirSync, rmSync, symlinkSync, chmodSync } from 'node:fs';
import { dirname, join, normalize, posix } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { createGunzip, createGzip } from 'node:zlib';
import tar from 'tar-stream';
import { z } from 'zod';
import { canonicalBytes } from '../protocol/index.js';

/**
 * A release bundle: one gzip'd tar whose first entry is `manifest.json` (version, arch, minimum
 * hub version, journal schema version and the sha256 of every file), second `manifest.sig` (Ed25519
 * over the manifest's exact bytes, by the offline release key), then the app under `app/`.
 * Signature first, so a kiosk checks it before it writes a single byte of the app.
 */

export const RELEASE_ARCHES = ['arm64', 'x64'] as const;
export type ReleaseArch = (typeof RELEASE_ARCHES)[number];
export const VERSION_RE = /^[0-9A-Za-z][0-9A-Za-z.+-]{0,40}$/;

const rel = z
  .string()
  .min(1)
  .max(1000)
  .refine((p) => !p.startsWith('/') && !p.split('/').includes('..') && posix.normalize(p) === p, 'path must be relative, normalised, without ..');

export const manifestSchema = z.strictObject({
  format: z.literal(1),
  version: z.string().regex(VERSION_RE),
  arch: z.enum(RELEASE_ARCHES),
  /** 'bundled': node_modules for `arch` are inside; 'external': test bundles, the updater links a configured tree. */
  nodeModules: z.enum(['bundled', 'external']),
  minHubVersion: z.string().max(40),
  journalSchemaVersion: z.number().int().min(1),
  createdAt: z.string(),
  files: z.record(rel, z.strictObject({ sha256: z.string().regex(/^[0-9a-f]{64}$/), size: z.number().int().min(0), mode: z.number().int() })),
  links: z.record(rel, z.string().max(1000)).default({}),
});
export type ReleaseManifest = z.output<typeof manifestSchema>;

export class BundleError extends Error {
  override readonly name = 'BundleError';
}

// ------------------------------------------------------------------ keys

export function generateReleaseKeys(): { publicKeyPem: string; privateKeyPem: string } {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  return {
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

export function releasePublicKey(pem: string): KeyObject {
  const k = createPublicKey(pem);
  if (k.asymmetricKeyType !== 'ed25519') throw new BundleError('the release public key is not Ed25519');
  return k;
}

export function releasePrivateKey(pem: string): KeyObject {
  const k = createPrivateKey(pem);
  if (k.asymmetricKeyType !== 'ed25519') throw new BundleError('the release key is not Ed25519');
  return k;
}

/** Short fingerprint of a public key (shown by keygen, add and the kiosk's refusals). */
export function keyFingerprint(pubPem: string): string {
  return createHash('sha256').update(createPublicKey(pubPem).export({ type: 'spki', format: 'der' })).digest('hex').slice(0, 16);
}

// ------------------------------------------------------------------ writing

export interface BundleEntry {
  /** Path under app/ (posix). */
  path: string;
  /** File content source, or a symlink target. */
  file?: string;
  data?: Buffer;
  link?: string;
  mode: number;
}

async function sha256File(path: string): Promise<{ sha256: string; size: number }> {
  const h = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(path)) {
    h.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { sha256: h.digest('hex'), size };
}

/** The manifest of a set of entries (hashes every file). */
export async function manifestFor(entries: BundleEntry[], meta: Omit<ReleaseManifest, 'files' | 'links' | 'format' | 'createdAt'>): Promise<ReleaseManifest> {
  const files: ReleaseManifest['files'] = {};
  const links: ReleaseManifest['links'] = {};
  for (const e of [...entries].sort((a, b) => (a.path < b.path ? -1 : 1))) {
    if (e.link !== undefined) links[e.path] = e.link;
    else if (e.data) files[e.path] = { sha256: createHash('sha256').update(e.data).digest('hex'), size: e.data.length, mode: e.mode & 0o777 };
    else files[e.path] = { ...(await sha256File(e.file!)), mode: e.mode & 0o777 };
  }
  return manifestSchema.parse({ format: 1, createdAt: new Date().toISOString(), ...meta, files, links });
}

type EntryHeader = Partial<tar.Header> & { name: string };

/** Writes the bundle: manifest.json, manifest.sig (when a key is given), then app/… in manifest order. */
export async function writeBundle(out: string, manifest: ReleaseManifest, entries: BundleEntry[], key: KeyObject | null): Promise<void> {
  const pack = tar.pack();
  const manifestBytes = Buffer.from(JSON.stringify(manifest, null, 1) + '\n');
  const byPath = new Map(entries.map((e) => [e.path, e]));
  const tmp = `${out}.part`;
  mkdirSync(dirname(out), { recursive: true });
  const done = pipeline(pack, createGzip({ level: 6 }), createWriteStream(tmp));
  const add = (header: EntryHeader, body: Buffer = Buffer.alloc(0)) =>
    new Promise<void>((res, rej) => {
      pack.entry(header as tar.Header, body, (err) => (err ? rej(err) : res()));
    });
  await add({ name: 'manifest.json', mode: 0o644 }, manifestBytes);
  if (key) await add({ name: 'manifest.sig', mode: 0o644 }, Buffer.from(sign(null, manifestBytes, key).toString('base64') + '\n'));
  for (const path of Object.keys(manifest.links)) await add({ name: `app/${path}`, type: 'symlink', linkname: manifest.links[path]!, mode: 0o777 });
  for (const [path, f] of Object.entries(manifest.files)) {
    const e = byPath.get(path)!;
    if (e.data) {
      await add({ name: `app/${path}`, mode: f.mode, size: e.data.length }, e.data);
      continue;
    }
    await new Promise<void>((res, rej) => {
      const stream = pack.entry({ name: `app/${path}`, mode: f.mode, size: f.size } as tar.Header, (err) => (err ? rej(err) : res()));
      createReadStream(e.file!).on('error', rej).pipe(stream);
    });
  }
  pack.finalize();
  await done;
  const { renameSync } = await import('node:fs');
  renameSync(tmp, out);
}

// ------------------------------------------------------------------ reading / verifying

export interface VerifyOptions {
  publicKey: KeyObject;
  /** Extract verified files here (created; removed again when anything fails). Omit to only verify. */
  extractTo?: string;
  /** Refuse a bundle for another CPU. */
  arch?: ReleaseArch;
  /** Refuse a bundle that does not carry this version. */
  version?: string;
  /** Reading the signature but not requiring one (`release sign` re-signs an unsigned bundle). */
  allowUnsigned?: boolean;
}

export interface VerifiedBundle {
  manifest: ReleaseManifest;
  manifestBytes: Buffer;
  signed: boolean;
}

/**
 * Reads a bundle as a stream and checks, in order: the manifest signature (before any app byte is
 * looked at), arch and version, then every file's size and sha256 and that nothing is missing or
 * extra. With `extractTo`, files are written there while hashed; on any failure the directory is
 * removed, so a caller that renames it into place only ever sees a fully verified tree.
 */
export async function verifyBundle(bundle: string | Readable, o: VerifyOptions): Promise<VerifiedBundle> {
  const extract = tar.extract();
  let manifestBytes: Buffer | null = null;
  let manifest: ReleaseManifest | null = null;
  let signed = false;
  const seen = new Set<string>();
  const fail = (msg: string): never => {
    throw new BundleError(msg);
  };
  const collect = async (stream: AsyncIterable<unknown>): Promise<Buffer> => {
    const parts: Buffer[] = [];
    let n = 0;
    for await (const c of stream) {
      n += (c as Buffer).length;
      if (n > 64 * 1024 * 1024) fail('manifest larger than 64 MB');
      parts.push(c as Buffer);
    }
    return Buffer.concat(parts);
  };
  const requireManifest = (): ReleaseManifest => {
    if (manifest) return manifest;
    if (!manifestBytes) fail('bundle does not start with manifest.json');
    if (!signed && !o.allowUnsigned) fail('bundle is not signed (no manifest.sig): sign it with `hadir release sign`');
    let parsed: unknown;
    try {
      parsed = JSON.parse(manifestBytes!.toString('utf8'));
    } catch {
      fail('manifest.json is not JSON');
    }
    const r = manifestSchema.safeParse(parsed);
    if (!r.success) fail(`manifest.json is invalid: ${r.error.issues[0]?.path.join('.')}: ${r.error.issues[0]?.message}`);
    manifest = r.data!;
    if (o.arch && manifest.arch !== o.arch) fail(`bundle is for ${manifest.arch}, this machine is ${o.arch}`);
    if (o.version && manifest.version !== o.version) fail(`bundle carries version ${manifest.version}, expected ${o.version}`);
    return manifest;
  };
  const target = (p: string) => {
    const abs = normalize(join(o.extractTo!, p));
    if (!abs.startsWith(normalize(o.extractTo!) + '/')) fail(`path ${p} escapes the release directory`);
    return abs;
  };
  if (o.extractTo) mkdirSync(o.extractTo, { recursive: true });
  const work = (async () => {
    let index = 0;
    for await (const entry of extract) {
      const h = entry.header;
      const i = index++;
      if (i === 0) {
        if (h.name !== 'manifest.json') fail('bundle does not start with manifest.json');
        manifestBytes = await collect(entry);
        continue;
      }
      if (i === 1 && h.name === 'manifest.sig') {
        const sig = Buffer.from((await collect(entry)).toString('utf8').trim(), 'base64');
        let ok = false;
        try {
          ok = verify(null, manifestBytes!, o.publicKey, sig);
        } catch {
          ok = false;
        }
        if (!ok) fail('signature does not verify with the release public key (signed by another key, or the manifest was changed)');
        signed = true;
        requireManifest();
        continue;
      }
      const m = requireManifest();
      if (!h.name.startsWith('app/')) fail(`unexpected entry ${h.name}`);
      const path = h.name.slice(4);
      if (seen.has(path)) fail(`${path} appears twice`);
      seen.add(path);
      if (h.type === 'symlink') {
        const want = m.links[path];
        if (want === undefined || want !== h.linkname) fail(`symlink ${path} is not in the manifest`);
        if (want!.startsWith('/') || normalize(join(dirname(path), want!)).startsWith('..')) fail(`symlink ${path} points outside the release`);
        if (o.extractTo) {
          const t = target(path);
          mkdirSync(dirname(t), { recursive: true });
          symlinkSync(want!, t);
        }
        entry.resume();
        continue;
      }
      if (h.type !== 'file') fail(`${path}: entry type ${h.type} not allowed`);
      const f = m.files[path];
      if (!f) fail(`${path} is not in the manifest`);
      const hash = createHash('sha256');
      let size = 0;
      let out: ReturnType<typeof createWriteStream> | null = null;
      if (o.extractTo) {
        const t = target(path);
        mkdirSync(dirname(t), { recursive: true });
        out = createWriteStream(t, { mode: f!.mode });
      }
      for await (const c of entry) {
        hash.update(c as Buffer);
        size += (c as Buffer).length;
        if (out && !out.write(c)) await new Promise<void>((r) => out!.once('drain', () => r()));
      }
      if (out) {
        await new Promise<void>((res, rej) => out!.end((e?: Error | null) => (e ? rej(e) : res())));
        chmodSync(target(path), f!.mode);
      }
      const got = hash.digest('hex');
      if (size !== f!.size || got !== f!.sha256) fail(`${path}: sha256 ${got.slice(0, 12)}… does not match the manifest (${f!.sha256.slice(0, 12)}…)`);
    }
    const m = requireManifest();
    const missing = [...Object.keys(m.files), ...Object.keys(m.links)].filter((p) => !seen.has(p));
    if (missing.length) fail(`${missing.length} file(s) of the manifest missing, e.g. ${missing[0]}`);
  })();
  const src = typeof bundle === 'string' ? createReadStream(bundle) : bundle;
  try {
    await Promise.all([
      pipeline(src, createGunzip(), extract).catch((e: Error) => {
        throw e instanceof BundleError ? e : new BundleError(`bundle is not a readable tar.gz: ${e.message}`);
      }),
      work,
    ]);
  } catch (e) {
    src.destroy();
    extract.destroy();
    if (o.extractTo) rmSync(o.extractTo, { recursive: true, force: true });
    throw e instanceof BundleError ? e : new BundleError((e as Error).message);
  }
  return { manifest: manifest!, manifestBytes: manifestBytes!, signed };
}

/** Re-writes a bundle with a (new) signature: manifest.json, manifest.sig, then the same entries. */
export async function signBundle(input: string, output: string, key: KeyObject, publicKey: KeyObject): Promise<ReleaseManifest> {
  const extract = tar.extract();
  const pack = tar.pack();
  const tmp = `${output}.part`;
  const done = pipeline(pack, createGzip({ level: 6 }), createWriteStream(tmp));
  let manifest: ReleaseManifest | null = null;
  const reading = (async () => {
    let i = 0;
    for await (const entry of extract) {
      const h = entry.header;
      if (i++ === 0) {
        if (h.name !== 'manifest.json') throw new BundleError('bundle does not start with manifest.json');
        const parts: Buffer[] = [];
        for await (const c of entry) parts.push(c as Buffer);
        const bytes = Buffer.concat(parts);
        const r = manifestSchema.safeParse(JSON.parse(bytes.toString('utf8')));
        if (!r.success) throw new BundleError(`manifest.json is invalid: ${r.error.issues[0]?.message}`);
        manifest = r.data;
        await new Promise<void>((res, rej) => pack.entry({ name: 'manifest.json', mode: 0o644 } as tar.Header, bytes, (e) => (e ? rej(e) : res())));
        await new Promise<void>((res, rej) =>
          pack.entry({ name: 'manifest.sig', mode: 0o644 } as tar.Header, Buffer.from(sign(null, bytes, key).toString('base64') + '\n'), (e) => (e ? rej(e) : res())),
        );
        continue;
      }
      if (h.name === 'manifest.sig') {
        entry.resume();
        continue;
      }
      await new Promise<void>((res, rej) => {
        const s = pack.entry({ ...h }, (e) => (e ? rej(e) : res()));
        entry.pipe(s);
      });
    }
    pack.finalize();
  })();
  await Promise.all([pipeline(createReadStream(input), createGunzip(), extract), reading, done]);
  // the signature must verify with the matching public key before the bundle is handed out
  await verifyBundle(tmp, { publicKey });
  const { renameSync } = await import('node:fs');
  renameSync(tmp, output);
  return manifest!;
}

/** sha256 and size of a whole file (the hub's download integrity for resumed transfers). */
export async function fileDigest(path: string): Promise<{ sha256: string; size: number }> {
  return sha256File(path);
}

/** Canonical bytes of a value (re-exported for callers that sign small JSON documents). */
export { canonicalBytes };

/** Compares dotted versions numerically where possible ("0.10.0" > "0.9.1"). */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.+-]/);
  const pb = b.split(/[.+-]/);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? '0';
    const y = pb[i] ?? '0';
    const nx = Number(x);
    const ny = Number(y);
    const c = Number.isFinite(nx) && Number.isFinite(ny) ? nx - ny : x < y ? -1 : x > y ? 1 : 0;
    if (c !== 0) return Math.sign(c);
  }
  return 0;
}

/** The CPU of an ELF binary (a native module in node_modules tells which arch a tree was built for). */
export function elfArch(head: Buffer): ReleaseArch | 'other' | null {
  if (head.length < 20 || head.readUInt32BE(0) !== 0x7f454c46) return null;
  const machine = head.readUInt16LE(18);
  return machine === 0xb7 ? 'arm64' : machine === 0x3e ? 'x64' : 'other';
}

/** Writes `data` to a file through a stream (used for streamed bodies). */
export async function writeStreamToFile(body: Readable, path: string, flags: 'w' | 'a'): Promise<number> {
  let n = 0;
  await pipeline(
    body,
    async function* (src) {
      for await (const c of src) {
        n += (c as Buffer).length;
        yield c;
      }
    },
    createWriteStream(path, { flags }),
  );
  return n;
}
