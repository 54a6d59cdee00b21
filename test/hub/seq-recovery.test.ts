import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { GENESIS_HASH, Topics, generateDeviceKeys, loadPrivateKey, newId, signPunch, type Punch } from '../../protocol/index.js';
import { startHub, type RunningHub } from '../../hub/server.js';
import { registerDevice, enrolDevice } from '../../hub/devices/registry.js';
import { addUser } from '../../hub/users.js';
import { processDirty } from '../../hub/attendance/recompute.js';
import { unpackDays } from '../../hub/attendance/pack.js';
import { KioskApp } from '../../kiosk/app.js';
import { kioskConfigSchema, type KioskConfig } from '../../kiosk/config.js';
import type { KioskContext, KioskExtension } from '../../kiosk/extension-api.js';
import type { ClockService } from '../../kiosk/types.js';
import { TestKiosk, seedOrg, tmpDir, waitFor, runHadir } from './helpers.js';

const hadir = runHadir;

/** A kiosk clock the test sets (synced), one second further per punch. */
function fixedClock(startIso: string): (ctx: KioskContext) => KioskExtension {
  let t = Date.parse(startIso);
  const clock: ClockService = {
    component: 'clock',
    state: () => ({ state: 'ok' }),
    stamp: () => {
      const capturedAt = new Date(t).toISOString();
      t += 1000;
      return { capturedAt, synced: true, source: 'chrony', offsetMs: 0.4, bootId: 'boot-rec', monoMs: t % 1e7 };
    },
  };
  return (ctx) => ({ name: 'testclock', start: async () => ctx.setClock(clock), stop: async () => {} });
}

const SITI = '198503122010011002';
const BUDI = '199001012015032001';

/**
 * Recovery: a kiosk whose journal was wiped while the hub was unreachable restarts at seq 1; the
 * hub refuses those punches as seq_conflict but keeps them whole; `hadir device recover` stores
 * them once. Real hub (SQLite file, embedded aedes, ports 0), real KioskApp, real `hadir` CLI.
 */
