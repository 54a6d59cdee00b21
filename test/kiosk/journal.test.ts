import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import { GENESIS_HASH, generateDeviceKeys, loadPrivateKey, loadPublicKey, punchHash, punchSchema, verifyPunch } from '../../protocol/index.js';
import { Journal } from '../../kiosk/journal.js';
import { buildPunch } from '../../kiosk/punch.js';
import { withinDedupWindow, localTime } from '../../kiosk/dedup.js';
import type { ClockStamp } from '../../kiosk/types.js';
import { tmpDir } from './helpers.js';

const keys = generateDeviceKeys();
const priv = loadPrivateKey(keys.privateKeyPem);
const pub = loadPublicKey(keys.publicKeyPem);

function stamp(at: string): ClockStamp {
  return { capturedAt: at, synced: true, source: 'chrony', offsetMs: 1.5, bootId: 'b1', monoMs: 1234.5 };
}

function append(j: Journal, nip: string, at: string, windowMin = 5) {
  return j.append(
    nip,
    (last) => (last && withinDedupWindow(last, at, windowMin) ? { already: last } : null),
    (head) => buildPunch({ deviceId: 'kiosk-a', head, stamp: stamp(at), identification: { nip, method: 'face', score: 0.8, liveness: 0.97, photo: Buffer.from([0xff, 0xd8, 0xff]) } }, priv),
    new Date().toISOString(),
  );
}

describe('punch building', () => {
  it('chains seq and prevHash from genesis and signs every punch', () => {
    const head = { seq: 0, hash: GENESIS_HASH };
    const p1 = buildPunch({ deviceId: 'kiosk-a', head, stamp: stamp('2026-11-24T00:28:00.000Z'), identification: { nip: '198001012005011001', method: 'face', score: 0.71 } }, priv);
    expect(p1.seq).toBe(1);
    expect(p1.prevHash).toBe(GENESIS_HASH);
    expect(punchSchema.parse(p1)).toEqual(p1);
    expect(verifyPunch(p1, pub)).toBe(true);
    const p2 = buildPunch({ deviceId: 'kiosk-a', head: { seq: 1, hash: punchHash(p1) }, stamp: stamp('2026-11-24T00:29:00.000Z'), identification: { nip: '198001012005011002', method: 'finger', score: 120 } }, priv);
    expect(p2.seq).toBe(2);
    expect(p2.prevHash).toBe(punchHash(p1));
    expect(verifyPunch(p2, pub)).toBe(true);
    expect(verifyPunch({ ...p2, nip: '198001012005011003' }, pub)).toBe(false);
    expect(p1.clock).toEqual({ synced: true, source: 'chrony', offsetMs: 1.5, bootId: 'b1', monoMs: 1234.5 });
  });
});

describe('dedup window', () => {
  it('refuses the same person inside the window, accepts after it', () => {
    expect(withinDedupWindow(null, '2026-11-24T00:30:00.000Z', 5)).toBe(false);
    expect(withinDedupWindow('2026-11-24T00:28:00.000Z', '2026-11-24T00:32:59.999Z', 5)).toBe(true);
    expect(withinDedupWindow('2026-11-24T00:28:00.000Z', '2026-11-24T00:33:00.000Z', 5)).toBe(false);
    expect(withinDedupWindow('2026-11-24T00:28:00.000Z', '2026-11-24T00:29:00.000Z', 0)).toBe(false);
    // clock stepped back: still "already", never a double punch
    expect(withinDedupWindow('2026-11-24T00:28:00.000Z', '2026-11-24T00:20:00.000Z', 5)).toBe(true);
  });
  it('formats local time in the kiosk zone', () => {
    expect(localTime('2026-11-24T00:28:10.000Z', 'Asia/Jakarta')).toBe('07:28');
    expect(localTime('2026-11-24T00:28:10.000Z', 'Asia/Makassar')).toBe('08:28');
  });
});

