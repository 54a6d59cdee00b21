import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from 'aedes';
import { rootLogger } from '../lib/logger.js';
import { startHub, type RunningHub } from '../hub/server.js';
import { hashDeviceSecret, hashPassword, randomSecret, verifyPassword } from '../hub/secrets.js';
import { addUser } from '../hub/users.js';
import { makeDev, type IngestBenchOptions } from './ingest-bench.js';
import { spawnFleet, type FleetProcess } from './fleet-process.js';
import { quantile, watchProcess } from './monitor.js';

/** Share of a regency's staff that punch in the busiest 15 minutes of 07:00–07:45 (07:15–07:30). */
const PEAK_SHARE = 0.6;
const PEAK_WINDOW_S = 15 * 60;

/**
 * `hadir bench ingest --storm` and `--peak`: the hub in this process; the kiosks — the kiosk's own
 * journal, MQTT link and publisher — in a child process (fleet.ts), so the memory and event-loop
 * delay measured here are the hub's alone.
 *  --storm: every kiosk has `punches` journaled (an outage's backlog) and all connect at once.
 *    connect_s: until every kiosk was connected and subscribed; drain_s: until every punch was
 *    acked; then (embedded broker) every connection is dropped by the broker and the fleet comes
 *    back with its sessions and the warm password check: reconnect_s.
 *  --peak: the kiosks connected, live punches at the busiest rate of a 07:00–07:45 morning of
 *    `staff` people while dashboard readers poll the API; ack p99 and event-loop p99 of that window.
 */
