// A derivation thread of derive-parallel.ts: loads the TypeScript sources through tsx in a checkout
// (worker threads do not inherit the main thread's loader) or the compiled ones in a release
// (lib/app-compile.ts), derives its NIP range of the month on its own read connection, posts the rows, then flags `done` so the waiting main thread wakes up.
import { existsSync } from 'node:fs';
import { workerData } from 'node:worker_threads';

const ext = existsSync(new URL('./recompute.ts', import.meta.url)) ? '.ts' : '.js';
if (ext === '.ts') (await import('tsx/esm/api')).register();
const { dbPath, month, from, to, now, seq, done, port } = workerData;
let result;
try {
  const { openSqliteReadonly } = await import(`../store/sqlite${ext}`);
  const { deriveMonthRows } = await import(`./recompute${ext}`);
  const db = openSqliteReadonly(dbPath);
  try {
    result = { rows: deriveMonthRows(db, month, { from, to }, now, seq) };
  } finally {
    db.close();
  }
} catch (e) {
  result = { error: e instanceof Error ? `${e.message}\n${e.stack}` : String(e) };
}
port.postMessage(result);
Atomics.store(done, 0, 1);
Atomics.notify(done, 0);
