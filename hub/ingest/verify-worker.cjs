'use strict';
// A verification thread of WorkerPoolVerifier (verify-pool.ts): batches in, one byte per item out.
const { parentPort, workerData } = require('node:worker_threads');
const { loadSodium, makeVerifyOne } = require('./ed25519-verify.cjs');

const sodium = workerData.backend === 'sodium' ? loadSodium() : null;
const ready = import('canonicalize').then((m) => makeVerifyOne(sodium, m.default));
parentPort.on('message', ({ id, items }) => {
  ready.then(
    (one) => {
      const out = new Uint8Array(items.length);
      for (let i = 0; i < items.length; i++) out[i] = one(items[i]) ? 1 : 0;
      parentPort.postMessage({ id, out }, [out.buffer]);
    },
    (e) => parentPort.postMessage({ id, error: String(e && e.stack ? e.stack : e) }),
  );
});
