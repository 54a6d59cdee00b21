import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { startHub, type RunningHub } from '../../hub/server.js';
import { createFleetModule, type FleetModule } from '../../hub/fleet/module.js';
import { enrolTestDevice, runHadir, seedOrgSql, tmpDir, waitFor, type TestDevice } from '../hub/helpers.js';
import { TEST_DB, freshPostgres, sqlOf, testHubStore, type TestSql } from '../store.js';
import { generateReleaseKeys, manifestFor, releasePrivateKey, writeBundle } from '../../lib/release-bundle.js';
import { updateAnswerSchema } from '../../protocol/index.js';

/**
 * Fleet on both stores beyond the module test (hub-fleet.test.ts): the `hadir release` and
 * `hadir fleet` commands as real processes on the store under test (`--db postgres://…` with
 * HADIR_TEST_DB=postgres), seen by a running hub; and, on PostgreSQL, two hub workers sharing one
 * database: either serves the bundle and takes reports, concurrent reports decide a rollout's end
 * once, concurrent starts make one rollout.
 */

const keys = generateReleaseKeys();
const auth = (d: TestDevice) => ({ authorization: `Basic ${Buffer.from(`${d.id}:${d.password}`).toString('base64')}` });
const fleetOf = (hub: RunningHub) => hub.modules.find((m) => m.name === 'fleet') as FleetModule;

async function bundle(dir: string, version: string): Promise<string> {
  const entries = [{ path: 'bin/hadir.mjs', data: Buffer.from(`// app ${version}\n`), mode: 0o755 }, { path: 'blob.bin', data: randomBytes(100_000), mode: 0o644 }];
  const m = await manifestFor(entries, { version, arch: 'x64', nodeModules: 'bundled', minHubVersion: '0.0.0', journalSchemaVersion: 1 });
  const file = join(dir, `b-${version}.tar.gz`);
  await writeBundle(file, m, entries, releasePrivateKey(keys.privateKeyPem));
  return file;
}

const report = (hub: RunningHub, d: TestDevice, body: Record<string, unknown>) =>
  fetch(`${hub.publicUrl}/api/v1/kiosk/update/report`, { method: 'POST', headers: { ...auth(d), 'content-type': 'application/json' }, body: JSON.stringify(body) });
const auditCount = async (sql: TestSql, action: string, target: string) =>
  Number((await sql.all<{ n: number }>('SELECT count(*) AS n FROM audit_log WHERE action = ? AND target = ?', action, target))[0]!.n);

