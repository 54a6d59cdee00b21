import { createServer, type Server } from 'node:http';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { GENESIS_HASH, KIOSK_API, generateDeviceKeys, hubTimeReplySchema, kioskStateReplySchema, loadPrivateKey, punchHash, rosterReplySchema, type Punch } from '../../protocol/index.js';
import { HubClient } from '../../kiosk/hub-client.js';
import { startHub, type RunningHub } from '../../hub/server.js';
import { registerDevice, enrolDevice } from '../../hub/devices/registry.js';
import { KioskApp } from '../../kiosk/app.js';
import { kioskConfigSchema, type KioskConfig } from '../../kiosk/config.js';
import { Journal } from '../../kiosk/journal.js';
import { buildPunch } from '../../kiosk/punch.js';
import { seedOrg } from '../hub/helpers.js';
import { tmpDir, waitFor } from './helpers.js';

const NIPS = ['198503122010011002', '199001012015032001', '198001012005011003'];

/** The journal as kiosks in the field have it today (before the meta table existed). */
const OLD_SCHEMA = `
CREATE TABLE punches (
  seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, nip TEXT NOT NULL, captured_at TEXT NOT NULL, hash TEXT NOT NULL,
  json TEXT NOT NULL, journaled_at TEXT NOT NULL, delivered_at TEXT, rejected_reason TEXT
);
CREATE INDEX punches_nip ON punches (nip, seq);
CREATE INDEX punches_pending ON punches (seq) WHERE delivered_at IS NULL AND rejected_reason IS NULL;
`;

function removeJournal(dataDir: string): void {
  for (const f of ['journal.db', 'journal.db-wal', 'journal.db-shm']) rmSync(join(dataDir, f), { force: true });
}

const stamp = (i: number) => ({ capturedAt: new Date(Date.now() - 60_000 + i).toISOString(), synced: true, source: 'chrony', offsetMs: 0.2, bootId: 'boot-t', monoMs: 5000 + i });

/**
 * Prevention: a kiosk whose journal was deleted (config kept) asks the hub what it already stored
 * and continues after it. Real hub (SQLite file, embedded aedes, ports 0) and the real KioskApp.
 */