describe('seq_conflict recovery: hadir device conflicts|recover', () => {
  let hub: RunningHub;
  let dir: string;
  let token = '';
  let config: KioskConfig;
  let conflictIds: string[] = [];
  let conflictPunches: Punch[] = [];
  const dirs: string[] = [];
  const DEV = 'kiosk-rec-1';
  const db = () => hub.db;
  const count = (sql: string, ...args: unknown[]) => db().prepare(sql).pluck().get(...args) as number;

  beforeAll(async () => {
    dir = tmpDir('recover');
    dirs.push(dir);
    hub = await startHub({ dataDir: dir, httpPort: 0, mqttPort: 0, httpHost: '127.0.0.1', env: {}, defaultMetrics: false, log: pino({ level: 'silent' }) } as never);
    seedOrg(hub.db);
    token = (await addUser(hub.store, { username: 'bkpsdm1', name: 'Admin BKPSDM', role: 'bkpsdm', now: new Date() })).token;
    const kioskDir = tmpDir('recover-kiosk');
    dirs.push(kioskDir);
    const keys = generateDeviceKeys();
    const reg = await registerDevice(hub.store, { siteCode: 'PKM-01-A', deviceId: DEV, now: new Date() });
    const url = `mqtt://127.0.0.1:${hub.mqttPort}`;
    const enr = await enrolDevice(hub.store, { token: reg.token, publicKeyPem: keys.publicKeyPem }, { hubUrl: hub.publicUrl, mqttUrl: url, prefix: hub.config.prefix }, new Date());
    config = kioskConfigSchema.parse({
      deviceId: DEV, siteCode: 'PKM-01-A', hubUrl: `http://127.0.0.1:${hub.httpPort}`, dataDir: kioskDir,
      mqtt: { url, username: DEV, password: enr.mqtt.password, prefix: hub.config.prefix },
      privateKeyPem: keys.privateKeyPem, dedupWindowMin: 0, face: { enabled: false }, finger: { enabled: false },
    });
  });
  afterAll(async () => {
    await hub?.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('hub unreachable at the restart: the kiosk starts at 1 and its punches are refused as seq_conflict but kept whole', async () => {
    const first = new KioskApp(config, { simulate: true, screen: false, extensions: [fixedClock('2026-11-03T00:05:00.000Z')], log: pino({ level: 'silent' }) });
    await first.start();
    try {
      await waitFor(() => first.link.connected, 10_000, 'kiosk connected');
      for (let i = 0; i < 30; i++) first.identify({ nip: i % 2 ? SITI : BUDI, method: 'face', score: 0.8, liveness: 0.97 });
      await waitFor(() => first.journal.stats().undelivered === 0, 20_000, '30 punches delivered');
    } finally {
      await first.stop();
    }
    for (const f of ['journal.db', 'journal.db-wal', 'journal.db-shm']) rmSync(join(config.dataDir, f), { force: true });

    // The hub's HTTP side is out of reach (wrong port), MQTT works: no base, start at seq 1.
    const lines: string[] = [];
    const second = new KioskApp(
      { ...config, hubUrl: 'http://127.0.0.1:9' },
      { simulate: true, screen: false, extensions: [fixedClock('2026-11-04T00:10:00.000Z')], log: pino({ level: 'info' }, { write: (s: string) => void lines.push(s) }) },
    );
    await second.start();
    try {
      expect(second.journal.baseSeq()).toBeNull();
      expect(lines.filter((l) => l.includes('hub tidak terjangkau'))).toHaveLength(1);
      expect(lines.find((l) => l.includes('hub tidak terjangkau'))).toMatch(/hadir device recover/);
      await waitFor(() => second.link.connected, 10_000, 'kiosk connected again');
      // Budi checks in at 07:10 WIB on Wednesday 2026-11-04; Siti right after.
      expect(second.identify({ nip: BUDI, method: 'face', score: 0.81, liveness: 0.96 })).toMatchObject({ kind: 'recorded', seq: 1 });
      for (let i = 0; i < 4; i++) second.identify({ nip: SITI, method: 'face', score: 0.8, liveness: 0.97 });
      await waitFor(() => second.journal.stats().rejected === 5, 20_000, 'five punches refused');
      const rows = second.journal.rows();
      expect(rows.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5]);
      expect(rows.every((r) => r.rejectedReason?.startsWith('seq_conflict'))).toBe(true);
      conflictIds = rows.map((r) => r.id);
      conflictPunches = rows.map((r) => r.punch);
    } finally {
      await second.stop();
    }
    expect(count('SELECT count(*) FROM punches WHERE device_id = ?', DEV)).toBe(30);
    expect(count("SELECT count(DISTINCT punch_id) FROM rejections WHERE code = 'seq_conflict' AND device_id = ?", DEV)).toBe(5);
    const kept = db().prepare('SELECT id, device_id, seq, site_code, punch FROM punch_conflicts ORDER BY seq').all() as { id: string; device_id: string; seq: number; site_code: string; punch: string }[];
    expect(kept.map((k) => k.id)).toEqual(conflictIds);
    expect(kept.map((k) => JSON.parse(k.punch) as Punch)).toEqual(conflictPunches);
    expect(kept.every((k) => k.device_id === DEV && k.site_code === 'PKM-01-A')).toBe(true);
  }, 180_000); // spawns a dozen hadir commands: 58 s alone on PostgreSQL at load 9, 90 s was too tight beside other work

  it('forged or tampered payloads are refused before the store and never reach the conflicts table', async () => {
    const topics = new Topics(hub.config.prefix);
    // someone holding the device's MQTT password (the kiosk itself is stopped) but not its key
    const k = await TestKiosk.connect(`mqtt://127.0.0.1:${hub.mqttPort}`, topics, DEV, config.mqtt.password);
    try {
      const real = conflictPunches[0]!;
      const tampered: Punch = { ...real, nip: SITI }; // same id and signature, other person
      const foreign = loadPrivateKey(generateDeviceKeys().privateKeyPem);
      const { sig: _sig, ...unsigned } = real;
      const forged = signPunch({ ...unsigned, id: newId(), seq: 2, prevHash: GENESIS_HASH }, foreign); // a seq the hub holds
      await k.publish(tampered);
      await k.publish(forged);
      await waitFor(() => k.rejectedIds().has(forged.id) && k.rejectedIds().has(tampered.id), 10_000, 'forgeries refused');
      expect(k.rejectedIds().get(forged.id)).toMatch(/^bad_signature/);
      expect(k.rejectedIds().get(tampered.id)).toMatch(/^bad_signature/);
    } finally {
      await k.close();
    }
    expect(count("SELECT count(*) FROM rejections WHERE code = 'bad_signature' AND device_id = ?", DEV)).toBe(2);
    expect(db().prepare('SELECT id FROM punch_conflicts ORDER BY seq').pluck().all()).toEqual(conflictIds);
    const first = JSON.parse(db().prepare('SELECT punch FROM punch_conflicts WHERE id = ?').pluck().get(conflictIds[0]) as string) as Punch;
    expect(first.nip).toBe(BUDI); // the tampered copy changed nothing
  }, 30_000);

  it('`hadir device conflicts` lists them; `recover` stores them exactly once as seq NULL punches that attendance counts; a second run stores nothing', async () => {
    const listed = await hadir(['device', 'conflicts', DEV, '--format', 'json', '--data', dir]);
    expect(listed.code, listed.stderr).toBe(0);
    const rows = JSON.parse(listed.stdout) as { seq: number; id: string; nip: string; capturedAt: string; recovered: boolean }[];
    expect(rows.map((r) => [r.seq, r.id, r.nip, r.recovered])).toEqual(conflictPunches.map((p) => [p.seq, p.id, p.nip, false]));
    expect(rows[0]!.capturedAt).toBe('2026-11-04T00:10:00.000Z');
    const table = await hadir(['device', 'conflicts', DEV, '--data', dir]);
    expect(table.stdout).toMatch(/5 punch, 5 belum dipulihkan/);
    expect(table.stdout).toContain(conflictIds[0]);

    // Attendance before: Budi has no check-in on 2026-11-04.
    processDirty(db(), new Date().toISOString());
    const dayOf = (nip: string, date: string) => {
      const row = db().prepare("SELECT days, unit_code, opd_code FROM att_months WHERE nip = ? AND month = '2026-11'").get(nip) as { days: string; unit_code: string | null; opd_code: string | null } | undefined;
      return row ? unpackDays(row.days, { unit: row.unit_code, opd: row.opd_code }).find((d) => d.date === date) : undefined;
    };
    expect(dayOf(BUDI, '2026-11-04')?.in ?? null).toBeNull();

    // Refusals first: unknown device, unknown punch id (nothing stored), no --by.
    const unknownDev = await hadir(['device', 'recover', 'kiosk-nope', '--by', 'admin', '--data', dir]);
    expect(unknownDev.code).toBe(2);
    expect(unknownDev.stderr.trim().split('\n')).toHaveLength(1);
    expect(unknownDev.stderr).toMatch(/^hadir: device "kiosk-nope" is not registered/);
    const unknownId = await hadir(['device', 'recover', DEV, '--id', conflictIds[0]!, 'not-a-conflict', '--by', 'admin', '--data', dir]);
    expect(unknownId.code).toBe(2);
    expect(unknownId.stderr.trim().split('\n')).toHaveLength(1);
    expect(unknownId.stderr).toMatch(/no seq_conflict punch not-a-conflict .*nothing was stored.*hadir device conflicts kiosk-rec-1/);
    const noBy = await hadir(['device', 'recover', DEV, '--data', dir]);
    expect(noBy.code).not.toBe(0);
    expect(noBy.stderr).toMatch(/--by/);
    expect(count('SELECT count(*) FROM punches WHERE device_id = ?', DEV)).toBe(30);

    // One punch by id, then the rest.
    const one = await hadir(['device', 'recover', DEV, '--id', conflictIds[0]!, '--by', 'admin.bkpsdm', '--data', dir]);
    expect(one.code, one.stderr).toBe(0);
    expect(one.stdout).toMatch(/recovered: 1 punch/);
    const rest = await hadir(['device', 'recover', DEV, '--by', 'admin.bkpsdm', '--data', dir]);
    expect(rest.code, rest.stderr).toBe(0);
    expect(rest.stdout).toMatch(/recovered: 4 punch/);
    expect(rest.stdout).toMatch(/already stored, not duplicated: 1/);

    const stored = db().prepare('SELECT * FROM punches WHERE device_id = ? AND seq IS NULL ORDER BY captured_at').all(DEV) as Record<string, unknown>[];
    expect(stored.map((r) => r.id)).toEqual(conflictIds);
    for (const [i, r] of stored.entries()) {
      const p = conflictPunches[i]!;
      expect(r).toMatchObject({
        nip: p.nip, method: 'face', captured_at: p.capturedAt, site_code: 'PKM-01-A', sig: p.sig, prev_hash: p.prevHash,
        imported_by: 'admin.bkpsdm', note: 'recovered after seq_conflict', review_status: 'none', boot_id: 'boot-rec',
      });
    }
    // The device's seq bookkeeping is untouched: 1..30 stored, no gaps.
    const dev = (await hub.store.getDevice(DEV))!;
    expect([dev.contiguousSeq, dev.maxSeq]).toEqual([30, 30]);
    expect(await hub.store.seqGaps(DEV)).toEqual([]);

    // Attendance counts them (the punches table queued the re-derivation by itself).
    processDirty(db(), new Date().toISOString());
    expect(dayOf(BUDI, '2026-11-04')?.in).toBe('07:10');
    expect(dayOf(SITI, '2026-11-04')?.in).toBe('07:10');

    // Idempotent: a second full run stores nothing.
    const again = await hadir(['device', 'recover', DEV, '--by', 'someone.else', '--data', dir]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/recovered: 0 punch/);
    expect(again.stdout).toMatch(/already stored, not duplicated: 5/);
    expect(count('SELECT count(*) FROM punches WHERE device_id = ?', DEV)).toBe(35);
    expect(count("SELECT count(*) FROM punches WHERE imported_by = 'someone.else'")).toBe(0);
    const after = JSON.parse((await hadir(['device', 'conflicts', DEV, '--format', 'json', '--data', dir])).stdout) as { recovered: boolean; recoveredBy: string }[];
    expect(after.every((r) => r.recovered && r.recoveredBy === 'admin.bkpsdm')).toBe(true);
  }, 180_000); // spawns a dozen hadir commands: 58 s alone on PostgreSQL at load 9, 90 s was too tight beside other work

  it('recovered punches (device set, seq NULL) read fine through /api/v1/punches, the punch report and the device list', async () => {
    const res = await fetch(`http://127.0.0.1:${hub.httpPort}/api/v1/punches?device=${DEV}&limit=100`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { total: number; items: { id: string; seq: number | null; deviceId: string }[] };
    expect(body.total).toBe(35);
    const recovered = body.items.filter((p) => p.seq === null);
    expect(recovered.map((p) => p.id).sort()).toEqual([...conflictIds].sort());
    expect(recovered.every((p) => p.deviceId === DEV)).toBe(true);

    const csv = await hadir(['report', 'punches', '--device', DEV, '--format', 'csv', '--data', dir]);
    expect(csv.code, csv.stderr).toBe(0);
    const lines = csv.stdout.trim().split('\n');
    expect(lines).toHaveLength(36);
    expect(lines.filter((l) => l.startsWith(`${conflictIds[0]},${DEV},,`))).toHaveLength(1);

    const list = await hadir(['device', 'list', '--format', 'json', '--data', dir]);
    const row = (JSON.parse(list.stdout) as { id: string; contiguousSeq: number; maxSeq: number; seqGaps: unknown[] }[]).find((d) => d.id === DEV);
    expect(row).toMatchObject({ contiguousSeq: 30, maxSeq: 30, seqGaps: [] });
  }, 60_000);
});
