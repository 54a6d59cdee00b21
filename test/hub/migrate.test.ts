import { afterAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { openHubStores } from '../../hub/store/open.js';
import { registerDevice } from '../../hub/devices/registry.js';
import { AuditLog } from '../../hub/audit/index.js';
import { systemClock } from '../../lib/clock.js';
import { generateDeviceKeys, loadPrivateKey } from '../../protocol/index.js';
import { hadir, spawnHadir } from '../e2e/harness.js';
import { makeDevice, seedOrgSql, tmpDir } from './helpers.js';
import { freshPostgres, sqlOf } from '../store.js';

/**
 * `hadir migrate --from sqlite:… --to postgres://…` on real processes, a real SQLite file and the
 * real PostgreSQL at 127.0.0.1:5432: a month of punches arrives with the same report, counts and
 * checksums; the copy is one transaction (a killed run leaves nothing, and is simply run again);
 * a target with data is refused unless --replace; a SQLite table with rows that PostgreSQL has no
 * table for is refused by name before anything is written.
 */
describe('hadir migrate (SQLite → PostgreSQL)', () => {
  const drops: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const d of drops) await d();
  });
  const target = async () => {
    const db = await freshPostgres();
    drops.push(db.drop);
    return db.url;
  };
  const rows = async (url: string, sql: string) => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      return (await c.query(sql)).rows as Record<string, unknown>[];
    } finally {
      await c.end();
    }
  };

  /** A SQLite hub with a month (November 2026) of punches from two kiosks, users, audit entries and gaps. */
  const source = async () => {
    const dir = tmpDir('migrate-src');
    const path = join(dir, 'hub.db');
    const opened = await openHubStores({ dbPath: path, postgresUrl: null });
    await seedOrgSql(sqlOf(opened));
    const audit = new AuditLog(opened.stores.audit, systemClock);
    for (const id of ['kiosk-a', 'kiosk-b']) {
      const keys = generateDeviceKeys();
      await registerDevice(opened.store, { siteCode: 'PKM-01-A', deviceId: id, now: new Date('2026-10-31T00:00:00Z') });
      await opened.store.setDeviceEnrolled(id, keys.publicKeyPem, 'x', '2026-10-31T00:00:00.000Z');
      const d = makeDevice(id, '', loadPrivateKey(keys.privateKeyPem), keys.publicKeyPem);
      const nips = ['198503122010011002', '199001012015032001', '198001012005011003'];
      const batch = [];
      for (let day = 1; day <= 30; day++) {
        for (const [i, nip] of nips.entries()) {
          for (const hour of [0, 9]) {
            const capturedAt = new Date(Date.UTC(2026, 10, day, hour, 10 + i)).toISOString();
            batch.push({ punch: d.next({ nip, capturedAt }), siteCode: 'PKM-01-A', receivedAt: capturedAt });
          }
        }
      }
      // one punch of kiosk-b held back: a seq gap the hub records
      if (id === 'kiosk-b') batch.splice(100, 1);
      await opened.store.ingestBatch(batch, []);
      await audit.record({ actor: 'admin', actorKind: 'user', action: 'device.add', target: id, after: { site: 'PKM-01-A' } });
    }
    // fleet: a stored release, versions, a halted rollout with its failure, a site's window
    const fleet = opened.stores.fleet({ dataDir: dir, hubVersion: '0.0.0', audit: { record: () => {} }, clock: () => Date.parse('2026-11-30T12:00:00Z') });
    await sqlOf(opened).run(
      "INSERT INTO fleet_releases (version, arch, file, size, sha256, manifest, key_id, added_at, added_by) VALUES ('2.0.0', 'arm64', ?, 1234, ?, ?, 'k1', '2026-11-30T00:00:00.000Z', 'rilis')",
      join(dir, 'releases', 'hadir-2.0.0-arm64.tar.gz'), 'a'.repeat(64), JSON.stringify({ version: '2.0.0', arch: 'arm64', fileCount: 3 }),
    );
    await fleet.setDeviceVersion('kiosk-a', '1.0.0', true);
    await fleet.setDeviceVersion('kiosk-b', '1.0.0', false);
    const ro = await fleet.startRollout({ version: '2.0.0', stages: '1,all', window: 'always', blackouts: 'none', by: 'bkpsdm' });
    await fleet.report('kiosk-a', { rolloutId: ro.id, version: '2.0.0', phase: 'rolled_back', reason: 'not healthy within 120 s' });
    await fleet.setSiteWindow('PKM-01-A', '19:00-04:00', 'bkpsdm');
    await opened.store.close();
    return path;
  };

  it('copies a month of data with equal reports, row counts and checksums, in one transaction', async () => {
    const src = await source();
    const to = await target();
    const before = await hadir(['report', 'punches', '--db', `sqlite:${src}`, '--format', 'json']);
    expect(before.stderr).toBe('');

    // killed mid-copy: nothing of it is left in the target
    const killed = spawnHadir(['migrate', '--from', `sqlite:${src}`, '--to', to]);
    for (let i = 0; i < 600 && !/rows, checksum/.test(killed.output()); i++) await new Promise((r) => setTimeout(r, 50));
    killed.child.kill('SIGKILL');
    await killed.exited;
    expect((await rows(to, 'SELECT count(*)::int AS n FROM punches'))[0]!.n).toBe(0);
    expect((await rows(to, 'SELECT count(*)::int AS n FROM devices'))[0]!.n).toBe(0);

    // ... and running it again needs no --replace
    const m = await hadir(['migrate', '--from', `sqlite:${src}`, '--to', to]);
    expect(m.code, m.stderr).toBe(0);
    expect(m.stdout).toMatch(/selesai \/ done: \d+ tabel \/ tables/);
    const lines = m.stdout.split('\n').filter((l) => /^(punches|devices|seq_gaps|audit_log|staff) /.test(l));
    expect(lines).toHaveLength(5);
    for (const l of lines) expect(l).toMatch(/ya\/yes$/);
    expect(m.stdout).not.toMatch(/TIDAK\/NO/);
    expect(m.stdout).toMatch(/^punches\s+359\s+359\s/m);

    // the hub on PostgreSQL answers as the SQLite hub did
    const after = await hadir(['report', 'punches', '--db', to, '--format', 'json']);
    expect(after.stderr).toBe('');
    expect(JSON.parse(after.stdout)).toEqual(JSON.parse(before.stdout));
    // fleet too: every table copied and checked, the rollout's status the same, its ids continuing
    const fleetLines = m.stdout.split('\n').filter((l) => /^fleet_/.test(l));
    expect(fleetLines.map((l) => l.split(/\s+/)[0]).sort()).toEqual(['fleet_device_versions', 'fleet_failures', 'fleet_releases', 'fleet_rollouts', 'fleet_site_windows', 'fleet_targets']);
    for (const l of fleetLines) expect(l).toMatch(/ya\/yes$/);
    const fleetStatus = async (db: string) => {
      const r = await hadir(['fleet', 'status', '--db', db, '--format', 'json']);
      expect(r.code, r.stderr).toBe(0);
      return JSON.parse(r.stdout) as { rollout: { state: string } };
    };
    const fleetAfter = await fleetStatus(to);
    expect(fleetAfter.rollout.state).toBe('halted');
    expect(fleetAfter).toEqual(await fleetStatus(`sqlite:${src}`));
    expect((await rows(to, "SELECT nextval(pg_get_serial_sequence('fleet_rollouts', 'id'))::int AS n"))[0]!.n).toBe(2);
    // PostgreSQL-only state made from the copy: keys, month partition, the audit chain's mark
    expect((await rows(to, 'SELECT count(*)::int AS n FROM punch_keys'))[0]!.n).toBe(359);
    expect((await rows(to, 'SELECT count(*)::int AS n FROM punches_2026_11'))[0]!.n).toBe(359);
    expect((await rows(to, 'SELECT high::int AS h FROM audit_high'))[0]!.h).toBe(2);
    const verify = await hadir(['audit', 'verify', '--db', to]);
    expect(verify.code, verify.stderr).toBe(0);
    expect((await rows(to, "SELECT count(*)::int AS n FROM seq_gaps WHERE device_id = 'kiosk-b'"))[0]!.n).toBe(1);

    // a target with data: refused, unchanged; --replace copies again to the same result
    const again = await hadir(['migrate', '--from', `sqlite:${src}`, '--to', to]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/target database is not empty/);
    const replaced = await hadir(['migrate', '--from', `sqlite:${src}`, '--to', to, '--replace']);
    expect(replaced.code, replaced.stderr).toBe(0);
    expect(JSON.parse((await hadir(['report', 'punches', '--db', to, '--format', 'json'])).stdout)).toEqual(JSON.parse(before.stdout));
  }, 180_000);

  it('refuses a SQLite table with rows that PostgreSQL has no table for, before writing anything', async () => {
    const src = await source();
    const db = new Database(src);
    db.exec("CREATE TABLE local_notes (id INTEGER PRIMARY KEY, note TEXT); INSERT INTO local_notes (note) VALUES ('kept on SQLite')");
    db.close();
    const to = await target();
    const r = await hadir(['migrate', '--from', `sqlite:${src}`, '--to', to]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/local_notes \(1 rows\)/);
    expect((await rows(to, 'SELECT count(*)::int AS n FROM punches'))[0]!.n).toBe(0);
  }, 120_000);
});
