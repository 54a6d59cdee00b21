import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openHubStores } from '../../hub/store/open.js';
import type { CoreStore } from '../../hub/store/core-store.js';
import { registerDevice } from '../../hub/devices/registry.js';
import { generateDeviceKeys, loadPrivateKey } from '../../protocol/index.js';
import { hadir } from '../e2e/harness.js';
import { makeDevice, seedOrgSql, tmpDir } from './helpers.js';
import { TEST_DB, freshPostgres, sqlOf } from '../store.js';
import { generateReleaseKeys, manifestFor, releasePrivateKey, writeBundle } from '../../lib/release-bundle.js';
import { systemClock } from '../../lib/clock.js';
import type { HubStores } from '../../hub/store/stores.js';

/** Fleet state of a hub: a stored bundle, a rollout with a failure (the bundle is served from `dataDir`). */
const fleetOf = (stores: HubStores, dataDir: string) => stores.fleet({ dataDir, hubVersion: '9.9.9', audit: { record: () => {} }, clock: systemClock });
const fleetView = async (stores: HubStores, dataDir: string) => {
  const f = fleetOf(stores, dataDir);
  return { releases: await f.releases(), status: await f.status(), file: await f.releaseFile('2.0.0', 'x64') };
};

/**
 * `hadir backup` / `hadir restore` on real processes and the store under test: a restored hub
 * answers reports exactly as the original did, a backup taken while punches are written is
 * consistent (its row counts are checked again after the restore), and a damaged backup or an
 * occupied target is refused before anything changes.
 */
