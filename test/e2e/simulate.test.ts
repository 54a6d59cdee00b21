import { afterAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { startHub } from '../../hub/server.js';
import { lockHolder } from '../../kiosk/instance-lock.js';
import { privateMosquitto } from '../hub/helpers.js';
import { addKiosk, checkExactlyOnce, exitWithin, hubPunches, kioskJournal, rand, seedOrg, spawnHadir, tmp } from './harness.js';

/**
 * `hadir kiosk --simulate --punches N` against the REAL hub: once through the hub's embedded aedes
 * broker, once through a real Mosquitto the test starts on a free port.
 */
const closers: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of closers.reverse()) await c();
});

async function simulateRun(o: { mosquitto?: boolean; prefix?: string; tag: string }) {
  const dir = tmp(o.tag);
  closers.push(async () => rmSync(dir, { recursive: true, force: true }));
  const mosq = o.mosquitto ? await privateMosquitto(dir, 'allow_anonymous true') : null;
  if (mosq) closers.push(() => mosq.stop());
  const hubDir = join(dir, 'hub');
  const site = `S-${rand(2)}`.toUpperCase();
  seedOrg(hubDir, site, 25);
  const hub = await startHub({
    httpPort: 0, httpHost: '127.0.0.1', mqttPort: 0, mqttHost: '127.0.0.1', dataDir: hubDir,
    ...(mosq ? { mqttUrl: mosq.url, prefix: o.prefix, mqttPersistent: false } : {}),
    defaultMetrics: false,
  });
  closers.push(() => hub.close());
  const k = await addKiosk({ hubDataDir: hubDir, hubUrl: hub.publicUrl, mqttUrl: hub.mqttUrl, prefix: o.prefix, site, dir });
  const run = spawnHadir(['kiosk', '--config', k.configPath, '--simulate', '--punches', '400', '--rate', '400']);
  const code = await exitWithin(run, 90_000, 'simulated kiosk');
  expect(code, run.output()).toBe(0);
  const summary = JSON.parse(run.output().trim().split('\n').filter((l) => l.startsWith('{"deviceId"')).pop()!) as Record<string, number>;
  expect(summary).toMatchObject({ identifications: 400, recorded: 400, lastSeq: 400, undelivered: 0 });
  // the simulated kiosk logs no error (level 50+), e.g. about a face camera it does not use
  expect(run.output().split('\n').filter((l) => /"level":(5|6)\d/.test(l))).toEqual([]);
  const journal = await kioskJournal(k.configPath);
  const stored = hubPunches(hubDir, k.deviceId);
  expect(checkExactlyOnce(journal, stored)).toEqual([]);
  expect(stored).toHaveLength(400);
  // Sim picks roster members only, with method face.
  const res = await fetch(`${hub.publicUrl}/healthz`);
  expect(res.ok).toBe(true);
  return { hub, k, stored };
}

describe('simulated kiosk → real hub', () => {
  it('through the embedded aedes broker; a continuous run stops cleanly on SIGTERM', async () => {
    const { k, stored } = await simulateRun({ tag: 'aedes' });
    const run = spawnHadir(['kiosk', '--config', k.configPath, '--simulate', '--rate', '20']);
    for (let t0 = Date.now(); (await lockHolder(k.kioskDataDir)) !== run.child.pid; ) {
      if (Date.now() - t0 > 30_000) throw new Error(`kiosk start: ${run.output()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    await new Promise((r) => setTimeout(r, 2000));
    run.child.kill('SIGTERM');
    expect(await exitWithin(run, 20_000, 'kiosk stop')).toBe(0);
    expect(await lockHolder(k.kioskDataDir)).toBe(null);
    const journal = await kioskJournal(k.configPath);
    expect(journal.integrity).toBe('ok');
    expect(journal.rows.length).toBeGreaterThan(stored.length);
    expect(journal.rows.map((r) => r.seq)).toEqual(journal.rows.map((_, i) => i + 1));
  }, 120_000);

  it('through a real Mosquitto (started by the test on a free port)', async () => {
    await simulateRun({ tag: 'mosq', mosquitto: true, prefix: `t-${rand()}/hadir/v1` });
  }, 120_000);
});