describe('journal', () => {
  it('appends gapless, chained, durable settings, and survives reopen', () => {
    const dir = tmpDir();
    const j = Journal.open(dir);
    expect(j.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(j.db.pragma('synchronous', { simple: true })).toBe(2); // FULL
    for (let i = 0; i < 20; i++) {
      const r = append(j, `19800101200501${String(1000 + i)}`, `2026-11-24T00:${String(10 + i).padStart(2, '0')}:00.000Z`);
      expect(r.kind).toBe('recorded');
    }
    j.close();
    const j2 = Journal.open(dir);
    const rows = j2.rows();
    expect(rows.map((r) => r.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    let prev = GENESIS_HASH;
    for (const r of rows) {
      expect(r.punch.prevHash).toBe(prev);
      expect(verifyPunch(r.punch, pub)).toBe(true);
      prev = punchHash(r.punch);
    }
    expect(j2.head()).toEqual({ seq: 20, hash: prev });
    expect(j2.integrityCheck()).toBe('ok');
    j2.close();
    expect(existsSync(join(dir, 'journal.db'))).toBe(true);
  });

  it('dedups from the journal (survives a restart)', () => {
    const dir = tmpDir();
    let j = Journal.open(dir);
    expect(append(j, '198001012005011001', '2026-11-24T00:28:00.000Z').kind).toBe('recorded');
    j.close();
    j = Journal.open(dir);
    const again = append(j, '198001012005011001', '2026-11-24T00:30:00.000Z');
    expect(again).toEqual({ kind: 'already', firstAt: '2026-11-24T00:28:00.000Z' });
    expect(append(j, '198001012005011002', '2026-11-24T00:30:00.000Z').kind).toBe('recorded');
    expect(append(j, '198001012005011001', '2026-11-24T00:33:00.000Z').kind).toBe('recorded');
    expect(j.stats().lastSeq).toBe(3);
    j.close();
  });

  it('two writers on one journal file at once (two processes) never share or skip a seq and keep one hash chain', async () => {
    // Within one process append() is synchronous and cannot interleave; across processes only the
    // IMMEDIATE transaction around "read head → build → insert" keeps seq and chain whole.
    const dir = tmpDir('journal-2w');
    Journal.open(dir).close();
    const writer = (tag: string) => {
      const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'journal-writer.ts'), dir, '300', tag, tag === 'a' ? 'b' : 'a'], { cwd: join(import.meta.dirname, '../..'), stdio: ['pipe', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      const ready = new Promise<void>((r) => child.stdout.on('data', () => out.startsWith('ready\n') && r()));
      const done = new Promise<string>((r, rej) => child.on('exit', (code) => (code === 0 ? r(out.slice('ready\n'.length).trim()) : rej(new Error(`writer ${tag} exited ${code}`)))));
      return { ready, done, go: () => child.stdin.end('go\n') };
    };
    const ws = [writer('a'), writer('b')];
    await Promise.all(ws.map((w) => w.ready));
    for (const w of ws) w.go();
    const counts = (await Promise.all(ws.map((w) => w.done))).map(Number);
    for (const n of counts) expect(n).toBeGreaterThanOrEqual(300);
    const total = counts[0]! + counts[1]!;
    const j = Journal.open(dir);
    const rows = j.rows();
    j.close();
    expect(rows.map((r) => r.seq)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    let prev = GENESIS_HASH;
    for (const r of rows) {
      expect(r.punch.prevHash).toBe(prev);
      prev = punchHash(r.punch);
    }
    // Both really wrote while the other did: each has a punch after one of the other's.
    const tags = rows.map((r) => r.nip[0]).join('');
    expect(tags).toMatch(/ab/);
    expect(tags).toMatch(/ba/);
  }, 60_000);

  it('a failed build rolls back: no seq is consumed', () => {
    const j = Journal.open(tmpDir());
    expect(() => j.append('x', () => null, () => { throw new Error('sign failed'); }, new Date().toISOString())).toThrow('sign failed');
    expect(append(j, '198001012005011001', '2026-11-24T00:28:00.000Z').kind).toBe('recorded');
    expect(j.head().seq).toBe(1);
    j.close();
  });

  it('lists pending in seq order, marks delivered only by id, records rejections', () => {
    const j = Journal.open(tmpDir());
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) {
      const r = append(j, `n${i}`, `2026-11-24T00:${String(10 + i)}:00.000Z`);
      if (r.kind === 'recorded') ids.push(r.punch.id);
    }
    expect(j.pending(0, 100).map((p) => p.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(j.pending(4, 3).map((p) => p.seq)).toEqual([5, 6, 7]);
    expect(j.markDelivered([ids[0]!, ids[2]!, 'not-a-known-id'], '2026-11-24T01:00:00.000Z')).toBe(2);
    expect(j.markDelivered([ids[0]!], '2026-11-24T01:00:00.000Z')).toBe(0); // idempotent
    expect(j.markRejected([{ id: ids[1]!, reason: 'bad signature' }])).toBe(1);
    expect(j.pending(0, 100).map((p) => p.seq)).toEqual([4, 5, 6, 7, 8, 9, 10]);
    const s = j.stats();
    expect(s).toEqual({ undelivered: 7, oldestUndeliveredAt: '2026-11-24T00:13:00.000Z', lastSeq: 10, rejected: 1 });
    const rows = j.rows();
    expect(rows[0]!.deliveredAt).toBe('2026-11-24T01:00:00.000Z');
    expect(rows[1]!.rejectedReason).toBe('bad signature');
    expect(rows[3]!.deliveredAt).toBeNull();
    const listing = [...j.listing()];
    expect(listing).toHaveLength(10);
    expect(listing[0]).toEqual({
      seq: 1, id: ids[0], nip: 'n0', method: 'face', capturedAt: '2026-11-24T00:10:00.000Z', clockSynced: true, clockSource: 'chrony',
      score: 0.8, journaledAt: rows[0]!.journaledAt, delivered: true, deliveredAt: '2026-11-24T01:00:00.000Z', rejectedReason: null,
    });
    expect(listing[1]).toMatchObject({ delivered: false, rejectedReason: 'bad signature' });
    // refusals count as recent by when they were journaled (the health state looks back a week)
    expect(j.rejectedSince(new Date(Date.parse(rows[1]!.journaledAt) - 1000).toISOString())).toBe(1);
    expect(j.rejectedSince(new Date(Date.parse(rows[1]!.journaledAt) + 1000).toISOString())).toBe(0);
    j.close();
  });

  it('retention prunes old delivered punches but keeps undelivered ones and the chain head', () => {
    const dir = tmpDir();
    const j = Journal.open(dir);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = append(j, `n${i}`, `2026-08-01T00:0${i}:00.000Z`);
      if (r.kind === 'recorded') ids.push(r.punch.id);
    }
    j.markDelivered([ids[0]!, ids[1]!, ids[4]!], '2026-08-01T01:00:00.000Z');
    const head = j.head();
    expect(j.prune('2026-11-01T00:00:00.000Z')).toBe(2); // seq 1,2; seq 5 stays as the chain head
    expect(j.rows().map((r) => r.seq)).toEqual([3, 4, 5]);
    expect(j.head()).toEqual(head);
    const next = append(j, 'n9', '2026-11-24T00:00:00.000Z');
    expect(next.kind === 'recorded' && next.punch.seq).toBe(6);
    expect(next.kind === 'recorded' && next.punch.prevHash).toBe(head.hash);
    j.close();
  });

  it('integrity check reports damage', () => {
    const dir = tmpDir();
    const j = Journal.open(dir);
    for (let i = 0; i < 50; i++) append(j, `n${i}`, `2026-11-24T00:${String(i % 60).padStart(2, '0')}:00.000Z`);
    expect(j.integrityCheck()).toBe('ok');
    j.close();
    // Damage the index behind SQLite's back: integrity_check must say so.
    const db = new Database(join(dir, 'journal.db'));
    db.unsafeMode(true);
    db.pragma('writable_schema = ON');
    db.prepare("UPDATE sqlite_master SET sql = replace(sql, 'nip, seq', 'seq, nip') WHERE name = 'punches_nip'").run();
    db.close();
    const j2 = Journal.open(dir);
    expect(j2.integrityCheck()).not.toBe('ok');
    j2.close();
  });

  it('reader sees rows while the writer has the file open', () => {
    const dir = tmpDir();
    const w = Journal.open(dir);
    append(w, 'n1', '2026-11-24T00:00:00.000Z');
    const r = Journal.openReadonly(dir);
    expect(r.rows()).toHaveLength(1);
    append(w, 'n2', '2026-11-24T00:01:00.000Z');
    expect(r.rows()).toHaveLength(2);
    r.close();
    w.close();
  });
});

describe('journal schema versions (fleet updates migrate forward only after confirmation)', () => {
  const migs = [{ sql: 'CREATE INDEX punches_captured ON punches (captured_at)' }, { sql: 'CREATE TABLE annotations (seq INTEGER PRIMARY KEY, note TEXT)' }];
  it('an existing journal keeps its version until migrateForward; punches are untouched; a new journal starts at the newest', () => {
    const dir = tmpDir();
    const path = join(dir, 'journal.db');
    const old = new Journal(path);
    for (let i = 0; i < 3; i++) append(old, `1980010120050110${i}0`, `2026-11-24T00:2${i}:00.000Z`);
    const before = old.rows();
    expect(old.schemaVersion()).toBe(1);
    old.close();
    const next = new Journal(path, { migrations: migs }); // the new release opens it: still version 1
    expect(next.schemaVersion()).toBe(1);
    expect(next.rows()).toEqual(before);
    append(next, '198001012005011999', '2026-11-24T00:40:00.000Z'); // and it keeps journaling
    expect(next.migrateForward()).toEqual([2, 3]);
    expect(next.schemaVersion()).toBe(3);
    expect(next.migrateForward()).toEqual([]);
    expect(next.rows().slice(0, 3)).toEqual(before);
    expect(next.integrityCheck()).toBe('ok');
    next.close();
    // an older release opening a migrated journal still works and never goes back
    const older = new Journal(path);
    expect(older.schemaVersion()).toBe(3);
    expect(older.migrateForward()).toEqual([]);
    expect(append(older, '198001012005011998', '2026-11-24T00:50:00.000Z').kind).toBe('recorded');
    older.close();
    const fresh = new Journal(join(dir, 'new.db'), { migrations: migs });
    expect(fresh.schemaVersion()).toBe(3);
    fresh.close();
  });
});
