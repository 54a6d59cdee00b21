import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { join } from 'node:path';
import pg from 'pg';
import { GENESIS_HASH, Topics, generateDeviceKeys, loadPrivateKey, newIdAt, punchHash, signPunch, type UnsignedPunch } from '../protocol/index.js';
import { UserError } from '../lib/errors.js';
import { openHubStores } from '../hub/store/open.js';
import { scratchDatabase } from '../hub/store/pg.js';
import { cpuSecondsOf as cpuSeconds } from '../lib/proc-cpu.js';
import { redactUrl } from '../hub/config.js';
import { enrolDevice, registerDevice } from '../hub/devices/registry.js';
import type { CoreStore } from '../hub/store/core-store.js';
import { DEFAULT_PUBLISH_WINDOW } from '../kiosk/publisher.js';
import { Flow, ackFlow, connect, type Dev } from './ingest-bench.js';

const RAW_RUNS = 3;
const BIN = join(import.meta.dirname, '..', 'bin', 'hadir.mjs');
const settle = () => new Promise((r) => setTimeout(r, 1000));

export interface WorkersBenchOptions {
  /** postgres://… of a server and a database the bench may create databases from (a fresh one is made and dropped). */
  db: string;
  /** Worker counts, each measured in this run (e.g. [1, 2, 3]). */
  workers: number[];
  devices: number;
  punchesPerDevice: number;
  /** An external broker; default: a private Mosquitto started for the run. */
  mqttUrl?: string;
  window?: number;
  verifyWorkers?: number;
  quiet?: boolean;
}

/** CPU seconds of every process with this command name (all PostgreSQL backends). */
function cpuOfCommand(comm: string): number {
  let s = 0;
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readFileSync(`/proc/${d}/comm`, 'utf8').trim() === comm) s += cpuSeconds(Number(d));
    } catch {
      /* gone */
    }
  }
  return s;
}

const freePort = () =>
  new Promise<number>((res) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => res(p));
    });
  });

async function waitUntil(fn: () => Promise<boolean>, ms: number, what: string) {
  const t0 = Date.now();
  while (!(await fn())) {
    if (Date.now() - t0 > ms) throw new UserError(`bench: timed out waiting for ${what}`, 'see the worker log above');
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A private Mosquitto with the settings docs/hub.md recommends for the hub's session. */
async function startMosquitto(dir: string): Promise<{ url: string; proc: ChildProcess; stop(): Promise<void> }> {
  const port = await freePort();
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\nmax_queued_messages 1000000\nmax_inflight_messages 1000\nmax_connections -1\n`);
  const proc = spawn('mosquitto', ['-c', conf], { stdio: 'ignore' });
  proc.on('error', () => {});
  await waitUntil(
    () =>
      new Promise<boolean>((res) => {
        const s = createServer();
        s.once('error', () => res(true));
        s.listen(port, '127.0.0.1', () => s.close(() => res(false)));
      }),
    10_000,
    'mosquitto (is it installed? apt-get install mosquitto)',
  );
  return {
    url: `mqtt://127.0.0.1:${port}`,
    proc,
    stop: async () => {
      if (proc.exitCode !== null) return;
      const done = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await done;
    },
  };
}

interface HubWorker {
  proc: ChildProcess;
  port: number;
  log: string;
}

async function startWorker(o: { dbUrl: string; mqttUrl: string; prefix: string; dir: string; verifyWorkers?: number }): Promise<HubWorker> {
  const port = await freePort();
  // HADIR_BENCH_WORKER_LOG=DIR: each worker logs at debug level (ingest batch timings) to DIR/worker-PORT.log
  const logDir = process.env.HADIR_BENCH_WORKER_LOG;
  const env: NodeJS.ProcessEnv = { ...process.env, HADIR_LOG_LEVEL: logDir ? 'debug' : 'warn' };
  if (o.verifyWorkers !== undefined) env.HADIR_VERIFY_WORKERS = String(o.verifyWorkers);
  // HADIR_BENCH_WORKER_PROF=DIR: each worker writes a V8 CPU profile there when it stops (node --cpu-prof)
  const prof = process.env.HADIR_BENCH_WORKER_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.HADIR_BENCH_WORKER_PROF] : [];
  const proc = spawn(process.execPath, [...prof, BIN, 'hub', '--db', o.dbUrl, '--mqtt-url', o.mqttUrl, '--prefix', o.prefix, '--http-port', String(port), '--http-host', '127.0.0.1', '--data', o.dir], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const w: HubWorker = { proc, port, log: '' };
  proc.stdout!.on('data', (b: Buffer) => (w.log += b.toString()));
  proc.stderr!.on('data', (b: Buffer) => (w.log += b.toString()));
  await waitUntil(async () => {
    if (proc.exitCode !== null) throw new UserError(`bench: a hub worker exited (${proc.exitCode}):\n${w.log}`, 'see its log above');
    return !!(await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => null))?.ok;
  }, 60_000, `hub worker on :${port}`);
  return w;
}

