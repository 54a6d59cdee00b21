import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import type { SqliteDb } from '../store/sqlite.js';
import { deriveMonthRows, type MonthRow } from './recompute.js';

/**
 * A whole month of a large organisation (a province: 100,000 staff, 4 million punches) is derived
 * on several threads: the staff are cut into NIP ranges of equal size, each worker thread opens
 * its own read connection to the same SQLite file (WAL: readers never block the writer) and derives
 * its range, while this thread derives the first range. Writing stays on this thread, in chunked
 * transactions (recomputeMonth). Below PARALLEL_MIN_STAFF a worker's start-up (~0.4 s to load the
 * TypeScript sources) costs more than it saves.
 *
 * The API stays synchronous, as every caller of recomputeMonth is: this thread blocks on
 * Atomics.wait until each worker has posted its rows, then takes them with receiveMessageOnPort.
 */
export const PARALLEL_MIN_STAFF = 20_000;

/** Threads for a full month: the cores, at most 4 (memory: each holds its share of the month). */
export function defaultDeriveThreads(): number {
  return Math.max(1, Math.min(4, availableParallelism()));
}

interface Task {
  dbPath: string;
  month: string;
  from: string;
  to: string;
  now: string;
  seq: number;
  done: Int32Array;
  port: MessagePort;
}
export type TaskData = Omit<Task, 'port'> & { port: MessagePort };
export type TaskResult = { rows: MonthRow[] } | { error: string };

/** Longest a worker may take before the recompute fails (it is retried from the queue later). */
const WORKER_TIMEOUT_MS = 15 * 60_000;

/** NIP ranges [b0, b1), [b1, b2) … of equal head count; the first starts at '' and the last ends past every NIP. */
function nipBounds(nips: string[], parts: number): string[] {
  const per = Math.ceil(nips.length / parts);
  const bounds = [''];
  for (let i = 1; i < parts; i++) bounds.push(nips[i * per] ?? '\uffff');
  bounds.push('\uffff');
  return bounds;
}

function activeNips(db: SqliteDb): string[] {
  return db.prepare('SELECT nip FROM staff WHERE active = 1 ORDER BY nip').pluck().all() as string[];
}

/** Starts a worker deriving one NIP range; it posts its TaskResult on `port` and sets done[0]. */
function startWorker(db: SqliteDb, month: string, from: string, to: string, now: string, seq: number, done: Int32Array): { worker: Worker; port: MessagePort } {
  const { port1, port2 } = new MessageChannel();
  const data: TaskData = { dbPath: db.name, month, from, to, now, seq, done, port: port2 };
  const worker = new Worker(new URL('./derive-worker.mjs', import.meta.url), { workerData: data, transferList: [port2] });
  worker.unref();
  return { worker, port: port1 };
}

function rowsOf(msg: TaskResult | undefined, i: number): MonthRow[] {
  if (!msg) throw new Error(`derivation thread ${i} ended without a result`);
  if ('error' in msg) throw new Error(`derivation thread ${i} failed: ${msg.error}`);
  return msg.rows;
}

/** `threads`: how many (this one included); by default the cores, from PARALLEL_MIN_STAFF staff on. */
export function deriveMonthRowsParallel(db: SqliteDb, month: string, now: string, seq: number, wanted?: number): { rows: MonthRow[]; threads: number } {
  const whole = () => ({ rows: deriveMonthRows(db, month, null, now, seq), threads: 1 });
  if (wanted === 1 || db.memory || !db.name) return whole();
  const nips = activeNips(db);
  const threads = Math.min(wanted ?? (nips.length >= PARALLEL_MIN_STAFF ? defaultDeriveThreads() : 1), Math.max(1, nips.length));
  if (threads < 2) return whole();
  const bounds = nipBounds(nips, threads);
  const done = new Int32Array(new SharedArrayBuffer(4 * threads));
  const workers: { worker: Worker; port: MessagePort }[] = [];
  try {
    for (let i = 1; i < threads; i++) workers.push(startWorker(db, month, bounds[i]!, bounds[i + 1]!, now, seq, done.subarray(i, i + 1)));
    const rows = deriveMonthRows(db, month, { from: bounds[0]!, to: bounds[1]! }, now, seq);
    for (const [k, w] of workers.entries()) {
      const i = k + 1;
      const t0 = Date.now();
      while (Atomics.load(done, i) === 0) {
        if (Date.now() - t0 > WORKER_TIMEOUT_MS) throw new Error(`derivation thread ${i} gave no answer in ${WORKER_TIMEOUT_MS / 60_000} min`);
        Atomics.wait(done, i, 0, 1000);
      }
      for (const r of rowsOf(receiveMessageOnPort(w.port)?.message as TaskResult | undefined, i)) rows.push(r);
    }
    return { rows, threads };
  } finally {
    for (const w of workers) {
      w.port.close();
      void w.worker.terminate();
    }
  }
}

/**
 * Every NIP range on a worker thread, awaited: this thread stays free (the hub keeps ingesting and
 * serving while a province's month is derived). Falls back to this thread for an in-memory database.
 */
export async function deriveMonthRowsAsync(db: SqliteDb, month: string, now: string, seq: number, wanted = defaultDeriveThreads()): Promise<{ rows: MonthRow[]; threads: number }> {
  if (db.memory || !db.name) return { rows: deriveMonthRows(db, month, null, now, seq), threads: 0 };
  const threads = Math.max(1, wanted);
  const bounds = nipBounds(activeNips(db), threads);
  const done = new Int32Array(new SharedArrayBuffer(4 * threads));
  const workers = bounds.slice(0, -1).map((from, i) => startWorker(db, month, from, bounds[i + 1]!, now, seq, done.subarray(i, i + 1)));
  try {
    const results = await Promise.all(
      workers.map(
        (w, i) =>
          new Promise<MonthRow[]>((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error(`derivation thread ${i} gave no answer in ${WORKER_TIMEOUT_MS / 60_000} min`)), WORKER_TIMEOUT_MS);
            timer.unref();
            w.port.once('message', (m: TaskResult) => {
              clearTimeout(timer);
              try {
                resolve(rowsOf(m, i));
              } catch (e) {
                reject(e as Error);
              }
            });
            w.worker.once('error', (e) => (clearTimeout(timer), reject(new Error(`derivation thread ${i} failed: ${e.message}`))));
          }),
      ),
    );
    return { rows: results.flat(), threads };
  } finally {
    for (const w of workers) {
      w.port.close();
      void w.worker.terminate();
    }
  }
}
