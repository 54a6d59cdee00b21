'use strict';
// A verification thread of WorkerPoolVerifier (verify-pool.ts): batches in, one byte per item out.
const { parentPort, workerData } = require('node:worker_threads');
const { loadSodium, makeVerifyHashOne } = require('./ed25519-verify.cjs');

const sodium = workerData.backend === 'sodium' ? loadSodium() : null;
const ready = import('canonicalize').then((m) => makeVerifyHashOne(sodium, m.default));
// With `hash`, also the 32-byte chain hash of each valid punch (in one buffer, 32 bytes per item).
parentPort.on('message', ({ id, items, hash }) => {
  ready.then(
    (one) => {
      const out = new Uint8Array(items.length);
      const hashes = hash ? Buffer.alloc(32 * items.length) : null;
      for (let i = 0; i < items.length; i++) out[i] = one(items[i], hashes, 32 * i) ? 1 : 0;
      if (hashes) parentPort.postMessage({ id, out, hashes }, [out.buffer]);
      else parentPort.postMessage({ id, out }, [out.buffer]);
    },
    (e) => parentPort.postMessage({ id, error: String(e && e.stack ? e.stack : e) }),
  );
});