async function stopWorker(w: HubWorker) {
  if (w.proc.exitCode === null) {
    const done = new Promise((r) => w.proc.once('exit', r));
    w.proc.kill('SIGTERM');
    await done;
  }
  if (process.env.HADIR_BENCH_WORKER_LOG) writeFileSync(join(process.env.HADIR_BENCH_WORKER_LOG, `worker-${w.port}.log`), w.log);
}

async function makeDevice(store: CoreStore, id: string, n: number, prefix: string, mqttUrl: string): Promise<Dev> {
  const keys = generateDeviceKeys();
  const r = await registerDevice(store, { siteCode: 'BENCH-S', deviceId: id, now: new Date() });
  const e = await enrolDevice(store, { token: r.token, publicKeyPem: keys.publicKeyPem }, { hubUrl: 'http://127.0.0.1', mqttUrl, prefix }, new Date());
  const key = loadPrivateKey(keys.privateKeyPem);
  const payloads: Dev['payloads'] = [];
  let prev = GENESIS_HASH;
  const t = Date.now() - n * 1000;
  for (let seq = 1; seq <= n; seq++) {
    const at = t + seq * 1000;
    const u: UnsignedPunch = {
      id: newIdAt(at), deviceId: id, seq, nip: `19850312201001${String(1000 + (seq % 9000)).padStart(4, '0')}`, method: 'face',
      capturedAt: new Date(at).toISOString(),
      clock: { synced: true, source: 'chrony', offsetMs: 0.2, bootId: 'bench-boot', monoMs: seq * 1000 },
      match: { score: 0.7, liveness: 0.95 }, prevHash: prev,
    };
    payloads.push({ id: u.id, body: JSON.stringify(signPunch(u, key)) });
    prev = punchHash(u);
  }
  return { id, password: e.mqtt.password, privateKeyPem: keys.privateKeyPem, payloads };
}

/**
 * `hadir bench ingest --db postgres://… --workers 1,2,3`: for each worker count, that many real
 * `hadir hub` processes on one fresh PostgreSQL database and one broker (a private Mosquitto unless
 * --mqtt-url), sharing the punch stream through `$share/hadir-hub/…`; the simulated kiosks run in
 * this process. The raw broker rate (same payloads, same broker, one plain subscriber) is measured
 * in the same run as the reference. CPU seconds per process kind show where the cores went.
 */
