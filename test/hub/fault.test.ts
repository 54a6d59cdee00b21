import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { generateDeviceKeys } from '../../protocol/index.js';
import { openHubStores } from '../../hub/store/open.js';
import { openPostgres } from '../../hub/store/pg.js';
import { enrolDevice, registerDevice } from '../../hub/devices/registry.js';
import type { CoreStore } from '../../hub/store/core-store.js';
import { dayIndex, monthDates, weekdayOf } from '../../hub/attendance/time.js';
import { mulberry32 } from '../../lib/random.js';
import { spawnFleet, type FleetProcess } from '../../bench/fleet-process.js';
import type { PlannedPunch } from '../../bench/fleet.js';
import { BIN, freePort } from '../e2e/harness.js';
import { metricValue, privateMosquitto, tmpDir, waitFor } from './helpers.js';
import { sqlOf, type TestSql } from '../store.js';
import { privatePostgres, type PgCluster } from '../pg-cluster.js';

/**
 * Issue 15's fault test, real processes: three `hadir hub` workers on one PostgreSQL (a private
 * cluster, so it can be restarted) and one Mosquitto, sharing the punch stream through
 * $share/hadir-hub/…; 200 kiosks (the kiosk's real journal, MQTT link and publisher, in one child
 * process: bench/fleet.ts) deliver a journaled backlog. Mid-stream the leading worker is SIGKILLed
 * and later PostgreSQL is restarted (immediate: a crash and WAL recovery). Kiosks re-send what was
 * not acked, as they do in the field. Afterwards every journaled punch is stored exactly once (no
 * duplicates, none missing, seq gapless per kiosk), and the attendance the workers derived equals,
 * row for row, that of a single SQLite `hadir hub` fed the very same journals without faults.
 *
 * Size: HADIR_FAULT_PUNCHES (default 4,000 here; `npm run test:fault` runs the 50,000).
 * Measured on the shared 2-core machine (load 8–13, three other engineers and a VM beside it):
 * 50,000 punches, 2,000 staff — stored 50,000, 0 duplicates, 0 missing; leader killed at 33,137
 * acked, PostgreSQL restarted at 37,481 (8.8 s); the stream took 300 s with 150,562 re-sends (the
 * kiosks' 10 s ack timeout is short for 100,000 punches in flight on an overloaded machine); the
 * SQLite reference 313 s; 2,000 attendance rows equal; 794 s in all. 2,000 punches: 160 s.
 */
const PUNCHES = Number(process.env.HADIR_FAULT_PUNCHES ?? 4000);
const KIOSKS = 200;
const WORKERS = 3;
/** About 25 punches per employee: a dozen working days with check-in and check-out. */
const STAFF = Math.max(KIOSKS, Math.round(PUNCHES / 25));
/** Generous for a loaded 2-core machine: a fixed part (processes, restarts, re-send backoff) and a part per punch. */
const LIMIT_MS = 240_000 + PUNCHES * 12;

const closers: (() => Promise<unknown> | unknown)[] = [];
afterAll(async () => {
  for (const c of closers.reverse()) await Promise.resolve(c()).catch(() => {});
});

/** The month before this one (wholly past: its derived days do not depend on today). */
function lastMonth(): string {
  const d = new Date();
  d.setUTCDate(1);
  d.setUTCMonth(d.getUTCMonth() - 1);
  return d.toISOString().slice(0, 7);
}

const nipOf = (s: number) => `198001012005${String(100000 + s).slice(-6)}`;

/** Who punches when, at which kiosk: deterministic (mulberry32); each kiosk's list in capture order. */
function plan(month: string): PlannedPunch[][] {
  const rnd = mulberry32(15);
  // working days, away from the month's edges (a punch there may count in either month)
  const days = monthDates(month).slice(1, -1).filter((d) => { const w = weekdayOf(dayIndex(d)); return w >= 1 && w <= 5; });
  const out: PlannedPunch[][] = Array.from({ length: KIOSKS }, () => []);
  for (let g = 0; g < PUNCHES; g++) {
    const s = g % STAFF;
    const n = Math.floor(g / STAFF);
    const day = days[Math.floor(n / 2) % days.length]!;
    // WIB (UTC+7): in around 07:30 (some late), out around 16:00 (some early)
    const local = n % 2 === 0 ? 7 * 60 + 30 + Math.floor(rnd() * 75) - 30 : 16 * 60 + Math.floor(rnd() * 90) - 45;
    const atMs = Date.parse(`${day}T00:00:00+07:00`) + local * 60_000 + Math.floor(rnd() * 60_000);
    out[s % KIOSKS]!.push({ nip: nipOf(s), atMs });
  }
  for (const list of out) list.sort((a, b) => a.atMs - b.atMs);
  return out;
}

