import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { GENESIS_HASH, newId, punchHash, type Punch } from '../protocol/index.js';
import { openHubStores } from '../hub/store/open.js';
import { isPostgresUrl } from '../hub/store/pg.js';
import type { IngestItem } from '../hub/store/core-store.js';

/**
 * The store alone: `CoreStore.ingestBatch` of N punches from D devices in batches of B (no MQTT,
 * no signatures: the signature is not checked by the store). SQLite in a temporary directory, or
 * PostgreSQL in a fresh database made next to the one named (dropped afterwards).
 * Usage: tsx bench/store-ingest-bench.ts [postgres://…/postgres] [--n 10000] [--devices 10] [--batch 500]
 */
async function main() {
  const args = process.argv.slice(2);
  const flag = (name: string, dflt: number) => {
    const i = args.indexOf(name);
    return i >= 0 ? Number(args[i + 1]) : dflt;
  };
  const url = args.find((a) => isPostgresUrl(a));
  const n = flag('--n', 10_000), devices = flag('--devices', 10), batch = flag('--batch', 500);
  let drop = async () => {};
  let opened;
  if (url) {
    const name = `hadir_bench_${Math.random().toString(36).slice(2, 8)}`;
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    const u = new URL(url);
    u.pathname = `/${name}`;
    opened = await openHubStores({ dbPath: '', postgresUrl: u.toString() });
    drop = async () => {
      const a = new pg.Client({ connectionString: url });
      await a.connect();
      await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await a.end();
    };
  } else {
    const dir = mkdtempSync(join(tmpdir(), 'hadir-store-bench-'));
    opened = await openHubStores({ dbPath: join(dir, 'hub.db'), postgresUrl: null });
    const d0 = drop;
    drop = async () => (await d0(), rmSync(dir, { recursive: true, force: true }));
  }
  const { store } = opened;
  const pool = (store as { pool?: pg.Pool }).pool;
  const run = (q: string) => (pool ? pool.query(q).then(() => {}) : Promise.resolve(void opened.db.exec(q)));
  try {
    await run(`INSERT INTO opd (code, name) VALUES ('B', 'B')`);
    await run(`INSERT INTO units (code, opd_code, name) VALUES ('B-U', 'B', 'B')`);
    await run(`INSERT INTO sites (code, unit_code, name) VALUES ('B-S', 'B-U', 'B')`);
    for (let d = 0; d < devices; d++) {
      await store.insertDevice({ id: `dev-${d}`, siteCode: 'B-S', createdAt: new Date().toISOString() });
      await store.setDeviceEnrolled(`dev-${d}`, 'pem', 'x', new Date().toISOString());
    }
    const per = Math.ceil(n / devices);
    const punches: Punch[] = [];
    const t = Date.parse('2026-11-24T00:00:00Z');
    for (let d = 0; d < devices; d++) {
      let prev = GENESIS_HASH;
      for (let seq = 1; seq <= per; seq++) {
        const p = {
          id: newId(), deviceId: `dev-${d}`, seq, nip: `19850312201001${String(1000 + (seq % 9000)).padStart(4, '0')}`, method: 'face' as const,
          capturedAt: new Date(t + seq * 1000).toISOString(), clock: { synced: true, source: 'chrony' as const, offsetMs: 0.2, bootId: 'b', monoMs: seq * 1000 },
          match: { score: 0.7, liveness: 0.95 }, prevHash: prev, sig: 'x'.repeat(86),
        } as Punch;
        prev = punchHash(p);
        punches.push(p);
      }
    }
    // interleave devices as the broker would deliver them
    const order = punches.map((p, i) => ({ p, k: (i % per) * devices + Math.floor(i / per) })).sort((a, b) => a.k - b.k).map((x) => x.p);
    const at = new Date().toISOString();
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    let stored = 0;
    for (let i = 0; i < order.length; i += batch) {
      const items: IngestItem[] = order.slice(i, i + batch).map((punch) => ({ punch, siteCode: 'B-S', receivedAt: at }));
      stored += (await store.ingestBatch(items, [])).stored.length;
    }
    const s = (performance.now() - t0) / 1000;
    const c = process.cpuUsage(c0);
    // this process only: on PostgreSQL the server's share is in the postgres processes
    const cpuUs = Math.round((c.user + c.system) / stored);
    // the same batches again: every punch a duplicate (a kiosk re-sending after a lost ack)
    const t1 = performance.now();
    let dups = 0;
    for (let i = 0; i < order.length; i += batch) {
      const items: IngestItem[] = order.slice(i, i + batch).map((punch) => ({ punch, siteCode: 'B-S', receivedAt: at }));
      dups += (await store.ingestBatch(items, [])).duplicates;
    }
    const sd = (performance.now() - t1) / 1000;
    const gapless = (await Promise.all(Array.from({ length: devices }, (_, d) => store.getDevice(`dev-${d}`)))).every((x) => x!.contiguousSeq === per);
    console.log(`${url ? 'PostgreSQL' : 'SQLite'}: ${stored} punches in ${s.toFixed(2)} s = ${Math.round(stored / s)}/s, ${cpuUs} µs CPU per punch in this process (batches of ${batch}, ${devices} devices); re-sent as duplicates ${Math.round(dups / sd)}/s; gapless ${gapless}`);
    console.log(JSON.stringify({ store: url ? 'postgres' : 'sqlite', punches_per_s: Math.round(stored / s), cpu_us_per_punch: cpuUs, duplicates_per_s: Math.round(dups / sd), stored, duplicates: dups, gapless }));
  } finally {
    await store.close();
    await drop();
  }
}
await main();
