import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../../hub/store/open.js';
import { enrolDevice, registerDevice } from '../../hub/devices/registry.js';
import { generateDeviceKeys } from '../../protocol/index.js';
import { openSqliteReadonly } from '../../hub/store/sqlite.js';
import { spawnFleet, type FleetProcess } from '../../bench/fleet-process.js';
import { freePort, seedOrg, spawnHub, tmp, waitUntil } from './harness.js';

/**
 * Issue 16 fault test, real processes: a hub (`hadir hub`, embedded broker) and 500 kiosks (one
 * child process of the kiosk's real journal, MQTT link and publisher each) with a backlog of 40
 * punches. The hub is killed (SIGKILL) while they drain, and restarted on the same ports: every
 * kiosk comes back by itself (jittered backoff), every punch is stored exactly once, each kiosk's
 * seq gapless, within DRAIN_LIMIT_S of the restart (README: "Reconnect storm"), the hub's memory
 * bounded and the restarted hub still running at the end.
 */
const KIOSKS = 500;
const BACKLOG = 40;
/** Written in the README: measured 124 s and 161 s on the 2-core machine while shared (load 20–35), where the restarted hub alone took 7–19 s to start. */
const DRAIN_LIMIT_S = 300;
const RSS_LIMIT_MB = 600;

const closers: (() => Promise<unknown> | unknown)[] = [];
afterAll(async () => {
  for (const c of closers.reverse()) await c();
});

function rssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

describe('reconnect storm after a hub crash (500 kiosks with backlogs)', () => {
  it('hub SIGKILLed mid-drain and restarted: everything drains exactly once, in bounded time and memory', async () => {
    const dir = tmp('storm');
    closers.push(() => rmSync(dir, { recursive: true, force: true }));
    const hubDir = join(dir, 'hub');
    seedOrg(hubDir, 'STORM', 1);
    const [httpPort, mqttPort] = [await freePort(), await freePort()];
    // enrol 500 kiosks as `hadir device add` + provisioning would (directly in the hub's store)
    const { store } = openStore({ dbPath: join(hubDir, 'hub.db') });
    const kiosks = [];
    for (let i = 0; i < KIOSKS; i++) {
      const id = `storm-${String(i + 1).padStart(3, '0')}`;
      const keys = generateDeviceKeys();
      const r = await registerDevice(store, { siteCode: 'STORM', deviceId: id, now: new Date() });
      const e = await enrolDevice(store, { token: r.token, publicKeyPem: keys.publicKeyPem }, { hubUrl: 'http://x', mqttUrl: 'mqtt://x', prefix: 'hadir/v1' }, new Date());
      kiosks.push({ id, password: e.mqtt.password, privateKeyPem: keys.privateKeyPem });
    }
    store.close();

    let hub = await spawnHub({ dataDir: hubDir, httpPort, mqttPort });
    closers.push(() => hub.child.kill('SIGKILL'));
    const fleet: FleetProcess = await spawnFleet({ dir: join(dir, 'fleet'), url: `mqtt://127.0.0.1:${mqttPort}`, prefix: 'hadir/v1', kiosks });
    closers.push(() => fleet.stop());
    await fleet.request({ cmd: 'backlog', n: BACKLOG });
    const total = KIOSKS * BACKLOG;
    await fleet.request({ cmd: 'start' }); // all at once: the storm

    // kill the hub once it is draining
    await waitUntil(async () => (await fleet.request({ cmd: 'stats' })).acked >= total / 5, 120_000, 'a fifth acked');
    hub.child.kill('SIGKILL');
    await hub.exited;
    const before = await fleet.request({ cmd: 'stats' });
    expect(before.acked).toBeLessThan(total);
    await waitUntil(async () => (await fleet.request({ cmd: 'stats' })).connected === 0, 30_000, 'kiosks notice the hub is gone');

    const t0 = performance.now();
    hub = await spawnHub({ dataDir: hubDir, httpPort, mqttPort });
    const startS = (performance.now() - t0) / 1000;
    let rssMax = 0;
    const sampler = setInterval(() => (rssMax = Math.max(rssMax, rssMb(hub.child.pid!))), 200);
    try {
      await waitUntil(async () => (await fleet.request({ cmd: 'stats' })).connected === KIOSKS, DRAIN_LIMIT_S * 1000, 'all kiosks back');
      const connectS = (performance.now() - t0) / 1000;
      const s = await fleet.drained(DRAIN_LIMIT_S * 1000).catch((e: Error) => {
        throw new Error(`${e.message}\nhub log (tail): ${hub.output().slice(-3000)}`);
      });
      const drainS = (performance.now() - t0) / 1000;
      process.stdout.write(`storm fault: ${KIOSKS} kiosks, ${total} punches, ${before.acked} acked before the kill; after the restart (hub up in ${startS.toFixed(1)} s) all ${KIOSKS} back in ${connectS.toFixed(1)} s, drained in ${drainS.toFixed(1)} s; hub RSS max ${rssMax.toFixed(0)} MB; ${s.resent} re-sent, ${s.disconnects} disconnects\n`);
      expect(drainS).toBeLessThan(DRAIN_LIMIT_S);
      expect(s.connected).toBe(KIOSKS);
    } finally {
      clearInterval(sampler);
    }
    expect(rssMax).toBeGreaterThan(0);
    expect(rssMax).toBeLessThan(RSS_LIMIT_MB);
    expect(await fleet.request({ cmd: 'undelivered' })).toBe(0);
    expect(hub.child.exitCode).toBeNull(); // the restarted hub is still up

    // exactly once, gapless, as the hub's database has it
    await waitUntil(() => {
      const db = openSqliteReadonly(join(hubDir, 'hub.db'));
      try {
        return (db.prepare('SELECT COUNT(*) FROM punches').pluck().get() as number) === total;
      } finally {
        db.close();
      }
    }, 10_000, 'all punches committed');
    const db = openSqliteReadonly(join(hubDir, 'hub.db'));
    try {
      const perDevice = db.prepare('SELECT device_id AS d, COUNT(*) AS n, COUNT(DISTINCT seq) AS s, MIN(seq) AS lo, MAX(seq) AS hi FROM punches GROUP BY device_id').all() as { d: string; n: number; s: number; lo: number; hi: number }[];
      expect(perDevice).toHaveLength(KIOSKS);
      const bad = perDevice.filter((r) => r.n !== BACKLOG || r.s !== BACKLOG || r.lo !== 1 || r.hi !== BACKLOG);
      expect(bad).toEqual([]);
    } finally {
      db.close();
    }
  }, 480_000);
});
