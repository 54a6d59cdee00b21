import { spawn } from 'node:child_process';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import {
  GENESIS_HASH, Topics, generateDeviceKeys, loadPrivateKey, newId, newIdAt, punchHash, signPunch, type Ack, type Punch, type UnsignedPunch,
} from '../../protocol/index.js';
import type { TestSql } from '../store.js';
import type { SqliteDb } from '../../hub/store/sqlite.js';
import type { CoreStore } from '../../hub/store/core-store.js';
import { registerDevice, enrolDevice } from '../../hub/devices/registry.js';
import type { KeyObject } from 'node:crypto';
import { makeTmpDir } from '../tmp.js';

export function tmpDir(tag = 'hub'): string {
  return makeTmpDir(`hadir-${tag}-`);
}

/** Org rows as `hadir import org` would make them (that command belongs to another area). */
/** Two OPDs, their units and sites, and four staff (one inactive): the statements and their rows. */
const SEED: [string, (string | number)[][]][] = [
  ['INSERT INTO opd (code, name) VALUES (?, ?) ON CONFLICT DO NOTHING', [['DINKES', 'Dinas Kesehatan'], ['DISDIK', 'Dinas Pendidikan']]],
  ['INSERT INTO units (code, opd_code, name) VALUES (?, ?, ?) ON CONFLICT DO NOTHING', [['PKM-01', 'DINKES', 'Puskesmas Kota'], ['SDN-01', 'DISDIK', 'SD Negeri 1']]],
  ['INSERT INTO sites (code, unit_code, name) VALUES (?, ?, ?) ON CONFLICT DO NOTHING', [['PKM-01-A', 'PKM-01', 'Puskesmas Kota gedung A'], ['SDN-01', 'SDN-01', 'SDN 1']]],
  [
    `INSERT INTO staff (nip, name, opd_code, unit_code, employment, schedule_code, active, updated_at) VALUES (?, ?, ?, ?, 'ASN', 'KANTOR5', ?, ?) ON CONFLICT DO NOTHING`,
    [
      ['198503122010011002', 'Siti Rahma', 'DINKES', 'PKM-01', 1],
      ['199001012015032001', 'Budi Santoso', 'DINKES', 'PKM-01', 1],
      ['197001011990011001', 'Pensiunan', 'DINKES', 'PKM-01', 0],
      ['198001012005011003', 'Guru Ani', 'DISDIK', 'SDN-01', 1],
    ],
  ],
];
const seedRows = () => {
  const now = new Date().toISOString();
  return SEED.map(([sql, rows]) => [sql, rows.map((r) => (sql.includes('updated_at') ? [...r, now] : r))] as const);
};

/** The test organisation on either store. */
export async function seedOrgSql(sql: TestSql): Promise<void> {
  for (const [q, rows] of seedRows()) for (const r of rows) await sql.run(q, ...r);
}

/** The test organisation on a SQLite handle (synchronous, for the SQLite-only tests). */
export function seedOrg(db: SqliteDb): void {
  for (const [q, rows] of seedRows()) {
    const st = db.prepare(q);
    for (const r of rows) st.run(...r);
  }
}

export interface TestDevice {
  id: string;
  password: string;
  key: KeyObject;
  publicKeyPem: string;
  seq: number;
  prevHash: string;
  /** Signs the next punch of this device (seq and hash chain advance). */
  next(over?: Partial<UnsignedPunch>): Punch;
}

export async function enrolTestDevice(store: CoreStore, siteCode: string, id: string, prefix = 'hadir/v1'): Promise<TestDevice> {
  const keys = generateDeviceKeys();
  const r = await registerDevice(store, { siteCode, deviceId: id, now: new Date() });
  const e = await enrolDevice(store, { token: r.token, publicKeyPem: keys.publicKeyPem }, { hubUrl: 'http://x', mqttUrl: 'mqtt://x', prefix }, new Date());
  return makeDevice(id, e.mqtt.password, loadPrivateKey(keys.privateKeyPem), keys.publicKeyPem);
}

