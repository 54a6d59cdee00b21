import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { createRequire } from 'node:module';
import canonicalize from 'canonicalize';

/**
 * One Ed25519 check: the punch message's JSON text (already schema-checked, so it holds exactly
 * the punch fields) and the device's SPKI PEM. The signed bytes are the RFC 8785 canonical JSON of
 * every field but `sig` (protocol/signing.ts); building them is part of the work moved off-thread.
 */
export interface VerifyItem {
  json: string;
  pem: string;
}

/** Signature results and, for each valid punch, its chain hash (hex sha256 of the signed bytes; null when invalid). */
export interface Verified {
  ok: boolean[];
  hashes: (string | null)[];
}

export interface Verifier {
  verifyMany(items: VerifyItem[]): Promise<boolean[]>;
  /** verifyMany plus the chain hash of each valid punch, computed next to the signature check (ingest's hash-chain check). */
  verifyManyHashed(items: VerifyItem[]): Promise<Verified>;
  close(): Promise<void>;
}

/**
 * Ed25519 verification backend. libsodium (sodium-native) verifies 1.65× faster than OpenSSL
 * through node:crypto on the same core (21,400 vs 13,100 per second, measured here), and
 * verification is the largest cost of ingest. Both implement RFC 8032; libsodium is the stricter
 * (it also refuses small-order keys and non-canonical encodings), and
 * test/hub/verify-backends.test.ts checks they agree on valid, tampered and foreign-key
 * signatures. Signing (protocol/signing.ts, the kiosk) stays on node:crypto. The code is plain
 * CommonJS (ed25519-verify.cjs) so worker threads run it without a TypeScript loader.
 */
export type VerifyBackend = 'sodium' | 'openssl';

interface VerifyCore {
  loadSodium(): unknown;
  makeVerifyOne(sodium: unknown, canonicalize: (v: unknown) => string | undefined): (it: VerifyItem) => boolean;
  makeVerifyHashOne(sodium: unknown, canonicalize: (v: unknown) => string | undefined): (it: VerifyItem, out: Buffer | null, at: number) => boolean;
}
const core = createRequire(import.meta.url)('./ed25519-verify.cjs') as VerifyCore;

/** Which backend this machine will use (sodium unless sodium-native cannot load). */
export function availableBackend(wanted: VerifyBackend = 'sodium'): VerifyBackend {
  return wanted === 'sodium' && core.loadSodium() ? 'sodium' : 'openssl';
}

/** Verifies on the calling thread (tests, tiny deployments). */
export class InlineVerifier implements Verifier {
  private readonly one: (it: VerifyItem, out: Buffer | null, at: number) => boolean;
  readonly backend: VerifyBackend;
  constructor(backend: VerifyBackend = 'sodium') {
    const sodium = backend === 'sodium' ? core.loadSodium() : null;
    this.backend = sodium ? 'sodium' : 'openssl';
    this.one = core.makeVerifyHashOne(sodium, canonicalize);
  }
  async verifyMany(items: VerifyItem[]) {
    return items.map((it) => this.one(it, null, 0));
  }
  async verifyManyHashed(items: VerifyItem[]): Promise<Verified> {
    const buf = Buffer.alloc(32 * items.length);
    const ok = items.map((it, i) => this.one(it, buf, 32 * i));
    return { ok, hashes: hexHashes(ok, buf) };
  }
  async close() {}
}

/**
 * Ed25519 verification is the most expensive step of ingest (tens of µs per punch in OpenSSL),
 * so a batch is split across worker threads: the main thread stays free for MQTT and SQLite,
 * and ingest scales with cores. Small batches are verified inline (a round trip costs more).
 */
export class WorkerPoolVerifier implements Verifier {
  private readonly workers: Worker[] = [];
  private readonly pending = new Map<number, { resolve: (r: { out: Uint8Array; hashes?: Uint8Array }) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private readonly inline: InlineVerifier;

  constructor(size: number, private readonly minParallel = 64, backend: VerifyBackend = 'sodium') {
    this.inline = new InlineVerifier(backend);
    const workerData = { backend: this.inline.backend };
    for (let i = 0; i < size; i++) {
      const w = new Worker(new URL('./verify-worker.cjs', import.meta.url), { workerData });
      w.unref();
      w.on('message', (m: { id: number; out?: Uint8Array; hashes?: Uint8Array; error?: string }) => {
        const p = this.pending.get(m.id);
        this.pending.delete(m.id);
        if (m.out) p?.resolve({ out: m.out, ...(m.hashes ? { hashes: m.hashes } : {}) });
        else p?.reject(new Error(`verification worker failed: ${m.error}`));
      });
      w.on('error', (e) => {
        for (const [id, p] of this.pending) (this.pending.delete(id), p.reject(e));
      });
      this.workers.push(w);
    }
  }

  async verifyMany(items: VerifyItem[]): Promise<boolean[]> {
    if (items.length < this.minParallel || !this.workers.length) return this.inline.verifyMany(items);
    return (await this.run(items, false)).ok;
  }

  async verifyManyHashed(items: VerifyItem[]): Promise<Verified> {
    if (items.length < this.minParallel || !this.workers.length) return this.inline.verifyManyHashed(items);
    return this.run(items, true);
  }

  private async run(items: VerifyItem[], hash: boolean): Promise<Verified> {
    const n = this.workers.length;
    const chunk = Math.ceil(items.length / n);
    const parts = await Promise.all(
      this.workers.map((w, i) => {
        const slice = items.slice(i * chunk, (i + 1) * chunk);
        if (!slice.length) return Promise.resolve<{ out: Uint8Array; hashes?: Uint8Array }>({ out: new Uint8Array(0), hashes: new Uint8Array(0) });
        const id = this.nextId++;
        return new Promise<{ out: Uint8Array; hashes?: Uint8Array }>((resolve, reject) => {
          this.pending.set(id, { resolve, reject });
          w.postMessage({ id, items: slice, hash });
        });
      }),
    );
    const ok: boolean[] = [];
    const hashes: (string | null)[] = [];
    for (const p of parts) {
      const part = [...p.out].map((b) => b === 1);
      ok.push(...part);
      const h = p.hashes ?? new Uint8Array(0);
      if (hash) hashes.push(...hexHashes(part, Buffer.from(h.buffer, h.byteOffset, h.byteLength)));
    }
    return { ok, hashes };
  }

  async close() {
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.workers.length = 0;
  }
}

function hexHashes(ok: boolean[], buf: Buffer): (string | null)[] {
  return ok.map((v, i) => (v ? buf.toString('hex', 32 * i, 32 * i + 32) : null));
}

/**
 * Default pool size: the cores left after the main thread, at least 2 and at most 4. Two on a
 * 2-core Pi-class server: verification is the heaviest step and the main thread mostly waits
 * for it, so a second worker measured ~1.8× the throughput of one there.
 */
export function defaultVerifyWorkers(): number {
  return Math.min(4, Math.max(2, availableParallelism() - 1));
}
