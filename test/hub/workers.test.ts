import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Topics, type Punch } from '../../protocol/index.js';
import { openHubStores } from '../../hub/store/open.js';
import { enrolTestDevice, metricValue, privateMosquitto, seedOrgSql, TestKiosk, tmpDir, waitFor, type TestDevice } from './helpers.js';
import { freshPostgres, sqlOf } from '../store.js';

/**
 * Several `hadir hub` processes on one PostgreSQL and a private Mosquitto share the punch stream
 * ($share/hadir-hub/…): any worker stores and acks. One is SIGKILLed mid-stream: every punch is
 * still stored exactly once (kiosks re-send what was not acked), and the periodic jobs move to a
 * survivor (the advisory-lock leader).
 */
const KIOSKS = 12;
const PER_KIOSK = 150;
const WORKERS = 3;
const BIN = join(import.meta.dirname, '..', '..', 'bin', 'hadir.mjs');

const freePort = () =>
  new Promise<number>((res) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => res(p));
    });
  });

interface Worker {
  proc: ChildProcess;
  port: number;
  log: string;
}

describe('hub workers: three `hadir hub` processes on one PostgreSQL and Mosquitto', () => {
  let db: Awaited<ReturnType<typeof freshPostgres>>;
  let mosq: Awaited<ReturnType<typeof privateMosquitto>>;
  const workers: Worker[] = [];
  const devices: TestDevice[] = [];
  const dir = tmpDir('workers');

  const metrics = async (w: Worker) => {
    const r = await fetch(`http://127.0.0.1:${w.port}/metrics`).catch(() => null);
    return r?.ok ? r.text() : '';
  };
  const alive = (w: Worker) => w.proc.exitCode === null && w.proc.signalCode === null;

  beforeAll(async () => {
    db = await freshPostgres();
    mosq = await privateMosquitto(dir, 'allow_anonymous true\nmax_inflight_messages 1000\nmax_queued_messages 1000000');
    // the organisation and the kiosks, as an admin would register them (the store the workers use)
    const { store, ...o } = await openHubStores({ dbPath: '', postgresUrl: db.url });
    await seedOrgSql(sqlOf({ store, db: o.db }));
    for (let i = 0; i < KIOSKS; i++) devices.push(await enrolTestDevice(store, 'PKM-01-A', `kiosk-w${i + 1}`));
    await store.close();
    for (let i = 0; i < WORKERS; i++) {
      const port = await freePort();
      const proc = spawn(process.execPath, [BIN, 'hub', '--db', db.url, '--mqtt-url', mosq.url, '--http-port', String(port), '--http-host', '127.0.0.1', '--data', join(dir, `w${i}`)], {
        env: { ...process.env, HADIR_LOG_LEVEL: 'info', HADIR_LEADER_RETRY_S: '0.5', HADIR_VERIFY_WORKERS: '0' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const w: Worker = { proc, port, log: '' };
      proc.stdout!.on('data', (b: Buffer) => (w.log += b.toString()));
      proc.stderr!.on('data', (b: Buffer) => (w.log += b.toString()));
      workers.push(w);
    }
    for (const w of workers) await waitFor(async () => (await fetch(`http://127.0.0.1:${w.port}/healthz`).catch(() => null))?.ok, 60_000, `worker on :${w.port} up\n${w.log}`);
  }, 120_000);

  afterAll(async () => {
    for (const w of workers) if (alive(w)) w.proc.kill('SIGKILL');
    await mosq?.stop();
    await db?.drop();
  });

  it('share the stream, store every punch exactly once through a SIGKILL, and move the periodic jobs to a survivor', async () => {
    // exactly one leader, and it ran the periodic jobs
    const leaders = async () => {
      const out: Worker[] = [];
      for (const w of workers) if (alive(w) && metricValue(await metrics(w), 'hadir_hub_leader') === 1) out.push(w);
      return out;
    };
    const [first] = await waitFor(async () => ((await leaders()).length === 1 ? leaders() : null), 10_000, 'one leader');
    expect(metricValue(await metrics(first!), 'hadir_periodic_runs_total', 'job="alerts"')).toBeGreaterThanOrEqual(1);
    for (const w of workers) if (w !== first) expect(metricValue(await metrics(w), 'hadir_periodic_runs_total', 'job="alerts"')).toBeNaN();

    // kiosks publish with a window, re-sending what is not acked after 3 s (as kiosk/publisher.ts does, faster)
    const topics = new Topics('hadir/v1');
    const kiosks = await Promise.all(devices.map((d) => TestKiosk.connect(mosq.url, topics, d.id, d.password, `${d.id}-sim`)));
    const punches = devices.map((d) => Array.from({ length: PER_KIOSK }, () => d.next()));
    const total = KIOSKS * PER_KIOSK;
    const acked = () => kiosks.reduce((a, k) => a + k.ackedIds().size, 0);
    let killed: Worker | null = null;
    const sendAll = async (k: TestKiosk, ps: Punch[]) => {
      const sentAt = new Map<string, number>();
      let resent = 0;
      for (;;) {
        const done = k.ackedIds();
        if (done.size >= ps.length) return resent;
        let inFlight = 0;
        for (const p of ps) {
          if (done.has(p.id)) continue;
          const t = sentAt.get(p.id);
          if (t === undefined && inFlight >= 40) continue;
          if (t === undefined || Date.now() - t > 3000) {
            if (t !== undefined) resent++;
            sentAt.set(p.id, Date.now());
            void k.publish(p);
          }
          inFlight++;
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    const sending = Promise.all(kiosks.map((k, i) => sendAll(k, punches[i]!)));
    // mid-stream: the leader dies without a word
    await waitFor(() => acked() >= total / 3, 60_000, 'a third acked');
    killed = first!;
    killed.proc.kill('SIGKILL');
    const atKill = acked();
    const resent = (await sending).reduce((a, b) => a + b, 0);
    expect(atKill).toBeLessThan(total);

    // every punch acked and stored exactly once, every kiosk gapless
    for (const [i, k] of kiosks.entries()) expect(k.ackedIds()).toEqual(new Set(punches[i]!.map((p) => p.id)));
    const { store } = await openHubStores({ dbPath: '', postgresUrl: db.url });
    try {
      const sql = sqlOf({ store, db: undefined as never });
      const [counts] = await sql.all<{ n: number; ids: number; keys: number }>('SELECT count(*)::int AS n, count(DISTINCT id)::int AS ids, (SELECT count(*)::int FROM punch_keys) AS keys FROM punches');
      expect(counts).toEqual({ n: total, ids: total, keys: total });
      for (const d of devices) expect(await store.getDevice(d.id)).toMatchObject({ contiguousSeq: PER_KIOSK, maxSeq: PER_KIOSK });
      expect(await store.seqGaps(undefined, true)).toEqual([]);
    } finally {
      await store.close();
    }

    // the survivors both stored punches (the stream is shared), and one of them took over the periodic jobs
    const survivors = workers.filter((w) => w !== killed);
    for (const w of survivors) expect(metricValue(await metrics(w), 'hadir_punches_stored_total')).toBeGreaterThan(0);
    const [next] = await waitFor(async () => ((await leaders()).length === 1 ? leaders() : null), 10_000, 'a new leader');
    expect(survivors).toContain(next);
    await waitFor(async () => metricValue(await metrics(next!), 'hadir_periodic_runs_total', 'job="alerts"') >= 1, 10_000, 'the alert job on the new leader');
    expect(next!.log).toMatch(/this worker now runs the periodic jobs/);
    for (const w of survivors) if (w !== next) expect(metricValue(await metrics(w), 'hadir_periodic_runs_total', 'job="alerts"')).toBeNaN();
    // eslint-disable-next-line no-console
    console.log(`workers: ${total} punches, leader SIGKILLed at ${atKill} acked, ${resent} re-sent by kiosks; leader moved :${killed.port} → :${next!.port}`);
    await Promise.all(kiosks.map((k) => k.close()));
  }, 180_000);
});