export function makeDevice(id: string, password: string, key: KeyObject, publicKeyPem: string): TestDevice {
  const d: TestDevice = {
    id, password, key, publicKeyPem, seq: 0, prevHash: GENESIS_HASH,
    next(over = {}) {
      const u: UnsignedPunch = {
        id: '',
        deviceId: id,
        seq: d.seq + 1,
        nip: '198503122010011002',
        method: 'face',
        capturedAt: new Date().toISOString(),
        clock: { synced: true, source: 'chrony', offsetMs: 0.3, bootId: 'boot-1', monoMs: 1000 + d.seq },
        match: { score: 0.72, liveness: 0.97 },
        prevHash: d.prevHash,
        ...over,
      };
      // like a kiosk: the UUIDv7 time is the capture time (the hub checks they agree)
      if (!u.id) u.id = newIdAt(Date.parse(u.capturedAt));
      const p = signPunch(u, key);
      d.seq = u.seq;
      d.prevHash = punchHash(u);
      return p;
    },
  };
  return d;
}

/** A kiosk-side MQTT client: connects as the device, collects acks. */
export class TestKiosk {
  acks: Ack[] = [];
  private constructor(readonly client: MqttClient, readonly topics: Topics, readonly id: string) {}

  static async connect(url: string, topics: Topics, id: string, password?: string, clientId = id): Promise<TestKiosk> {
    const client = mqtt.connect(url, { protocolVersion: 4, clientId, username: id, password, clean: true, reconnectPeriod: 0 });
    await new Promise<void>((res, rej) => {
      client.once('connect', () => res());
      client.once('error', rej);
    });
    const k = new TestKiosk(client, topics, id);
    client.on('message', (t, payload) => {
      if (t === topics.ack(id)) k.acks.push(JSON.parse(payload.toString()) as Ack);
    });
    await client.subscribeAsync(topics.ack(id), { qos: 1 });
    return k;
  }

  async publish(payload: Punch | string | Buffer, topic = this.topics.punch(this.id)): Promise<void> {
    const body = typeof payload === 'string' || Buffer.isBuffer(payload) ? payload : JSON.stringify(payload);
    await this.client.publishAsync(topic, body, { qos: 1 });
  }

  ackedIds(): Set<string> {
    return new Set(this.acks.flatMap((a) => a.ids));
  }
  rejectedIds(): Map<string, string> {
    return new Map(this.acks.flatMap((a) => a.rejected ?? []).map((r) => [r.id, r.reason]));
  }
  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}

export async function waitFor<T>(fn: () => T | undefined | false | null | Promise<T | undefined | false | null>, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export function randomPrefix(): string {
  return `t-${Math.random().toString(36).slice(2, 10)}/hadir/v1`;
}

/** Reads one metric value from Prometheus text. */
export function metricValue(text: string, name: string, labels = ''): number {
  const re = new RegExp(`^${name.replace(/[{}]/g, '\\$&')}${labels ? `\\{${labels.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\}` : ''} (\\S+)$`, 'm');
  const m = re.exec(text);
  return m ? Number(m[1]) : NaN;
}

/** A private Mosquitto (the real broker binary) on a free port, with extra config lines. */
export async function privateMosquitto(dir: string, extra = ''): Promise<{ port: number; url: string; stop(): Promise<void>; restart(): Promise<void> }> {
  const { spawn } = await import('node:child_process');
  const { createServer } = await import('node:net');
  const { writeFileSync } = await import('node:fs');
  const port = await new Promise<number>((res) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => res(p));
    });
  });
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(conf, `listener ${port} 127.0.0.1\npersistence false\nmax_queued_messages 100000\n${extra}\n`);
  let child: import('node:child_process').ChildProcess;
  const start = async () => {
    child = spawn('mosquitto', ['-c', conf], { stdio: 'ignore' });
    await waitFor(
      () =>
        new Promise<boolean>((res) => {
          const s = createServer();
          s.once('error', () => res(true));
          s.listen(port, '127.0.0.1', () => s.close(() => res(false)));
        }),
      10_000,
      'mosquitto listening',
    );
  };
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const done = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await done;
  };
  await start();
  return { port, url: `mqtt://127.0.0.1:${port}`, stop, restart: async () => (await stop(), await start()) };
}

/** `hadir …` as a child process, without blocking this process (a hub under test may run here). */
export function runHadir(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [join(import.meta.dirname, '..', '..', 'bin', 'hadir.mjs'), ...args], { env: { ...process.env, HADIR_LOG_LEVEL: 'warn' } });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    c.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    c.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