/** The organisation (one OPD, unit, site) and STAFF employees, on either store. */
async function seed(sql: TestSql): Promise<void> {
  await sql.run("INSERT INTO opd (code, name) VALUES ('FLT', 'Dinas Uji')");
  await sql.run("INSERT INTO units (code, opd_code, name) VALUES ('FLT-U', 'FLT', 'Unit uji')");
  await sql.run("INSERT INTO sites (code, unit_code, name) VALUES ('FLT-S', 'FLT-U', 'Kantor uji')");
  const now = new Date().toISOString();
  for (let i = 0; i < STAFF; i += 500) {
    const n = Math.min(500, STAFF - i);
    const args = Array.from({ length: n }, (_, k) => [nipOf(i + k), `Pegawai ${i + k}`, now]).flat();
    await sql.run(
      `INSERT INTO staff (nip, name, opd_code, unit_code, employment, tpp_base, schedule_code, active, updated_at) VALUES ${Array(n).fill("(?, ?, 'FLT', 'FLT-U', 'ASN', 0, 'KANTOR5', 1, ?)").join(', ')}`,
      ...args,
    );
  }
}

interface Kiosk {
  id: string;
  password: string;
  privateKeyPem: string;
  publicKeyPem: string;
}

/** Registers and enrols the kiosks (the same keys on both hubs: the same signed punches verify on each). */
async function enrol(store: CoreStore, kiosks: Kiosk[]): Promise<void> {
  for (const k of kiosks) {
    const r = await registerDevice(store, { siteCode: 'FLT-S', deviceId: k.id, now: new Date() });
    const e = await enrolDevice(store, { token: r.token, publicKeyPem: k.publicKeyPem }, { hubUrl: 'http://x', mqttUrl: 'mqtt://x', prefix: 'hadir/v1' }, new Date());
    k.password ||= e.mqtt.password;
  }
}

interface Hub {
  proc: ChildProcess;
  port: number;
  log: string;
}
const alive = (h: Hub) => h.proc.exitCode === null && h.proc.signalCode === null;