describe('kiosk journal base after a wiped journal (real hub + KioskApp)', () => {
  let hub: RunningHub;
  const dirs: string[] = [];

  beforeAll(async () => {
    const dir = tmpDir('base-hub');
    dirs.push(dir);
    hub = await startHub({ dataDir: dir, httpPort: 0, mqttPort: 0, httpHost: '127.0.0.1', env: {}, defaultMetrics: false, log: pino({ level: 'silent' }) } as never);
    seedOrg(hub.db);
  });
  afterAll(async () => {
    await hub?.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  async function enrolKiosk(deviceId: string): Promise<KioskConfig> {
    const kioskDir = tmpDir('base-kiosk');
    dirs.push(kioskDir);
    const keys = generateDeviceKeys();
    const reg = await registerDevice(hub.store, { siteCode: 'PKM-01-A', deviceId, now: new Date() });
    const url = `mqtt://127.0.0.1:${hub.mqttPort}`;
    const enr = await enrolDevice(hub.store, { token: reg.token, publicKeyPem: keys.publicKeyPem }, { hubUrl: hub.publicUrl, mqttUrl: url, prefix: hub.config.prefix }, new Date());
    return kioskConfigSchema.parse({
      deviceId, siteCode: 'PKM-01-A', hubUrl: `http://127.0.0.1:${hub.httpPort}`, dataDir: kioskDir,
      mqtt: { url, username: deviceId, password: enr.mqtt.password, prefix: hub.config.prefix },
      privateKeyPem: keys.privateKeyPem, dedupWindowMin: 0, face: { enabled: false }, finger: { enabled: false },
    });
  }

  function kiosk(config: KioskConfig, lines: string[] = []): KioskApp {
    return new KioskApp(config, { simulate: true, screen: false, extensions: [], log: pino({ level: 'info' }, { write: (s: string) => void lines.push(s) }) });
  }

  async function punch(app: KioskApp, n: number): Promise<void> {
    for (let i = 0; i < n; i++) expect(app.identify({ nip: NIPS[i % NIPS.length]!, method: 'face', score: 0.8, liveness: 0.97 }).kind).toBe('recorded');
  }

  const stored = (deviceId: string) =>
    hub.db.prepare('SELECT id, seq FROM punches WHERE device_id = ? ORDER BY seq').all(deviceId) as { id: string; seq: number }[];

  it('30 punches, journal deleted, restart: continues at seq 31 (prevHash GENESIS), every new punch stored and acked, no conflicts', async () => {
    const config = await enrolKiosk('kiosk-base-1');
    const first = kiosk(config);
    await first.start();
    try {
      // a never-used device: the hub has nothing, the journal is based at 0 and starts at 1 as before
      expect(first.journal.baseSeq()).toBe(0);
      await waitFor(() => first.link.connected, 10_000, 'kiosk connected');
      await punch(first, 30);
      await waitFor(() => first.journal.stats().undelivered === 0, 20_000, '30 punches delivered');
    } finally {
      await first.stop();
    }
    expect(stored(config.deviceId).map((r) => r.seq)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));

    // The technician replaces the SD card's journal; the config (device id and key) stays.
    removeJournal(config.dataDir);
    const lines: string[] = [];
    const second = kiosk(config, lines);
    await second.start();
    try {
      expect(second.journal.baseSeq()).toBe(30);
      expect(second.journal.head()).toEqual({ seq: 30, hash: GENESIS_HASH });
      expect(second.journal.stats().lastSeq).toBe(30);
      const baseLines = lines.filter((l) => l.includes('setelah seq 30'));
      expect(baseLines).toHaveLength(1);
      expect(baseLines[0]).toMatch(/continuing after seq 30/);

      await waitFor(() => second.link.connected, 10_000, 'kiosk connected again');
      await punch(second, 12);
      await waitFor(() => second.journal.stats().undelivered === 0, 20_000, 'new punches delivered');
      const rows = second.journal.rows();
      expect(rows.map((r) => r.seq)).toEqual(Array.from({ length: 12 }, (_, i) => 31 + i));
      expect(rows[0]!.punch.prevHash).toBe(GENESIS_HASH); // the visible chain restart
      for (let i = 1; i < rows.length; i++) expect(rows[i]!.punch.prevHash).toBe(punchHash(rows[i - 1]!.punch));
      expect(rows.every((r) => r.deliveredAt !== null && r.rejectedReason === null)).toBe(true);
      expect(second.journal.stats().rejected).toBe(0);
    } finally {
      await second.stop();
    }
    const all = stored(config.deviceId);
    expect(all.map((r) => r.seq)).toEqual(Array.from({ length: 42 }, (_, i) => i + 1));
    const dev = (await hub.store.getDevice(config.deviceId))!;
    expect([dev.contiguousSeq, dev.maxSeq]).toEqual([42, 42]);
    expect(hub.db.prepare('SELECT count(*) FROM rejections WHERE device_id = ?').pluck().get(config.deviceId)).toBe(0);
    expect(hub.db.prepare('SELECT count(*) FROM punch_conflicts').pluck().get()).toBe(0);
    expect(await hub.store.seqGaps(config.deviceId)).toEqual([]);

    // A restart with punches in the journal does not ask again (base stays, seq goes on).
    const third = kiosk(config);
    await third.start();
    try {
      expect(third.journal.baseSeq()).toBe(30);
      expect(third.identify({ nip: NIPS[0]!, method: 'face', score: 0.8 })).toMatchObject({ kind: 'recorded', seq: 43 });
    } finally {
      await third.stop();
    }
  }, 90_000);

  it('GET /api/v1/kiosk/state needs the device password and answers the stored seq state', async () => {
    const config = await enrolKiosk('kiosk-base-2');
    const url = `http://127.0.0.1:${hub.httpPort}/api/v1/kiosk/state`;
    const basic = (pw: string) => ({ authorization: `Basic ${Buffer.from(`${config.deviceId}:${pw}`).toString('base64')}` });
    const none = await fetch(url);
    expect(none.status).toBe(401);
    expect(((await none.json()) as { error: string }).error).toMatch(/device authentication required/);
    expect((await fetch(url, { headers: basic('wrong') })).status).toBe(401);
    const ok = await fetch(url, { headers: basic(config.mqtt.password) });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ deviceId: 'kiosk-base-2', maxSeq: 0, contiguousSeq: 0 });
    const doc = (await (await fetch(`http://127.0.0.1:${hub.httpPort}/api/v1/openapi.json`)).json()) as { paths: Record<string, unknown> };
    expect(doc.paths['/api/v1/kiosk/state']).toBeDefined();
  });

  it('the real hub answers the kiosk API as protocol/kiosk-api.ts says (HubClient validates each reply)', async () => {
    const config = await enrolKiosk('kiosk-base-3');
    const client = HubClient.forConfig(config);
    expect(await client.get(KIOSK_API.state, kioskStateReplySchema)).toEqual({ deviceId: 'kiosk-base-3', maxSeq: 0, contiguousSeq: 0 });
    const roster = await client.get(KIOSK_API.roster, rosterReplySchema);
    expect(roster.site.code).toBe(config.siteCode);
    const before = Date.now();
    const time = await client.get(KIOSK_API.time, hubTimeReplySchema);
    expect(time.receivedMs).toBeGreaterThanOrEqual(before - 1000);
    expect(time.sentMs).toBeGreaterThanOrEqual(time.receivedMs);
    // A wrong password is a refusal with the hub's reason, not an invalid reply.
    const wrong = new HubClient({ hubUrl: config.hubUrl, deviceId: config.deviceId, password: 'wrong' });
    await expect(wrong.get(KIOSK_API.state, kioskStateReplySchema)).rejects.toMatchObject({ kind: 'refused', status: 401 });
  });
});

