import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, existsSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import Database from 'better-sqlite3';
import { ROOT, addKiosk, checkExactlyOnce, freePort, hadir, hubPunches, patchConfig, seedOrg, spawnHadir, tmp, waitUntil } from '../e2e/harness.js';
import { KioskLoop, appCopy, kioskHealthy, runState } from './harness.js';
import { buildRelease } from '../../lib/release-build.js';
import { releasePrivateKey, releasePublicKey, verifyBundle } from '../../lib/release-bundle.js';
import { ReleaseDirs, linkNodeModules } from '../../kiosk/updater/releases.js';
import { Journal } from '../../kiosk/journal.js';

/**
 * The fleet update on real processes: a hub process, a kiosk process (simulated identifications at
 * 5/s, restarted by a systemd-like loop from `current`), the updater process, release bundles built
 * from this working tree (test bundles link the checkout's node_modules). v1→v2 with a journal
 * migration, v3 crashing at start and v4 never connecting rolled back, a changed byte and a foreign
 * key refused before anything changes, power cuts at every step, and exactly-once at the end.
 */

// The production default is 120 s; 40 s keeps the test meaningful on a shared, loaded 2-core machine.
const CONFIRM_S = 40;
const SITE = 'FLT-A';

describe('fleet update on real processes', () => {
  const dir = tmp('fleet');
  const hubData = join(dir, 'hub');
  const optRoot = join(dir, 'opt');
  const keys = join(dir, 'keys');
  let hubProc: ReturnType<typeof spawnHadir>;
  let updater: ReturnType<typeof spawnHadir> | null = null;
  let loop: KioskLoop;
  let configPath = '';
  let kioskData = '';
  let deviceId = '';
  const dirs = new ReleaseDirs(optRoot);
  const figures: Record<string, unknown> = {};

  const db = () => new Database(join(hubData, 'hub.db'), { readonly: true });
  const target = (rollout: number) => {
    const d = db();
    try {
      return d.prepare('SELECT state, reason, timings, offered_at AS offeredAt, confirmed_at AS confirmedAt FROM fleet_targets WHERE rollout_id = ? AND device_id = ?').get(rollout, deviceId) as {
        state: string; reason: string | null; timings: string | null; offeredAt: string | null; confirmedAt: string | null;
      };
    } finally {
      d.close();
    }
  };
  const startUpdater = (env: Record<string, string> = {}) => {
    updater = spawnHadir(['updater', '--config', configPath], { HADIR_LOG_LEVEL: 'info', ...env });
  };
  const killUpdater = async () => {
    if (!updater) return;
    const u = updater;
    updater = null;
    if (u.child.exitCode === null && u.child.signalCode === null) {
      u.child.kill('SIGKILL');
      await u.exited;
    }
  };
  const build = async (version: string, appDir: string, keyFile = join(keys, 'release-key.pem')) => {
    const out = join(dir, 'bundles', `hadir-${version}-x64.tar.gz`);
    await buildRelease({ version, appDir, nodeModules: 'none', out, key: releasePrivateKey(readFileSync(keyFile, 'utf8')) });
    return out;
  };
  const add = async (bundle: string) => {
    const r = await hadir(['release', 'add', bundle, '--data', hubData, '--pub', join(keys, 'release-key.pub')]);
    expect(r.code, r.stderr).toBe(0);
  };
  const rollout = async (version: string): Promise<number> => {
    const r = await hadir(['fleet', 'rollout', '--version', version, '--stages', 'all', '--window', 'always', '--blackout', 'none', '--data', hubData]);
    expect(r.code, r.stderr).toBe(0);
    return Number(/rollout (\d+)/.exec(r.stdout)![1]);
  };
  const settled = async (id: number, ms = (CONFIRM_S + 60) * 1000) => {
    await waitUntil(() => ['confirmed', 'failed'].includes(target(id).state), ms, `rollout ${id} to settle (updater: ${updater?.output().slice(-2000)})`);
    return target(id);
  };
  const releasesOnDisk = () => readdirSync(dirs.releasesDir).filter((n) => !n.startsWith('.')).sort();

  beforeAll(async () => {
    // keys, org, hub
    expect((await hadir(['release', 'keygen', '--out', keys])).code).toBe(0);
    expect((await hadir(['release', 'keygen', '--out', join(dir, 'other-keys')])).code).toBe(0);
    seedOrg(hubData, SITE, 5);
    const [httpPort, mqttPort] = [await freePort(), await freePort()];
    const hubUrl = `http://127.0.0.1:${httpPort}`;
    hubProc = spawnHadir(['hub', '--data', hubData, '--http-port', String(httpPort), '--mqtt-port', String(mqttPort)], { HADIR_PUBLIC_URL: hubUrl });
    await waitUntil(async () => (await fetch(`${hubUrl}/healthz`).catch(() => null))?.ok === true, 30_000, 'hub up');
    const k = await addKiosk({ hubDataDir: hubData, hubUrl, mqttUrl: `mqtt://127.0.0.1:${mqttPort}`, site: SITE, dir });
    ({ configPath, kioskDataDir: kioskData, deviceId } = k);
    patchConfig(configPath, {
      update: {
        root: optRoot, publicKeyFile: join(keys, 'release-key.pub'), stateDir: join(dir, 'updater'), pollS: 1, confirmTimeoutS: CONFIRM_S,
        restart: 'signal', kioskUser: '', nodeModulesDir: join(ROOT, 'node_modules'),
      },
    });
    // "provisioning": release 1.0.0 (this checkout as it is) unpacked into releases/1.0.0, current → it
    const v1 = join(dir, 'bundles', 'hadir-1.0.0-x64.tar.gz');
    const b = await hadir(['release', 'build', '--version', '1.0.0', '--app', ROOT, '--node-modules', 'none', '--key', join(keys, 'release-key.pem'), '--out', v1]);
    expect(b.code, b.stderr).toBe(0);
    await verifyBundle(v1, { publicKey: releasePublicKey(readFileSync(join(keys, 'release-key.pub'), 'utf8')), extractTo: dirs.staging('1.0.0') });
    linkNodeModules(dirs.staging('1.0.0'), join(ROOT, 'node_modules'));
    dirs.promote('1.0.0');
    dirs.switchTo('1.0.0');
    loop = new KioskLoop(optRoot, configPath);
    loop.start();
    await waitUntil(() => kioskHealthy(kioskData, '1.0.0'), 60_000, `kiosk 1.0.0 healthy (${loop.output().slice(-2000)})`);
    startUpdater();
  }, 180_000);

  afterAll(async () => {
    await killUpdater();
    await loop?.stop();
    hubProc?.child.kill('SIGTERM');
    await hubProc?.exited;
    rmSync(dir, { recursive: true, force: true });
    process.stdout.write(`fleet figures (shared 2-core machine): ${JSON.stringify(figures)}\n`);
  });

  it('v1 → v2 succeeds, reports, and migrates the journal only once confirmed', async () => {
    const v2app = appCopy(join(dir, 'app-v2'), {
      'kiosk/journal-migrations.json': (s) => s.replace('"migrations": []', '"migrations": [{ "sql": "CREATE INDEX IF NOT EXISTS punches_captured ON punches (captured_at)" }]'),
    });
    const bundle = await build('2.0.0', v2app);
    figures.bundleBytesWithoutNodeModules = statSync(bundle).size;
    await add(bundle);
    const t0 = Date.now();
    const id = await rollout('2.0.0');
    const t = await settled(id);
    figures.rolloutToConfirmedS = (Date.now() - t0) / 1000;
    expect(t.state, t.reason ?? '').toBe('confirmed');
    const timings = JSON.parse(t.timings!) as Record<string, number>;
    figures.v2 = timings;
    expect(timings.restartGapS).toBeGreaterThan(0);
    expect(timings.journalSchema).toBe(2);
    expect(readlinkSync(dirs.currentLink)).toBe(join('releases', '2.0.0'));
    expect(kioskHealthy(kioskData, '2.0.0')).toBe(true);
    expect(releasesOnDisk()).toEqual(['1.0.0', '2.0.0']);
    // the switch seen from the punch path: the longest time without a journaled punch since the rollout started
    const jr = Journal.openReadonly(kioskData);
    const times = jr.rows().map((r) => Date.parse(r.capturedAt)).filter((x) => x >= t0).sort((a, b) => a - b);
    jr.close();
    const gap = Math.max(...times.slice(1).map((x, i) => x - times[i]!)) / 1000;
    figures.v2JournalGapS = gap;
    figures.v2PunchesRefusedAt5PerS = Math.max(0, Math.round((gap - 0.2) * 5));
    const j = Journal.openReadonly(kioskData);
    expect(j.schemaVersion()).toBe(2);
    j.close();
    const status = await hadir(['fleet', 'status', '--data', hubData]);
    expect(status.stdout).toContain('confirmed');
    expect(status.stdout).toContain('2.0.0');
  }, 240_000);

  const brokenApps = async () => ({
    v3: appCopy(join(dir, 'app-v3'), {
      'kiosk/journal-migrations.json': (s) => s.replace('"migrations": []', '"migrations": [{ "sql": "CREATE INDEX IF NOT EXISTS punches_captured ON punches (captured_at)" }, { "sql": "CREATE TABLE never_applied (x)" }]'),
      'kiosk/app.ts': (s) => s.replace('export class KioskApp {', "throw new Error('v3: broken build');\nexport class KioskApp {"),
    }),
    v4: appCopy(join(dir, 'app-v4'), {
      'kiosk/journal-migrations.json': (s) => s.replace('"migrations": []', '"migrations": [{ "sql": "CREATE INDEX IF NOT EXISTS punches_captured ON punches (captured_at)" }, { "sql": "CREATE TABLE never_applied (x)" }]'),
      'kiosk/link.ts': (s) => s.replace('mqtt.connect(o.url,', "mqtt.connect('mqtt://127.0.0.1:9',"),
    }),
  });

  it('v3 crashing at start and v4 never connecting are rolled back to v2 within the deadline', async () => {
    const apps = await brokenApps();
    for (const [version, app, expectReason] of [['3.0.0', apps.v3, /crashed at start \d+ times|READY/], ['4.0.0', apps.v4, /MQTT/]] as const) {
      await add(await build(version, app));
      const t0 = Date.now();
      const id = await rollout(version);
      const t = await settled(id);
      expect(t.state).toBe('failed');
      expect(t.reason).toMatch(expectReason);
      expect(t.reason).toMatch(/rolled back to 2\.0\.0/);
      await waitUntil(() => kioskHealthy(kioskData, '2.0.0'), 30_000, 'v2 healthy again');
      const backS = (Date.now() - t0) / 1000;
      figures[`rollback_${version}_s`] = backS;
      expect(backS).toBeLessThan(CONFIRM_S + 45);
      expect(readlinkSync(dirs.currentLink)).toBe(join('releases', '2.0.0'));
      expect(releasesOnDisk()).toEqual(['1.0.0', '2.0.0']);
      const j = Journal.openReadonly(kioskData);
      expect(j.schemaVersion()).toBe(2); // the broken release's migration 3 never ran
      j.close();
    }
    const failures = await hadir(['fleet', 'status', '--data', hubData, '--format', 'json']);
    expect(JSON.parse(failures.stdout).failures.length).toBeGreaterThanOrEqual(1);
  }, 300_000);

  it('a bundle with one changed byte, or signed by another key, is refused before anything changes', async () => {
    // the hub refuses both at `release add` …
    const good = await build('5.0.0', ROOT);
    const raw = gunzipSync(readFileSync(good));
    const at = raw.indexOf(Buffer.from('Hadir kiosk berjalan / running'));
    expect(at).toBeGreaterThan(0);
    raw[at] = 'h'.charCodeAt(0);
    const tampered = join(dir, 'bundles', 'tampered-5.0.0.tar.gz');
    writeFileSync(tampered, gzipSync(raw));
    const foreign = await build('6.0.0', ROOT, join(dir, 'other-keys', 'release-key.pem'));
    for (const [f, why] of [[tampered, /sha256/], [foreign, /signature/]] as const) {
      const r = await hadir(['release', 'add', f, '--data', hubData]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(why);
    }
    // … and a kiosk refuses them even when a hub (compromised, corrupted disk) serves them.
    const inject = (file: string, version: string) => {
      const dest = join(hubData, 'releases', `hadir-${version}-x64.tar.gz`);
      copyFileSync(file, dest);
      const buf = readFileSync(dest);
      const d = new Database(join(hubData, 'hub.db'));
      d.prepare("INSERT INTO fleet_releases (version, arch, file, size, sha256, manifest, key_id, added_at) VALUES (?, 'x64', ?, ?, ?, '{}', 'x', ?)").run(version, dest, buf.length, createHash('sha256').update(buf).digest('hex'), new Date().toISOString());
      d.close();
    };
    inject(tampered, '5.0.0');
    inject(foreign, '6.0.0');
    for (const [version, why] of [['5.0.0', /sha256 .* does not match/], ['6.0.0', /signature does not verify/]] as const) {
      const pid = runState(kioskData)!.pid;
      const before = { releases: releasesOnDisk(), current: readlinkSync(dirs.currentLink) };
      const id = await rollout(version);
      const t = await settled(id);
      expect(t.state).toBe('failed');
      expect(t.reason).toMatch(why);
      expect({ releases: releasesOnDisk(), current: readlinkSync(dirs.currentLink) }).toEqual(before);
      expect(runState(kioskData)!.pid).toBe(pid); // never restarted
      expect(existsSync(dirs.staging(version))).toBe(false);
    }
  }, 180_000);

  it('a power cut (SIGKILL of updater and kiosk) at each step leaves a bootable kiosk that then finishes the update', async () => {
    const app = join(dir, 'app-v2');
    const steps = ['downloaded', 'staged', 'promoted', 'switching', 'switched', 'restarted'];
    const boots: Record<string, { bootedVersion: string; readyS: number }> = {};
    for (const [i, step] of steps.entries()) {
      const version = `2.1.${i}`;
      await add(await build(version, app));
      await killUpdater();
      rmSync(join(dir, 'updater', 'held-at'), { force: true });
      startUpdater({ HADIR_UPDATER_HOLD_AT: step });
      const id = await rollout(version);
      await waitUntil(() => existsSync(join(dir, 'updater', 'held-at')), 60_000, `updater to reach ${step} (${updater?.output().slice(-1500)})`);
      // power cut
      await killUpdater();
      await loop.powerCut();
      // boot
      const tBoot = Date.now();
      loop.start();
      await waitUntil(() => kioskHealthy(kioskData), 60_000, `kiosk healthy after a cut at ${step} (${loop.output().slice(-1500)})`);
      boots[step] = { bootedVersion: runState(kioskData)!.version, readyS: (Date.now() - tBoot) / 1000 };
      startUpdater();
      const t = await settled(id);
      expect(t.state, `${step}: ${t.reason}`).toBe('confirmed');
      ((figures.updateRestartGapsS ??= []) as number[]).push((JSON.parse(t.timings!) as { restartGapS: number }).restartGapS);
      await waitUntil(() => kioskHealthy(kioskData, version), 30_000, `${version} healthy`);
      expect(releasesOnDisk().length).toBe(2);
    }
    figures.powerCuts = boots;
  }, 600_000);

  it('nothing journaled is lost: every punch at the hub exactly once, restart gaps measured', async () => {
    await killUpdater();
    await loop.stop();
    // drain without the simulator
    const drain = new KioskLoop(optRoot, configPath, ['--no-screen']);
    drain.start();
    await waitUntil(() => {
      const j = Journal.openReadonly(kioskData);
      try {
        return j.stats().undelivered === 0;
      } finally {
        j.close();
      }
    }, 60_000, 'journal drained');
    await drain.stop();
    const j = Journal.openReadonly(kioskData);
    const rows = j.rows();
    const journal = { rows: rows.map((r) => ({ seq: r.seq, id: r.id, nip: r.nip, delivered: r.deliveredAt !== null, rejectedReason: r.rejectedReason })), integrity: j.integrityCheck() };
    j.close();
    expect(checkExactlyOnce(journal, hubPunches(hubData, deviceId))).toEqual([]);
    // restart gaps: the simulator identifies every 200 ms; a gap is the time no process journaled
    const times = rows.map((r) => Date.parse(r.capturedAt)).sort((a, b) => a - b);
    const gaps = times.slice(1).map((t, i) => (t - times[i]!) / 1000).filter((g) => g > 1).sort((a, b) => b - a);
    figures.journaled = rows.length;
    figures.restartGapsS = gaps.slice(0, 12);
    figures.punchesRefusedAt5PerS = gaps.slice(0, 12).map((g) => Math.round(g * 5));
    expect(rows.length).toBeGreaterThan(100);
  }, 180_000);
});