async function startHub(args: string[], dataDir: string): Promise<Hub> {
  const port = await freePort();
  const proc = spawn(process.execPath, [BIN, 'hub', ...args, '--http-port', String(port), '--http-host', '127.0.0.1', '--data', dataDir], {
    env: { ...process.env, HADIR_LOG_LEVEL: 'warn', HADIR_LEADER_RETRY_S: '0.5', HADIR_VERIFY_WORKERS: '0', VITEST: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const h: Hub = { proc, port, log: '' };
  proc.stdout!.on('data', (b: Buffer) => (h.log = (h.log + b.toString()).slice(-20_000)));
  proc.stderr!.on('data', (b: Buffer) => (h.log = (h.log + b.toString()).slice(-20_000)));
  closers.push(() => alive(h) && h.proc.kill('SIGKILL'));
  return h;
}
const up = (h: Hub) => waitFor(async () => {
  if (!alive(h)) throw new Error(`hub on :${h.port} exited during start:\n${h.log}`);
  return (await fetch(`http://127.0.0.1:${h.port}/healthz`).catch(() => null))?.ok;
}, 120_000, `hub on :${h.port} up`);
async function stopHub(h: Hub): Promise<void> {
  if (!alive(h)) return;
  const done = new Promise((r) => h.proc.once('exit', r));
  h.proc.kill('SIGTERM');
  await done;
}
const metrics = async (h: Hub) => (alive(h) ? ((await fetch(`http://127.0.0.1:${h.port}/metrics`).catch(() => null))?.text() ?? '') : '');

/** Each kiosk's journal: seq, id, delivered. */
function journals(fleetDir: string, kiosks: Kiosk[]): Map<string, { seq: number; id: string; delivered: boolean }[]> {
  const out = new Map<string, { seq: number; id: string; delivered: boolean }[]>();
  for (const k of kiosks) {
    const db = new Database(join(fleetDir, k.id, 'journal.db'), { readonly: true });
    out.set(k.id, (db.prepare('SELECT seq, id, delivered_at IS NOT NULL AS d FROM punches ORDER BY seq').all() as { seq: number; id: string; d: number }[]).map((r) => ({ seq: r.seq, id: r.id, delivered: r.d === 1 })));
    db.close();
  }
  return out;
}

/** The derived attendance, comparable across stores (when and in which pass it was derived left out). */
const ATT_SQL = `SELECT nip, month, opd_code, unit_code, days, deduction_pct, work_days, present_days, late_days, early_days, absent_days, missing_days, excused_days, pending_review, digest
  FROM att_months ORDER BY nip, month`;
const norm = (r: Record<string, unknown>) => JSON.stringify(Object.values(r).map((v) => (typeof v === 'bigint' ? Number(v) : v)));

// It makes its own PostgreSQL cluster and runs in the ordinary pass; the PostgreSQL pass (npm run test:pg) would only repeat it.
describe.skipIf(process.env.HADIR_TEST_DB === 'postgres')(`fault test: ${WORKERS} hub workers on PostgreSQL and Mosquitto, ${PUNCHES} punches from ${KIOSKS} kiosks`, () => {
  it('a worker SIGKILLed and PostgreSQL restarted mid-stream: every punch stored exactly once, attendance equal to a single SQLite hub', async () => {
    const t0 = performance.now();
    const load0 = loadavg()[0]!;
    const dir = tmpDir('fault');
    const month = lastMonth();
    const work = plan(month);
    const total = work.reduce((a, l) => a + l.length, 0);
    expect(total).toBe(PUNCHES);

    const pgc: PgCluster = await privatePostgres();
    closers.push(() => pgc.stop());
    const mosq = await privateMosquitto(dir, 'allow_anonymous true\nmax_inflight_messages 1000\nmax_queued_messages 1000000');
    closers.push(() => mosq.stop());
    const dbUrl = pgc.url;

    const kiosks: Kiosk[] = [];
    for (let i = 0; i < KIOSKS; i++) {
      const keys = generateDeviceKeys();
      kiosks.push({ id: `flt-${String(i + 1).padStart(3, '0')}`, password: '', privateKeyPem: keys.privateKeyPem, publicKeyPem: keys.publicKeyPem });
    }
    {
      const { store, db } = await openHubStores({ dbPath: '', postgresUrl: dbUrl });
      await seed(sqlOf({ store, db }));
      await enrol(store, kiosks);
      await store.close();
    }

    // ---- the PostgreSQL run, with the faults
    const workers: Hub[] = [];
    for (let i = 0; i < WORKERS; i++) workers.push(await startHub(['--db', dbUrl, '--mqtt-url', mosq.url], join(dir, `w${i}`)));
    for (const w of workers) await up(w);
    const leaders = async () => {
      const out: Hub[] = [];
      for (const w of workers) if (metricValue(await metrics(w), 'hadir_hub_leader') === 1) out.push(w);
      return out;
    };
    const [leader] = await waitFor(async () => ((await leaders()).length === 1 ? leaders() : null), 20_000, 'one leader');

    const fleetDir = join(dir, 'fleet');
    const spec = (d: string, prefix: string) => ({ dir: d, url: mosq.url, prefix, kiosks: kiosks.map(({ id, password, privateKeyPem }) => ({ id, password, privateKeyPem })) });
    let fleet: FleetProcess = await spawnFleet(spec(fleetDir, 'hadir/v1'));
    closers.push(() => fleet.stop());
    await fleet.request({ cmd: 'plan', plan: work });
    const acked = async () => (await fleet.request({ cmd: 'stats' })).acked;
    const tStream = performance.now();
    await fleet.request({ cmd: 'start' });

    // Faults are timed by what PostgreSQL holds (polled directly: the fleet process may answer late
    // while it publishes). Mid-stream, the leading worker dies without a word …
    const probe = await openPostgres(dbUrl);
    closers.push(() => probe.end());
    const storedNow = async () => Number((await probe.query('SELECT count(*) AS n FROM punch_keys')).rows[0].n);
    await waitFor(async () => (await storedNow()) >= total / 3, LIMIT_MS, 'a third stored');
    leader!.proc.kill('SIGKILL');
    const atKill = await storedNow();
    // … and PostgreSQL crashes and recovers while the survivors store. The punches the dead worker had
    // taken are re-sent only after the kiosks' ack timeout (10 s): the stream cannot be over yet.
    await new Promise((r) => setTimeout(r, 1000));
    const atRestart = await storedNow();
    const tr = performance.now();
    await pgc.restart('immediate');
    const restartS = (performance.now() - tr) / 1000;
    await probe.end();
    closers.pop();
    expect(atKill).toBeLessThan(total);
    expect(atRestart).toBeLessThan(total);
    const drained = await fleet.drained(LIMIT_MS);
    const streamS = (performance.now() - tStream) / 1000;

    // the survivors are up, and one of them leads and drains the attendance queue
    const survivors = workers.filter((w) => w !== leader);
    for (const w of survivors) expect(alive(w), `worker :${w.port} died:\n${w.log}`).toBe(true);
    const { store: pgStore, db: pgDb } = await openHubStores({ dbPath: '', postgresUrl: dbUrl });
    closers.push(() => pgStore.close());
    const pgSql = sqlOf({ store: pgStore, db: pgDb });
    await waitFor(async () => (await pgSql.all<{ n: number }>('SELECT count(*)::int AS n FROM att_dirty'))[0]!.n === 0, 120_000, 'the attendance queue drained on PostgreSQL');
    const newLeader = (await leaders())[0];
    expect(survivors).toContain(newLeader);
    await fleet.stop();

    // exactly once: the hub holds every journaled punch once, and nothing else; each kiosk gapless
    const j = journals(fleetDir, kiosks);
    const journaled = [...j.values()].flat();
    expect(journaled.length).toBe(total);
    expect(journaled.filter((r) => !r.delivered)).toEqual([]);
    const stored = await pgSql.all<{ id: string; device_id: string; seq: number }>('SELECT id, device_id, seq FROM punches');
    const storedIds = new Map<string, number>();
    for (const r of stored) storedIds.set(r.id, (storedIds.get(r.id) ?? 0) + 1);
    const duplicates = [...storedIds.values()].filter((n) => n > 1).length;
    const missing = journaled.filter((r) => !storedIds.has(r.id)).length;
    const journalIds = new Set(journaled.map((r) => r.id));
    const extra = stored.filter((r) => !journalIds.has(r.id)).length;
    expect({ stored: stored.length, duplicates, missing, extra }).toEqual({ stored: total, duplicates: 0, missing: 0, extra: 0 });
    for (const k of kiosks) {
      const n = j.get(k.id)!.length;
      expect(j.get(k.id)!.map((r) => r.seq)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
      expect(await pgStore.getDevice(k.id)).toMatchObject({ contiguousSeq: n, maxSeq: n });
    }
    expect(await pgStore.seqGaps(undefined, true)).toEqual([]);
    const pgAtt = (await pgSql.all<Record<string, unknown>>(ATT_SQL)).map(norm);
    for (const w of survivors) await stopHub(w);

    // ---- the reference: one SQLite hub, the very same journals (copied, undelivered again), no faults
    await mosq.restart(); // no kiosk session of the first run left
    const sqliteDir = join(dir, 'sqlite-hub');
    {
      const { store, db } = await openHubStores({ dbPath: join(sqliteDir, 'hub.db'), postgresUrl: null });
      await seed(sqlOf({ store, db }));
      await enrol(store, kiosks);
      await store.close();
    }
    const fleet2Dir = join(dir, 'fleet-sqlite');
    cpSync(fleetDir, fleet2Dir, { recursive: true });
    for (const k of kiosks) {
      const db = new Database(join(fleet2Dir, k.id, 'journal.db'));
      db.prepare('UPDATE punches SET delivered_at = NULL').run();
      db.close();
    }
    const single = await startHub(['--mqtt-url', mosq.url, '--prefix', 'ref/hadir/v1'], sqliteDir);
    await up(single);
    fleet = await spawnFleet(spec(fleet2Dir, 'ref/hadir/v1'));
    expect((await fleet.request({ cmd: 'stats' })).journaled).toBe(total);
    const tRef = performance.now();
    await fleet.request({ cmd: 'start' });
    await fleet.drained(LIMIT_MS);
    const refS = (performance.now() - tRef) / 1000;
    await fleet.stop();
    const ref = new Database(join(sqliteDir, 'hub.db'), { readonly: true });
    closers.push(() => ref.close());
    await waitFor(() => (ref.prepare('SELECT count(*) FROM att_dirty').pluck().get() as number) === 0, 120_000, 'the attendance queue drained on SQLite');
    await stopHub(single);
    expect(ref.prepare('SELECT count(*) AS n, count(DISTINCT id) AS ids FROM punches').get()).toEqual({ n: total, ids: total });
    const refAtt = (ref.prepare(ATT_SQL).all() as Record<string, unknown>[]).map(norm);

    // attendance: row for row
    const refSet = new Set(refAtt);
    const differ = pgAtt.filter((r) => !refSet.has(r));
    expect(refAtt.length).toBeGreaterThan(0);
    expect({ rows: pgAtt.length, differ: differ.slice(0, 3) }).toEqual({ rows: refAtt.length, differ: [] });
    expect(pgAtt).toEqual(refAtt);

    const figures = {
      punches: total, kiosks: KIOSKS, workers: WORKERS, staff: STAFF, month,
      stored: stored.length, duplicates, missing, extra,
      stored_at_kill: atKill, stored_at_pg_restart: atRestart, pg_restart_s: Number(restartS.toFixed(2)),
      resent: drained.resent, stream_s: Number(streamS.toFixed(1)), sqlite_reference_s: Number(refS.toFixed(1)),
      attendance_rows: pgAtt.length, attendance_rows_differing: differ.length,
      total_s: Number(((performance.now() - t0) / 1000).toFixed(1)), load_start: load0, load_end: loadavg()[0],
    };
    // eslint-disable-next-line no-console
    console.log(`fault test: ${JSON.stringify(figures)}`);
  }, LIMIT_MS * 3);
});