describe('journal file from before the meta table (migration in place)', () => {
  const dirs: string[] = [];
  let server: Server;
  let stateRequests = 0;
  let stateUrl = '';
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/api/v1/kiosk/state') stateRequests++;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ deviceId: 'kiosk-old', maxSeq: 500, contiguousSeq: 500 }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    stateUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  /** Writes an old-format journal.db holding `n` genuinely signed, chained punches. */
  function oldJournal(n: number): { dir: string; punches: Punch[]; keyPem: string } {
    const dir = tmpDir('old-journal');
    dirs.push(dir);
    const keys = generateDeviceKeys();
    const key = loadPrivateKey(keys.privateKeyPem);
    const db = new Database(join(dir, 'journal.db'));
    db.pragma('journal_mode = WAL');
    db.exec(OLD_SCHEMA);
    const punches: Punch[] = [];
    let head = { seq: 0, hash: GENESIS_HASH };
    for (let i = 0; i < n; i++) {
      const p = buildPunch({ deviceId: 'kiosk-old', head, stamp: stamp(i), identification: { nip: NIPS[i % 3]!, method: 'finger', score: 90 } }, key);
      const hash = punchHash(p);
      db.prepare('INSERT INTO punches (seq, id, nip, captured_at, hash, json, journaled_at, delivered_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)').run(
        p.seq, p.id, p.nip, p.capturedAt, hash, JSON.stringify(p), p.capturedAt, i === 0 ? p.capturedAt : null,
      );
      punches.push(p);
      head = { seq: p.seq, hash };
    }
    db.close();
    return { dir, punches, keyPem: keys.privateKeyPem };
  }

  it('an old journal with punches: read-only view works before migrating; opening adds the meta table and the chain goes on', () => {
    const { dir, punches, keyPem } = oldJournal(3);
    const ro = Journal.openReadonly(dir); // `hadir kiosk journal` on a not yet migrated file
    try {
      expect(ro.baseSeq()).toBeNull();
      expect(ro.head()).toEqual({ seq: 3, hash: punchHash(punches[2]!) });
      expect(ro.stats()).toMatchObject({ lastSeq: 3, undelivered: 2 });
      expect([...ro.listing()].map((r) => r.seq)).toEqual([1, 2, 3]);
    } finally {
      ro.close();
    }
    const j = Journal.open(dir);
    try {
      expect(j.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all()).toEqual(['meta', 'punches']);
      expect(j.needsBase()).toBe(false); // it has punches: never re-based
      expect(j.setBase(100)).toBe(false);
      expect(j.baseSeq()).toBeNull();
      const key = loadPrivateKey(keyPem);
      const r = j.append(NIPS[0]!, () => null, (head) => buildPunch({ deviceId: 'kiosk-old', head, stamp: stamp(9), identification: { nip: NIPS[0]!, method: 'finger', score: 91 } }, key), new Date().toISOString());
      expect(r.kind).toBe('recorded');
      const p4 = (r as { punch: Punch }).punch;
      expect([p4.seq, p4.prevHash]).toEqual([4, punchHash(punches[2]!)]);
      expect(j.pending(0, 10).map((p) => p.seq)).toEqual([2, 3, 4]);
      expect(j.integrityCheck()).toBe('ok');
    } finally {
      j.close();
    }
    // opening a migrated file again changes nothing
    const again = Journal.open(dir);
    expect(again.stats().lastSeq).toBe(4);
    again.close();
  });

  it('an old EMPTY journal is based once: first punch base+1 with GENESIS prevHash; a second base is refused', () => {
    const { dir, keyPem } = oldJournal(0);
    const j = Journal.open(dir);
    try {
      expect(j.needsBase()).toBe(true);
      expect(j.head()).toEqual({ seq: 0, hash: GENESIS_HASH });
      expect(() => j.setBase(-1)).toThrow(/non-negative/);
      expect(j.setBase(7)).toBe(true);
      expect(j.setBase(9)).toBe(false);
      expect([j.needsBase(), j.baseSeq(), j.stats().lastSeq]).toEqual([false, 7, 7]);
      const key = loadPrivateKey(keyPem);
      const build = (i: number) => (head: { seq: number; hash: string }) => buildPunch({ deviceId: 'kiosk-old', head, stamp: stamp(i), identification: { nip: NIPS[i % 3]!, method: 'pin', score: 1 } }, key);
      const a = j.append(NIPS[0]!, () => null, build(0), new Date().toISOString()) as { punch: Punch };
      const b = j.append(NIPS[1]!, () => null, build(1), new Date().toISOString()) as { punch: Punch };
      expect([a.punch.seq, a.punch.prevHash]).toEqual([8, GENESIS_HASH]);
      expect([b.punch.seq, b.punch.prevHash]).toEqual([9, punchHash(a.punch)]);
      // retention keeps the head; with punches the base no longer decides anything
      j.markDelivered([a.punch.id, b.punch.id], '2000-01-01T00:00:00.000Z');
      expect(j.prune('2100-01-01T00:00:00.000Z')).toBe(1);
      expect(j.head().seq).toBe(9);
    } finally {
      j.close();
    }
  });

  it('KioskApp on an old journal with punches keeps going and does not ask the hub; on an old empty one it asks once and bases', async () => {
    const withPunches = oldJournal(2);
    const mk = (dir: string, keyPem: string) =>
      kioskConfigSchema.parse({
        deviceId: 'kiosk-old', siteCode: 'S01', hubUrl: stateUrl, dataDir: dir,
        mqtt: { url: 'mqtt://127.0.0.1:9', username: 'kiosk-old', password: 'x', prefix: 'hadir/v1' },
        privateKeyPem: keyPem, dedupWindowMin: 0, face: { enabled: false }, finger: { enabled: false },
      });
    const quiet = { simulate: true, screen: false, extensions: [], log: pino({ level: 'silent' }) };
    const a = new KioskApp(mk(withPunches.dir, withPunches.keyPem), quiet);
    await a.start();
    try {
      expect(stateRequests).toBe(0);
      expect(a.identify({ nip: NIPS[2]!, method: 'finger', score: 88 })).toMatchObject({ kind: 'recorded', seq: 3 });
    } finally {
      await a.stop();
    }
    const empty = oldJournal(0);
    const b = new KioskApp(mk(empty.dir, empty.keyPem), quiet);
    await b.start();
    try {
      expect(stateRequests).toBe(1);
      expect(b.identify({ nip: NIPS[2]!, method: 'finger', score: 88 })).toMatchObject({ kind: 'recorded', seq: 501 });
    } finally {
      await b.stop();
    }
  }, 30_000);
});
