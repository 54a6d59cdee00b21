import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
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

export interface Verifier {
  verifyMany(items: VerifyItem[]): Promise<boolean[]>;
  close(): Promise<void>;
}

/** Parsed keys by PEM text (the text is the key: a re-enrolled device never hits a stale entry). */
function keyCache() {
  const keys = new Map<string, KeyObject>();
  return (pem: string) => {
    let k = keys.get(pem);
    if (!k) {
      if (keys.size > 100_000) keys.clear();
      k = createPublicKey(pem);
      keys.set(pem, k);
    }
    return k;
  };
}

function verifyOne(key: (pem: string) => KeyObject, it: VerifyItem): boolean {
  try {
    const { sig, ...unsigned } = JSON.parse(it.json) as { sig: string };
    const data = canonicalize(unsigned);
    if (typeof sig !== 'string' || data === undefined) return false;
    return verify(null, Buffer.from(data, 'utf8'), key(it.pem), Buffer.from(sig, 'base64'));
  } catch {
    return false;
  }
}

/** Verifies on the calling thread (tests, tiny deployments). */
export class InlineVerifier implements Verifier {
  private readonly key = keyCache();
  async verifyMany(items: VerifyItem[]) {
    return items.map((it) => verifyOne(this.key, it));
  }
  async close() {}
}

// The worker is plain CommonJS evaluated from a string: no TypeScript loader is needed inside
// worker threads. It uses node:crypto and the same `canonicalize` package as protocol/signing.ts
// (its URL is passed in), so both sides build byte-identical signed data.
const WORKER_SRC = `
const { parentPort, workerData } = require('node:worker_threads');
const { createPublicKey, verify } = require('node:crypto');
const keys = new Map();
const ready = import(workerData.canonicalizeUrl).then((m) => m.default);
parentPort.on('message', async ({ id, items }) => {
  const canonicalize = await ready;
  const out = new Uint8Array(items.length);
  for (let i = 0; i < items.length; i++) {
    const it = items[i];
    try {
      let k = keys.get(it.pem);
      if (!k) { if (keys.size > 100000) keys.clear(); k = createPublicKey(it.pem); keys.set(it.pem, k); }
      const { sig, ...unsigned } = JSON.parse(it.json);
      const data = canonicalize(unsigned);
      out[i] = typeof sig === 'string' && data !== undefined && verify(null, Buffer.from(data, 'utf8'), k, Buffer.from(sig, 'base64')) ? 1 : 0;
    } catch { out[i] = 0; }
  }
  parentPort.postMessage({ id, out }, [out.buffer]);
});`;

/**
 * Ed25519 verification is the most expensive step of ingest (tens of µs per punch in OpenSSL),
 * so a batch is split across worker threads: the main thread stays free for MQTT and SQLite,
 * and ingest scales with cores. Small batches are verified inline (a round trip costs more).
 */
export class WorkerPoolVerifier implements Verifier {
  private readonly workers: Worker[] = [];
  private readonly pending = new Map<number, { resolve: (b: Uint8Array) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private readonly inline = new InlineVerifier();

  constructor(size: number, private readonly minParallel = 64) {
    for (let i = 0; i < size; i++) {
      const w = new Worker(WORKER_SRC, { eval: true, workerData: { canonicalizeUrl: import.meta.resolve('canonicalize') } });
      w.unref();
      w.on('message', (m: { id: number; out: Uint8Array }) => {
        const p = this.pending.get(m.id);
        this.pending.delete(m.id);
        p?.resolve(m.out);
      });
      w.on('error', (e) => {
        for (const [id, p] of this.pending) (this.pending.delete(id), p.reject(e));
      });
      this.workers.push(w);
    }
  }

  async verifyMany(items: VerifyItem[]): Promise<boolean[]> {
    if (items.length < this.minParallel || !this.workers.length) return this.inline.verifyMany(items);
    const n = this.workers.length;
    const chunk = Math.ceil(items.length / n);
    const parts = await Promise.all(
      this.workers.map((w, i) => {
        const slice = items.slice(i * chunk, (i + 1) * chunk);
        if (!slice.length) return Promise.resolve(new Uint8Array(0));
        const id = this.nextId++;
        return new Promise<Uint8Array>((resolve, reject) => {
          this.pending.set(id, { resolve, reject });
          w.postMessage({ id, items: slice });
        });
      }),
    );
    const out: boolean[] = [];
    for (const p of parts) for (const b of p) out.push(b === 1);
    return out;
  }

  async close() {
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.workers.length = 0;
  }
}

/**
 * Default pool size: the cores left after the main thread, at least 2 and at most 4. Two on a
 * 2-core Pi-class server: verification is the heaviest step and the main thread mostly waits
 * for it, so a second worker measured ~1.8× the throughput of one there.
 */
export function defaultVerifyWorkers(): number {
  return Math.min(4, Math.max(2, availableParallelism() - 1));
}