export async function runFleetBench(o: IngestBenchOptions): Promise<Record<string, number | string | boolean | null>> {
  const say = (s: string) => o.quiet || process.stdout.write(s + '\n');
  const dir = mkdtempSync(join(tmpdir(), 'hadir-bench-fleet-'));
  const prefix = o.mqttUrl ? `bench-${Math.random().toString(36).slice(2, 8)}/hadir/v1` : 'hadir/v1';
  const hub = await startHub({
    dataDir: join(dir, 'hub'), httpPort: 0, mqttPort: 0, prefix, defaultMetrics: false, env: {}, mqttUrl: o.mqttUrl, mqttPersistent: false,
    log: rootLogger.child({ component: 'hub' }, { level: 'error' }),
    ...(o.verifyWorkers !== undefined ? { verifyWorkers: o.verifyWorkers } : {}),
    modules: [],
  });
  const url = o.mqttUrl ?? `mqtt://127.0.0.1:${hub.mqttPort}`;
  let fleet: FleetProcess | null = null;
  try {
    hub.db.exec(`INSERT INTO opd (code, name) VALUES ('BENCH', 'Bench'); INSERT INTO units (code, opd_code, name) VALUES ('BENCH-U', 'BENCH', 'Bench');
                     INSERT INTO sites (code, unit_code, name) VALUES ('BENCH-S', 'BENCH-U', 'Bench site');`);
    const mode = o.storm ? 'storm' : 'peak';
    say(`hadir bench ingest --${mode} — ${o.devices} kiosks${o.storm ? ` × ${o.punchesPerDevice} journaled punches, all connecting at once` : `, morning peak of ${o.staff} staff`}, broker ${o.mqttUrl ?? 'embedded aedes'}`);
    say(`enrolling ${o.devices} kiosks …`);
    const devs = [];
    hub.db.pragma('synchronous = OFF'); // set-up only: 2,000 enrolments are 8,000 commits
    for (let i = 0; i < o.devices; i++) devs.push(await makeDev(hub, `kiosk-${String(i + 1).padStart(4, '0')}`, 0, prefix));
    hub.db.pragma('synchronous = FULL');
    fleet = await spawnFleet({ dir: join(dir, 'fleet'), url, prefix, kiosks: devs.map((d) => ({ id: d.id, password: d.password, privateKeyPem: d.privateKeyPem })) });
    const auth = await authCost();
    say(`admission:   device secret check ${auth.one_ms} ms (${auth.per_s}/s); the scrypt it replaced ${auth.scrypt_one_ms} ms, ${auth.scrypt_per_s}/s with 40 at once (paid once per device enrolled before, then upgraded)`);
    const figures = o.storm ? await storm(o, hub, fleet, say) : await peak(o, hub, fleet, say);
    // every punch stored exactly once, every kiosk gapless
    await hub.ingestor.drain();
    const fs = await fleet.request({ cmd: 'stats' });
    const stored = await hub.store.countPunches({});
    const perDev = await Promise.all(devs.map((d) => hub.store.getDevice(d.id)));
    const expected = fs.journaled;
    const gapless = perDev.every((d) => d!.contiguousSeq === d!.maxSeq);
    const undelivered = await fleet.request({ cmd: 'undelivered' });
    const verified = stored === expected && gapless && undelivered === 0;
    say(`verified:    ${stored} punches stored (journaled ${expected}), every kiosk gapless: ${gapless}, left undelivered in journals: ${undelivered}; the hub ran in this process throughout`);
    const out = {
      mode, devices: o.devices, punches: expected, broker: o.mqttUrl ? 'external' : 'aedes',
      ...figures, auth_ms: auth.one_ms, auth_per_s: auth.per_s, scrypt_ms: auth.scrypt_one_ms, scrypt_per_s: auth.scrypt_per_s, resent: fs.resent, verified,
    };
    process.stdout.write(JSON.stringify(out) + '\n');
    return out;
  } finally {
    await fleet?.stop();
    await hub.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function storm(o: IngestBenchOptions, hub: RunningHub, fleet: FleetProcess, say: (s: string) => void) {
  await fleet.request({ cmd: 'backlog', n: o.punchesPerDevice });
  const watch = watchProcess();
  await fleet.request({ cmd: 'start' });
  const s = await fleet.drained(600_000);
  const proc = watch.stop();
  say(`storm:       ${s.kiosks} kiosks connected in ${s.connectAllS} s (${Math.round(s.kiosks / s.connectAllS!)} CONNECTs/s admitted); ${s.acked} punches drained in ${s.drainS} s = ${Math.round(s.acked / s.drainS!)}/s; ack p50 ${s.ackP50Ms} ms, p99 ${s.ackP99Ms} ms; ${s.resent} re-sent, ${s.disconnects} disconnects`);
  say(`hub:         RSS max ${proc.rss_mb_max} MB, event loop p99 ${proc.event_loop_p99_ms} ms (max ${proc.event_loop_max_ms} ms)`);
  let reconnectS: number | null = null;
  if (!o.mqttUrl) {
    // A network blip: the broker drops every kiosk; they return to their sessions (in the
    // broker's memory) with the password check already warm.
    const clients = brokerClients(hub);
    const t0 = performance.now();
    for (const c of clients) c.close();
    await waitFor(async () => (await fleet.request({ cmd: 'stats' })).connected === 0 || performance.now() - t0 > 2000);
    await waitFor(async () => (await fleet.request({ cmd: 'stats' })).connected === o.devices, 120_000);
    reconnectS = Number(((performance.now() - t0) / 1000).toFixed(3));
    say(`blip:        all ${o.devices} kiosks dropped by the broker and back in ${reconnectS} s (sessions kept, reconnect backoff 1–3 s)`);
  }
  return {
    punches_per_s: Math.round(s.acked / s.drainS!),
    connect_s: s.connectAllS, drain_s: s.drainS, reconnect_s: reconnectS,
    rss_mb_max: proc.rss_mb_max, event_loop_p99_ms: proc.event_loop_p99_ms, event_loop_max_ms: proc.event_loop_max_ms,
    ack_p50_ms: s.ackP50Ms, ack_p99_ms: s.ackP99Ms,
  };
}

async function peak(o: IngestBenchOptions, hub: RunningHub, fleet: FleetProcess, say: (s: string) => void) {
  const staff = o.staff ?? 3400;
  const seconds = o.peakSeconds ?? 60;
  const perS = (staff * PEAK_SHARE) / PEAK_WINDOW_S;
  const c0 = performance.now();
  await fleet.request({ cmd: 'start', spreadMs: 5000 });
  await waitFor(async () => (await fleet.request({ cmd: 'stats' })).connected === o.devices, 120_000);
  const connectS = (performance.now() - c0) / 1000;
  // dashboard and reports read at the same time: BKPSDM admins refreshing every second
  const { token } = await addUser(hub.store, { username: 'bench-admin', name: 'Bench', role: 'bkpsdm', now: new Date() });
  const base = `http://127.0.0.1:${hub.httpPort}`;
  const readers = 4;
  const reads: number[] = [];
  let reading = true;
  const reader = async () => {
    for (const path of (function* () {
      for (;;) yield* ['/api/v1/devices', '/api/v1/punches?limit=200', '/metrics'];
    })()) {
      if (!reading) return;
      const t = performance.now();
      const r = await fetch(base + path, { headers: { authorization: `Bearer ${token}` } });
      await r.arrayBuffer();
      if (!r.ok) throw new Error(`${path}: HTTP ${r.status}`);
      reads.push(performance.now() - t);
      await new Promise((res) => setTimeout(res, 1000 / 3));
    }
  };
  await fleet.request({ cmd: 'resetLatencies' });
  const watch = watchProcess();
  const t0 = performance.now();
  const rs = Array.from({ length: readers }, reader);
  const sent = (await fleet.request({ cmd: 'punch', perS, seconds })) as number;
  const s = await fleet.drained(120_000);
  reading = false;
  await Promise.all(rs);
  const proc = watch.stop();
  const windowS = (performance.now() - t0) / 1000;
  say(`peak:        ${sent} live punches at ${perS.toFixed(2)}/s (${Math.round(PEAK_SHARE * 100)} % of ${staff} staff in 15 minutes) over ${windowS.toFixed(0)} s on ${o.devices} kiosks; ack p50 ${s.ackP50Ms} ms, p99 ${s.ackP99Ms} ms, max ${s.ackMaxMs} ms`);
  say(`dashboard:   ${reads.length} API reads by ${readers} readers, p99 ${quantile(reads, 0.99).toFixed(0)} ms; hub event loop p99 ${proc.event_loop_p99_ms} ms (max ${proc.event_loop_max_ms} ms), RSS max ${proc.rss_mb_max} MB`);
  return {
    staff, peak_per_s: Number(perS.toFixed(2)), peak_s: seconds, connect_s: Number(connectS.toFixed(3)), drain_s: s.drainS,
    rss_mb_max: proc.rss_mb_max, event_loop_p99_ms: proc.event_loop_p99_ms, event_loop_max_ms: proc.event_loop_max_ms,
    ack_p50_ms: s.ackP50Ms, ack_p99_ms: s.ackP99Ms, reads: reads.length, read_p99_ms: Number(quantile(reads, 0.99).toFixed(1)),
  };
}

/**
 * What the password check costs a connect: the device hash (hashDeviceSecret, now) against the
 * scrypt hash devices had before (still paid once per old device, then upgraded) — one alone and
 * 40 at once (scrypt runs on the libuv pool).
 */
async function authCost(): Promise<{ one_ms: number; per_s: number; scrypt_one_ms: number; scrypt_per_s: number }> {
  const pw = randomSecret();
  const time = async (hashes: string[]) => {
    let t = performance.now();
    await verifyPassword(pw, hashes[0]);
    const one = performance.now() - t;
    t = performance.now();
    await Promise.all(hashes.slice(1).map((h) => verifyPassword(pw, h)));
    return { one: Number(one.toFixed(3)), perS: Math.round((hashes.length - 1) / ((performance.now() - t) / 1000)) };
  };
  const fast = await time(Array.from({ length: 2001 }, () => hashDeviceSecret(pw)));
  const slow = await time(Array.from({ length: 41 }, () => hashPassword(pw))); // distinct salts: no memo hits
  return { one_ms: fast.one, per_s: fast.perS, scrypt_one_ms: slow.one, scrypt_per_s: slow.perS };
}

function brokerClients(hub: RunningHub): Client[] {
  const aedes = hub.broker?.aedes;
  if (!aedes) return [];
  return Object.values((aedes as unknown as { clients: Record<string, Client> }).clients);
}

async function waitFor(cond: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