describe(`hadir release / hadir fleet commands (${TEST_DB})`, () => {
  const dir = tmpDir('fleet-cli');
  let hub: RunningHub;
  let drop: () => Promise<void> = async () => {};
  let store: string[] = [];
  const devices: TestDevice[] = [];

  beforeAll(async () => {
    const st = await testHubStore();
    drop = st.drop;
    hub = await startHub({ dataDir: join(dir, 'hub'), httpPort: 0, mqttPort: 0, defaultMetrics: false, env: {}, ...st.opts, ...(TEST_DB === 'postgres' ? { modules: [createFleetModule] } : {}) });
    store = ['--data', join(dir, 'hub'), ...(st.opts.dbUrl ? ['--db', st.opts.dbUrl] : [])];
    await seedOrgSql(sqlOf(hub));
    for (let i = 0; i < 3; i++) devices.push(await enrolTestDevice(hub.store, i < 2 ? 'PKM-01-A' : 'SDN-01', `kc-${i}`));
    writeFileSync(join(dir, 'release-key.pub'), keys.publicKeyPem);
  }, 60_000);

  afterAll(async () => {
    await hub?.close();
    await drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('adds a release, runs a rollout through pause, resume and abort, and the hub serves what the commands stored', async () => {
    const hadir = async (args: string[]) => {
      const r = await runHadir([...args, ...store]);
      expect(r.code, r.stderr).toBe(0);
      return r.stdout;
    };
    expect(await hadir(['release', 'add', await bundle(dir, '3.0.0'), '--pub', join(dir, 'release-key.pub'), '--by', 'rilis'])).toMatch(/release 3\.0\.0 x64 disimpan \/ stored/);
    const list = JSON.parse(await hadir(['release', 'list', '--format', 'json'])) as { version: string; arch: string; size: number }[];
    expect(list.map((r) => `${r.version}/${r.arch}`)).toEqual(['3.0.0/x64']);
    const id = Number(/rollout (\d+): 3\.0\.0 running/.exec(await hadir(['fleet', 'rollout', '--version', '3.0.0', '--stages', 'site:SDN-01,all', '--max-failures', '0', '--window', 'always', '--blackout', 'none', '--by', 'bkpsdm']))![1]);

    // the running hub offers the first stage (SDN-01's one kiosk) the release the command started, and serves its bytes
    const answers = await Promise.all(devices.map(async (d) => updateAnswerSchema.parse(await (await fetch(`${hub.publicUrl}/api/v1/kiosk/update`, { headers: auth(d) })).json())));
    const pilot = answers.flatMap((a, i) => (a.offer ? [devices[i]!] : []));
    expect(pilot).toHaveLength(1);
    const res = await fetch(`${hub.publicUrl}${answers.find((a) => a.offer)!.offer!.bundles.x64!.url}`, { headers: { ...auth(pilot[0]!), range: 'bytes=0-9' } });
    expect(res.status).toBe(206);
    expect(Buffer.from(await res.arrayBuffer()).equals(readFileSync(await bundle(dir, '3.0.0')).subarray(0, 10))).toBe(true);
    expect((await report(hub, pilot[0]!, { rolloutId: id, version: '3.0.0', phase: 'rolled_back', reason: 'not healthy' })).status).toBe(200);

    const status = JSON.parse(await hadir(['fleet', 'status', '--format', 'json'])) as { rollout: { id: number; state: string; reason: string }; targets: { deviceId: string; state: string }[]; failures: { deviceId: string; reason: string }[] };
    expect(status.rollout).toMatchObject({ id, state: 'halted' });
    expect(status.failures).toEqual([expect.objectContaining({ deviceId: pilot[0]!.id, reason: 'not healthy' })]);
    expect(await hadir(['fleet', 'resume', String(id), '--max-failures', '1'])).toMatch(new RegExp(`rollout ${id}: running`));
    expect(await hadir(['fleet', 'pause'])).toMatch(new RegExp(`rollout ${id}: paused`));
    expect(await hadir(['fleet', 'window', 'SDN-01', '19:00-04:00'])).toMatch(/SDN-01/);
    expect(await hadir(['fleet', 'abort', '--reason', 'uji / test'])).toMatch(new RegExp(`rollout ${id}: aborted \\(uji / test\\)`));
    const table = await hadir(['fleet', 'status']);
    expect(table).toMatch(/aborted \(uji \/ test\)/);
    expect(table).toMatch(/kc-2/);
    // every command left its audit entry in the hub's log (cli actor kind)
    const sql = sqlOf(hub);
    expect(await sql.all('SELECT action FROM audit_log WHERE actor_kind = ? ORDER BY id', 'cli')).toEqual(
      ['release.add', 'rollout.start', 'rollout.resume', 'rollout.pause', 'fleet.window', 'rollout.abort'].map((action) => ({ action })),
    );
  }, 120_000);
});

describe.skipIf(TEST_DB !== 'postgres')('fleet on two hub workers sharing one PostgreSQL', () => {
  const dir = tmpDir('fleet-workers');
  let a: RunningHub;
  let b: RunningHub;
  let sql: TestSql;
  let drop: () => Promise<void> = async () => {};
  const devices: TestDevice[] = [];

  beforeAll(async () => {
    const db = await freshPostgres();
    drop = db.drop;
    const worker = (name: string) => startHub({ dataDir: join(dir, name), dbUrl: db.url, modules: [createFleetModule], httpPort: 0, mqttPort: 0, defaultMetrics: false, env: {} });
    a = await worker('a');
    b = await worker('b');
    sql = sqlOf(a);
    await seedOrgSql(sql);
    for (let i = 0; i < 12; i++) devices.push(await enrolTestDevice(a.store, i % 2 ? 'PKM-01-A' : 'SDN-01', `kw-${String(i).padStart(2, '0')}`));
    for (const v of ['4.0.0', '4.1.0']) await fleetOf(a).service.addRelease(await bundle(dir, v), 'test', keys.publicKeyPem);
    // docs/hub.md: every worker needs the bundles in its own data dir (b's is elsewhere): `release
    // add` there again (one row in the database, the file copied) or a copy of the folder
    expect((await fleetOf(b).service.addRelease(join(dir, 'b-4.0.0.tar.gz'), 'test', keys.publicKeyPem)).file).toBe(join(dir, 'a', 'releases', 'hadir-4.0.0-x64.tar.gz'));
    cpSync(join(dir, 'a', 'releases', 'hadir-4.1.0-x64.tar.gz'), join(dir, 'b', 'releases', 'hadir-4.1.0-x64.tar.gz'));
  }, 60_000);

  afterAll(async () => {
    await a?.close();
    await b?.close();
    await drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('either worker serves the bundle stored by the other (range requests from its own data dir)', async () => {
    // the second add on b stored no second row and no second audit entry
    await waitFor(async () => (await auditCount(sql, 'release.add', '4.1.0/x64')) > 0, 10_000, 'the adds audited');
    expect(await sql.all("SELECT action, target FROM audit_log WHERE action = 'release.add' ORDER BY id")).toEqual(['4.0.0/x64', '4.1.0/x64'].map((target) => ({ action: 'release.add', target })));
    // a's folder out of the way: b serves from its own data dir, a has nothing to serve
    const aDir = join(dir, 'a', 'releases');
    renameSync(aDir, `${aDir}.away`);
    expect((await fetch(`${a.publicUrl}/api/v1/kiosk/releases/4.0.0/x64`, { headers: auth(devices[0]!) })).status).toBe(404);
    for (const v of ['4.0.0', '4.1.0']) {
      const full = readFileSync(join(dir, 'b', 'releases', `hadir-${v}-x64.tar.gz`));
      const res = await fetch(`${b.publicUrl}/api/v1/kiosk/releases/${v}/x64`, { headers: { ...auth(devices[0]!), range: 'bytes=1000-' } });
      expect(res.status).toBe(206);
      expect(res.headers.get('content-range')).toBe(`bytes 1000-${full.length - 1}/${full.length}`);
      expect(Buffer.from(await res.arrayBuffer()).equals(full.subarray(1000))).toBe(true);
      expect(full.equals(await readFile(join(`${aDir}.away`, `hadir-${v}-x64.tar.gz`)))).toBe(true);
    }
    renameSync(`${aDir}.away`, aDir);
  });

  it('two workers starting a rollout at once make one', async () => {
    const starts = await Promise.allSettled([a, b, a, b].map((h) => fleetOf(h).service.startRollout({ version: '4.0.0', stages: '50%,all', window: 'always', blackouts: 'none', maxFailures: 2, by: 'test' })));
    expect(starts.filter((s) => s.status === 'fulfilled')).toHaveLength(1);
    for (const s of starts) if (s.status === 'rejected') expect(String(s.reason)).toMatch(/is still running/);
    expect(await sql.all("SELECT count(*)::int AS n FROM fleet_rollouts WHERE state = 'running'")).toEqual([{ n: 1 }]);
  });

  it('reports to both workers at once: the rollout completes, decided once', async () => {
    const ro = (await fleetOf(a).service.rollout())!;
    const rs = await Promise.all(devices.map((d, i) => report(i % 2 ? a : b, d, { rolloutId: ro.id, version: '4.0.0', phase: 'confirmed' })));
    expect(rs.map((r) => r.status)).toEqual(devices.map(() => 200));
    expect((await fleetOf(b).service.rollout(ro.id))!.state).toBe('completed');
    await waitFor(async () => (await auditCount(sql, 'rollout.complete', `rollout:${ro.id}`)) > 0, 10_000, 'the completion audited');
    await new Promise((r) => setTimeout(r, 300));
    expect(await auditCount(sql, 'rollout.complete', `rollout:${ro.id}`)).toBe(1);
    expect(await auditCount(sql, 'kiosk.updated', `rollout:${ro.id}`)).toBe(12);
  });

  it('failures reported to both workers at once halt the rollout past its limit, once', async () => {
    const ro = await fleetOf(b).service.startRollout({ version: '4.1.0', stages: 'all', window: 'always', blackouts: 'none', maxFailures: 2, by: 'test' });
    const failing = devices.slice(0, 5);
    await Promise.all(failing.map((d, i) => report(i % 2 ? a : b, d, { rolloutId: ro.id, version: '4.1.0', phase: 'refused', reason: `bundle refused ${d.id}` })));
    const after = (await fleetOf(a).service.rollout(ro.id))!;
    expect(after.state).toBe('halted');
    expect(after.reason).toMatch(/kiosk gagal \/ failed \(batas \/ limit 2\)/);
    expect((await fleetOf(a).service.failures({ rolloutId: ro.id })).map((f) => f.deviceId).sort()).toEqual(failing.map((d) => d.id));
    await waitFor(async () => (await auditCount(sql, 'rollout.halt', `rollout:${ro.id}`)) > 0, 10_000, 'the halt audited');
    await new Promise((r) => setTimeout(r, 300));
    expect(await auditCount(sql, 'rollout.halt', `rollout:${ro.id}`)).toBe(1);
    // nobody is offered it any more, on either worker
    for (const h of [a, b]) {
      const ans = updateAnswerSchema.parse(await (await fetch(`${h.publicUrl}/api/v1/kiosk/update`, { headers: auth(devices[11]!) })).json());
      expect(ans.offer).toBeNull();
    }
  });
});