export async function runWorkersBench(o: WorkersBenchOptions): Promise<Record<string, number | string | boolean | null>> {
  const say = (s: string) => o.quiet || process.stdout.write(s + '\n');
  const load0 = loadavg();
  const dir = mkdtempSync(join(tmpdir(), 'hadir-bench-workers-'));
  const scratch = await scratchDatabase(o.db, 'hadir_bench');
  const dbUrl = scratch.url;
  const mosq = o.mqttUrl ? null : await startMosquitto(dir);
  const mqttUrl = o.mqttUrl ?? mosq!.url;
  const prefix = `bench-${Math.random().toString(36).slice(2, 8)}/hadir/v1`;
  const topics = new Topics(prefix);
  const window = o.window ?? (o.mqttUrl ? 80 : DEFAULT_PUBLISH_WINDOW);
  const total = o.devices * o.punchesPerDevice;
  const workers: HubWorker[] = [];
  const figures: Record<string, number | string | boolean | null> = {};
  try {
    say(`hadir bench ingest — PostgreSQL ${redactUrl(dbUrl)}, broker ${o.mqttUrl ? redactUrl(o.mqttUrl) : `private Mosquitto ${mqttUrl}`}, workers ${o.workers.join(', ')}; ${o.devices} kiosks × ${o.punchesPerDevice} punches per run, window ${window}`);
    say(`machine: ${availableParallelism()} cores (${cpus()[0]?.model ?? '?'}), load average ${load0.map((x) => x.toFixed(2)).join(' ')}`);
    const { store } = await openHubStores({ dbPath: '', postgresUrl: dbUrl });
    const devsFor: Dev[][] = [];
    try {
      const pool = (store as unknown as { pool: pg.Pool }).pool;
      await pool.query(`INSERT INTO opd (code, name) VALUES ('BENCH', 'Bench'); INSERT INTO units (code, opd_code, name) VALUES ('BENCH-U', 'BENCH', 'Bench'); INSERT INTO sites (code, unit_code, name) VALUES ('BENCH-S', 'BENCH-U', 'Bench site')`);
      say('signing punches …');
      for (const n of o.workers) {
        const devs: Dev[] = [];
        for (let i = 0; i < o.devices; i++) devs.push(await makeDevice(store, `bench-w${n}-${devsFor.length}-kiosk-${i + 1}`, o.punchesPerDevice, prefix, mqttUrl));
        devsFor.push(devs);
      }
    } finally {
      await store.close();
    }

    // --- reference: the raw broker, same payloads (those of the first run), a plain subscriber; best of RAW_RUNS
    let rawPerS = 0;
    const rawDevs = devsFor[0]!;
    for (let r = 1; r <= RAW_RUNS; r++) {
      const rawTopics = new Topics(`${prefix}-raw${r}`);
      const sub = await connect(mqttUrl, `bench-raw-sub-${r}-${process.pid}`);
      const flows = new Map(rawDevs.map((d) => [rawTopics.punch(d.id), new Flow()]));
      sub.on('message', (t, payload) => flows.get(t)?.confirm((JSON.parse(payload.toString()) as { id: string }).id));
      await sub.subscribeAsync(`${rawTopics.prefix}/kiosk/+/punch`, { qos: 1 });
      const pubs = await Promise.all(rawDevs.map((d, i) => connect(mqttUrl, `bench-raw-pub-${r}-${i}-${process.pid}`, d.id, d.password)));
      const t0 = performance.now();
      await Promise.all(rawDevs.map((d, i) => flows.get(rawTopics.punch(d.id))!.run(d.payloads.map((p) => p.id), window, (j) => void pubs[i]!.publishAsync(rawTopics.punch(d.id), d.payloads[j]!.body, { qos: 1 }))));
      const s = (performance.now() - t0) / 1000;
      rawPerS = Math.max(rawPerS, total / s);
      say(`raw broker ${r}/${RAW_RUNS}: ${total} messages in ${s.toFixed(2)} s = ${Math.round(total / s)}/s`);
      await Promise.all([sub.endAsync(), ...pubs.map((c) => c.endAsync())]);
    }
    figures.raw_broker_per_s = Math.round(rawPerS);

    let best = 0;
    let verifiedAll = true;
    for (const [k, n] of o.workers.entries()) {
      await settle();
      for (let i = 0; i < n; i++) workers.push(await startWorker({ dbUrl, mqttUrl, prefix, dir: join(dir, `w${k}-${i}`), verifyWorkers: o.verifyWorkers }));
      await settle();
      const devs = devsFor[k]!;
      const kiosks = await Promise.all(devs.map((d) => connect(mqttUrl, d.id, d.id, d.password)));
      const flows = await Promise.all(devs.map((d, i) => ackFlow(kiosks[i]!, topics.ack(d.id))));
      const cpu0 = { hub: workers.map((w) => cpuSeconds(w.proc.pid!)), pg: cpuOfCommand('postgres'), mosq: mosq ? cpuSeconds(mosq.proc.pid!) : 0, bench: process.cpuUsage() };
      const t0 = performance.now();
      await Promise.all(devs.map((d, i) => flows[i]!.run(d.payloads.map((p) => p.id), window, (j) => void kiosks[i]!.publishAsync(topics.punch(d.id), d.payloads[j]!.body, { qos: 1 }))));
      const s = (performance.now() - t0) / 1000;
      const benchCpu = process.cpuUsage(cpu0.bench);
      const cpu = {
        hubs: workers.reduce((a, w, i) => a + cpuSeconds(w.proc.pid!) - cpu0.hub[i]!, 0),
        postgres: cpuOfCommand('postgres') - cpu0.pg,
        mosquitto: mosq ? cpuSeconds(mosq.proc.pid!) - cpu0.mosq : null,
        kiosks: (benchCpu.user + benchCpu.system) / 1e6,
      };
      const resent = flows.reduce((a, f) => a + f.resent, 0);
      const perS = total / s;
      best = Math.max(best, perS);
      await Promise.all(kiosks.map((c) => c.endAsync()));
      // stored exactly once, gapless (the workers are still up: read through a short-lived store)
      const { store: check } = await openHubStores({ dbPath: '', postgresUrl: dbUrl });
      let verified = false;
      try {
        const pool = (check as unknown as { pool: pg.Pool }).pool;
        const r = (await pool.query('SELECT count(*)::int AS n, count(DISTINCT id)::int AS ids FROM punches WHERE device_id = ANY($1)', [devs.map((d) => d.id)])).rows[0] as { n: number; ids: number };
        const gapless = (await Promise.all(devs.map((d) => check.getDevice(d.id)))).every((d) => d!.contiguousSeq === o.punchesPerDevice);
        verified = r.n === total && r.ids === total && gapless;
      } finally {
        await check.close();
      }
      verifiedAll &&= verified;
      const share = (x: number) => `${x.toFixed(1)} s (${((x / s) * 100).toFixed(0)} % of a core)`;
      say(
        `${n} worker${n > 1 ? 's' : ''}: ${total} punches stored and acked in ${s.toFixed(2)} s = ${Math.round(perS)}/s (${((perS / rawPerS) * 100).toFixed(0)} % of the raw broker)${resent ? `, ${resent} re-sent` : ''}; ` +
          `stored once and gapless: ${verified}\n    CPU during the run — hub workers ${share(cpu.hubs)}, PostgreSQL ${share(cpu.postgres)}${cpu.mosquitto !== null ? `, Mosquitto ${share(cpu.mosquitto)}` : ''}, simulated kiosks ${share(cpu.kiosks)}; ` +
          `sum ${((cpu.hubs + cpu.postgres + (cpu.mosquitto ?? 0) + cpu.kiosks) / s).toFixed(2)} of ${availableParallelism()} cores`,
      );
      figures[`workers_${n}_per_s`] = Math.round(perS);
      figures[`workers_${n}_cpu_hubs_s`] = Number(cpu.hubs.toFixed(2));
      figures[`workers_${n}_cpu_postgres_s`] = Number(cpu.postgres.toFixed(2));
      if (cpu.mosquitto !== null) figures[`workers_${n}_cpu_mosquitto_s`] = Number(cpu.mosquitto.toFixed(2));
      figures[`workers_${n}_cpu_kiosks_s`] = Number(cpu.kiosks.toFixed(2));
      figures[`workers_${n}_s`] = Number(s.toFixed(3));
      for (const w of workers.splice(0)) await stopWorker(w);
    }
    const load1 = loadavg();
    const out = {
      punches_per_s: Math.round(best),
      raw_broker_per_s: Math.round(rawPerS),
      ratio: Number((best / rawPerS).toFixed(3)),
      ...figures,
      devices: o.devices,
      punches: total,
      store: 'postgres',
      broker: o.mqttUrl ? 'external' : 'mosquitto',
      cores: availableParallelism(),
      load_start: Number(load0[0]!.toFixed(2)),
      load_end: Number(load1[0]!.toFixed(2)),
      verified: verifiedAll,
    };
    say(`load average at the end: ${load1.map((x) => x.toFixed(2)).join(' ')}`);
    process.stdout.write(JSON.stringify(out) + '\n');
    return out;
  } finally {
    for (const w of workers) await stopWorker(w).catch(() => {});
    await mosq?.stop();
    await scratch.drop().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
}
