import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startHub, type RunningHub } from '../../hub/server.js';
import { enrolTestDevice, seedOrgSql, tmpDir, type TestDevice } from '../hub/helpers.js';
import { FleetModule, createFleetModule } from '../../hub/fleet/module.js';
import { TEST_DB, sqlOf, testHubStore } from '../store.js';
import type { FleetAuditEvent } from '../../hub/fleet/service.js';
import { generateReleaseKeys, manifestFor, releasePrivateKey, writeBundle } from '../../lib/release-bundle.js';
import { Updater } from '../../kiosk/updater/updater.js';
import { kioskConfigSchema } from '../../kiosk/config.js';
import { childLogger } from '../../lib/logger.js';
import { updateAnswerSchema } from '../../protocol/index.js';

/**
 * The hub's side of fleet updates, in one process with a real HTTP server: range downloads that
 * resume after an interruption, offers by stage, and a rollout halting at 2 failures of 10. On the
 * store under test (test/store.ts: SQLite, or PostgreSQL with HADIR_TEST_DB=postgres).
 */

describe(`hub fleet module (${TEST_DB})`, () => {
  const dir = tmpDir('fleet-hub');
  let hub: RunningHub;
  let fleet: FleetModule;
  const devices: TestDevice[] = [];
  const audit: FleetAuditEvent[] = [];
  const keys = generateReleaseKeys();
  const pubFile = join(dir, 'release-key.pub');
  const auth = (d: TestDevice) => ({ authorization: `Basic ${Buffer.from(`${d.id}:${d.password}`).toString('base64')}` });

  let drop: () => Promise<void> = async () => {};

  beforeAll(async () => {
    const st = await testHubStore();
    drop = st.drop;
    hub = await startHub({ dataDir: dir, httpPort: 0, mqttPort: 0, defaultMetrics: false, env: {}, ...st.opts, ...(TEST_DB === 'postgres' ? { modules: [createFleetModule] } : {}) });
    // the service keeps no state of its own: the hub's instance sees the same rows; this one's audit is collected
    fleet = new FleetModule(hub.ctx, { record: (e) => audit.push(e) });
    await seedOrgSql(sqlOf(hub));
    for (let i = 0; i < 10; i++) devices.push(await enrolTestDevice(hub.store, i < 5 ? 'PKM-01-A' : 'SDN-01', `kf-${i}`));
    writeFileSync(pubFile, keys.publicKeyPem);
    // a 3 MB bundle, so an interrupted download has something to resume
    const big = Buffer.alloc(3 * 1024 * 1024);
    for (let i = 0; i < big.length; i += 4) big.writeUInt32LE((i * 2654435761) >>> 0, i);
    for (const v of ['7.0.0', '7.1.0']) {
      const entries = [
        { path: 'bin/hadir.mjs', data: Buffer.from('// app\n'), mode: 0o755 },
        { path: 'blob.bin', data: big, mode: 0o644 },
      ];
      const m = await manifestFor(entries, { version: v, arch: 'x64', nodeModules: 'bundled', minHubVersion: '0.0.0', journalSchemaVersion: 1 });
      await writeBundle(join(dir, `b-${v}.tar.gz`), m, entries, releasePrivateKey(keys.privateKeyPem));
      await fleet.service.addRelease(join(dir, `b-${v}.tar.gz`), 'test', keys.publicKeyPem);
    }
  }, 60_000);

  afterAll(async () => {
    await hub?.close();
    await drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves a bundle with range requests; an interrupted download resumes where it stopped', async () => {
    const rel = (await fleet.service.release('7.0.0', 'x64'))!;
    const full = readFileSync(rel.file);
    const url = `${hub.publicUrl}/api/v1/kiosk/releases/7.0.0/x64`;
    const part = await fetch(url, { headers: { ...auth(devices[0]!), range: 'bytes=100-199' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 100-199/${full.length}`);
    expect(Buffer.from(await part.arrayBuffer()).equals(full.subarray(100, 200))).toBe(true);
    expect((await fetch(url, { headers: { ...auth(devices[0]!), range: `bytes=${full.length}-` } })).status).toBe(416);
    expect((await fetch(url)).status).toBe(401);

    const cfg = kioskConfigSchema.parse({
      deviceId: devices[0]!.id, siteCode: 'PKM-01-A', hubUrl: hub.publicUrl, dataDir: join(dir, 'kiosk'),
      mqtt: { url: 'mqtt://127.0.0.1:1', username: devices[0]!.id, password: devices[0]!.password }, privateKeyPem: keys.privateKeyPem,
      update: { root: join(dir, 'opt'), stateDir: join(dir, 'upd'), publicKeyFile: pubFile, restart: 'signal' },
    });
    let stopAt = 0;
    const u = new Updater({
      config: cfg, configPath: '/dev/null', supervisor: { restart: async () => {} }, log: childLogger('test'),
      onDownloadChunk: (n, abort) => {
        if (stopAt && n >= stopAt) abort();
      },
    });
    const offer = { size: rel.size, sha256: rel.sha256, url: '/api/v1/kiosk/releases/7.0.0/x64' };
    stopAt = Math.floor(rel.size / 3);
    await expect(u.download('7.0.0', offer)).rejects.toThrow(/interrupted after \d+ of/);
    const kept = statSync(`${u.bundlePath('7.0.0')}.part`).size;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(rel.size);
    stopAt = 0;
    const r = await u.download('7.0.0', offer);
    expect(r.resumedFrom).toBe(kept);
    expect(r.transferred).toBe(rel.size - kept); // only the rest went over the wire
    expect(readFileSync(r.path).equals(full)).toBe(true);
    expect(existsSync(`${u.bundlePath('7.0.0')}.part`)).toBe(false);
  });

  it('offers the release stage by stage and halts a rollout at 2 failures out of 10', async () => {
    const ask = async (d: TestDevice) => updateAnswerSchema.parse(await (await fetch(`${hub.publicUrl}/api/v1/kiosk/update`, { headers: auth(d) })).json());
    const report = async (d: TestDevice, body: Record<string, unknown>) =>
      fetch(`${hub.publicUrl}/api/v1/kiosk/update/report`, { method: 'POST', headers: { ...auth(d), 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const ro = await fleet.service.startRollout({ version: '7.1.0', stages: '1,site:PKM-01-A,all', window: 'always', blackouts: 'none', maxFailures: 1, by: 'test' });
    const offered = async () => (await Promise.all(devices.map(async (d) => ((await ask(d)).offer ? d : null)))).filter(Boolean) as TestDevice[];
    const pilot = await offered();
    expect(pilot).toHaveLength(1);
    expect((await report(pilot[0]!, { rolloutId: ro.id, version: '7.1.0', phase: 'confirmed', timings: { confirmS: 9 } })).status).toBe(200);
    const stage2 = await offered();
    expect(pilot[0]!.id).toBe('kf-0');
    expect(stage2.map((d) => d.id).sort()).toEqual(['kf-1', 'kf-2', 'kf-3', 'kf-4']);
    for (const d of stage2) await report(d, { rolloutId: ro.id, version: '7.1.0', phase: 'confirmed' });
    const rest = await offered();
    expect(rest.length).toBe(10 - 1 - stage2.length);
    // one failure: within the limit; the second halts the rollout and nobody is offered any more
    await report(rest[0]!, { rolloutId: ro.id, version: '7.1.0', phase: 'rolled_back', reason: 'not healthy within 120 s: MQTT not connected' });
    expect((await fleet.service.rollout(ro.id))!.state).toBe('running');
    await report(rest[1]!, { rolloutId: ro.id, version: '7.1.0', phase: 'refused', reason: 'bundle refused: signature does not verify' });
    const halted = (await fleet.service.rollout(ro.id))!;
    expect(halted.state).toBe('halted');
    expect(halted.reason).toMatch(/2 kiosk/);
    expect(await offered()).toHaveLength(0);
    const st = (await fleet.status(ro.id)) as { failures: { reason: string }[]; targets: { state: string }[] };
    expect(st.failures.map((f) => f.reason)).toEqual(['not healthy within 120 s: MQTT not connected', 'bundle refused: signature does not verify']);
    // resume refuses to go on at the same limit; a higher one resumes
    await expect(fleet.service.resume(ro.id, 'test')).rejects.toThrow(/would halt again/);
    expect((await fleet.service.rollout(ro.id))!.state).toBe('halted'); // unchanged
    expect((await fleet.service.resume(ro.id, 'test', 3)).state).toBe('running');
    expect((await offered()).length).toBe(rest.length - 2);
    expect((await fleet.service.pause(ro.id, 'test')).state).toBe('paused');
    expect(await offered()).toHaveLength(0);
    expect((await fleet.service.abort(ro.id, 'test')).state).toBe('aborted');
    await expect(fleet.service.startRollout({ version: '9.9.9', by: 'test' })).rejects.toThrow(/not stored/);
    // every operator action went through the audit seam, after the change
    expect(audit.filter((e) => e.target === `rollout:${ro.id}` && e.actorKind === 'user').map((e) => e.action)).toEqual(['rollout.start', 'rollout.resume', 'rollout.pause', 'rollout.abort']);
    expect(audit.filter((e) => e.action === 'release.add').map((e) => e.target)).toEqual(['7.0.0/x64', '7.1.0/x64']);
  });

  it('outside the install window a kiosk only downloads', async () => {
    const ro = await fleet.service.startRollout({ version: '7.0.0', stages: 'all', window: '00:00-00:01', blackouts: 'none', by: 'test' });
    const a = updateAnswerSchema.parse(await (await fetch(`${hub.publicUrl}/api/v1/kiosk/update`, { headers: auth(devices[9]!) })).json());
    expect(a.offer?.rolloutId).toBe(ro.id);
    // 00:00–00:01 local is one minute a day: almost surely not now (checked against the clock)
    const local = (Math.floor(Date.now() / 60000) + 420) % 1440;
    expect(a.offer?.installNow).toBe(local === 0);
    await fleet.service.abort(ro.id, 'test');
  });
});