describe(`backup and restore (${TEST_DB})`, () => {
  const drops: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const d of drops) await d();
  });
  /** A hub location: a data dir, and on PostgreSQL a new database. */
  const location = async (tag: string) => {
    const dataDir = tmpDir(tag);
    const pgDb = TEST_DB === 'postgres' ? await freshPostgres() : null;
    if (pgDb) drops.push(pgDb.drop);
    const flags = ['--data', dataDir, ...(pgDb ? ['--db', pgDb.url] : [])];
    return { dataDir, pgUrl: pgDb?.url ?? null, flags };
  };
  const report = async (flags: string[]) => {
    const r = await hadir(['report', 'punches', ...flags, '--format', 'json']);
    expect(r.stderr).toBe('');
    return JSON.parse(r.stdout) as { id: string }[];
  };

  it('a backup taken while punches arrive restores into a new target with the same reports, keys and row counts', async () => {
    const src = await location('backup-src');
    const opened = await openHubStores(src.pgUrl ? { dbPath: '', postgresUrl: src.pgUrl } : { dbPath: join(src.dataDir, 'hub.db'), postgresUrl: null });
    const store: CoreStore = opened.store;
    await seedOrgSql(sqlOf(opened));
    const keys = generateDeviceKeys();
    await registerDevice(store, { siteCode: 'PKM-01-A', deviceId: 'kiosk-a', now: new Date() });
    await store.setDeviceEnrolled('kiosk-a', keys.publicKeyPem, 'x', '2026-11-24T01:00:00.000Z');
    const d = makeDevice('kiosk-a', '', loadPrivateKey(keys.privateKeyPem), keys.publicKeyPem);
    const ingest = (n: number) => store.ingestBatch(Array.from({ length: n }, () => ({ punch: d.next(), siteCode: 'PKM-01-A', receivedAt: new Date().toISOString() })), []);
    await ingest(200);
    // a release bundle and a rollout with a failure: rows and the bundle file travel together
    const rk = generateReleaseKeys();
    const entries = [{ path: 'bin/hadir.mjs', data: Buffer.from('// v2\n'), mode: 0o755 }];
    const bundle = join(tmpDir('backup-bundle'), 'b.tar.gz');
    await writeBundle(bundle, await manifestFor(entries, { version: '2.0.0', arch: 'x64', nodeModules: 'bundled', minHubVersion: '0.0.0', journalSchemaVersion: 1 }), entries, releasePrivateKey(rk.privateKeyPem));
    const fleet = fleetOf(opened.stores, src.dataDir);
    await fleet.addRelease(bundle, 'test', rk.publicKeyPem);
    const ro = await fleet.startRollout({ version: '2.0.0', stages: 'all', window: 'always', blackouts: 'none', by: 'test' });
    await fleet.report('kiosk-a', { rolloutId: ro.id, version: '2.0.0', phase: 'refused', reason: 'bundle refused' });
    const fleetBefore = await fleetView(opened.stores, src.dataDir);
    const biometricKey = Buffer.from('k'.repeat(64));
    writeFileSync(join(src.dataDir, 'biometric.key'), biometricKey, { mode: 0o600 });

    // punches keep arriving while the backup runs (the hub is not stopped for it)
    let writing = true;
    const writer = (async () => {
      // (a macrotask turn per batch: SQLite's ingest resolves at once, and a loop of microtasks
      // would never let the child's exit be seen)
      while (writing) {
        await ingest(20);
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    const out = join(tmpDir('backup-out'), 'b1');
    const b = await hadir(['backup', ...src.flags, '--out', out]);
    writing = false;
    await writer;
    expect(b.stderr.split('\n').filter((l) => l && !l.startsWith('  '))).toEqual([]);
    expect(b.code).toBe(0);
    const manifest = JSON.parse(readFileSync(join(out, 'MANIFEST.json'), 'utf8')) as { store: string; tables: Record<string, number>; files: Record<string, unknown> };
    expect(manifest.store).toBe(TEST_DB);
    expect(Object.keys(manifest.files)).toContain('biometric.key');
    expect(manifest.tables.punches).toBeGreaterThanOrEqual(200);
    const atBackup = manifest.tables.punches!;
    await store.close();

    const dst = await location('backup-dst');
    const r = await hadir(['restore', ...dst.flags, '--from', out]);
    expect(r.stderr.split('\n').filter((l) => l && !l.startsWith('  '))).toEqual([]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/counts match the backup/);
    expect(readFileSync(join(dst.dataDir, 'biometric.key')).equals(biometricKey)).toBe(true);
    // the restored hub holds exactly the punches the backup counted: the source's first atBackup
    const after = await report(dst.flags);
    const before = await report(src.flags);
    expect(after.length).toBe(atBackup);
    expect(new Set(after.map((p) => p.id)).size).toBe(atBackup);
    const beforeById = new Map(before.map((p) => [p.id, p]));
    for (const p of after) expect(beforeById.get(p.id)).toEqual(p);
    // fleet: the same releases, rollout, targets and failures; the bundle served from the new data dir
    const restored = await openHubStores(dst.pgUrl ? { dbPath: '', postgresUrl: dst.pgUrl } : { dbPath: join(dst.dataDir, 'hub.db'), postgresUrl: null });
    try {
      const fleetAfter = await fleetView(restored.stores, dst.dataDir);
      expect(fleetAfter.status).toEqual(fleetBefore.status);
      expect(fleetAfter.status!.failures.map((f) => f.reason)).toEqual(['bundle refused']);
      expect(fleetAfter.releases).toEqual(fleetBefore.releases);
      expect(fleetAfter.file!.path.startsWith(dst.dataDir)).toBe(true);
      expect(readFileSync(fleetAfter.file!.path).equals(readFileSync(fleetBefore.file!.path))).toBe(true);
    } finally {
      await restored.store.close();
    }

    // restoring again onto the now occupied target is refused, and it stays as it was
    const again = await hadir(['restore', ...dst.flags, '--from', out]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(TEST_DB === 'postgres' ? /is not empty/ : /already exists/);
    expect((await report(dst.flags)).length).toBe(atBackup);

    // one changed byte in the database copy: refused before anything changes
    const dbFile = join(out, TEST_DB === 'postgres' ? 'hub.pgdump' : 'hub.db');
    const bytes = readFileSync(dbFile);
    bytes[bytes.length >> 1]! ^= 0x01;
    writeFileSync(dbFile, bytes);
    const dst2 = await location('backup-dst2');
    const bad = await hadir(['restore', ...dst2.flags, '--from', out]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/damaged: hub\.(db|pgdump) does not match its sha256/);
    expect(existsSync(join(dst2.dataDir, 'hub.db'))).toBe(false);
    expect(existsSync(join(dst2.dataDir, 'biometric.key'))).toBe(false);
  }, 300_000); // a dozen real hadir processes; minutes on a loaded 2-core machine

  it('backup into a folder that is not empty is refused', async () => {
    const src = await location('backup-src2');
    const opened = await openHubStores(src.pgUrl ? { dbPath: '', postgresUrl: src.pgUrl } : { dbPath: join(src.dataDir, 'hub.db'), postgresUrl: null });
    await opened.store.close();
    const out = tmpDir('backup-full');
    writeFileSync(join(out, 'something'), 'x');
    const r = await hadir(['backup', ...src.flags, '--out', out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/is not empty/);
  });
});
