import { createServer as createNetServer, type Server } from 'node:net';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { makeTmpDir } from '../tmp.js';
import { Aedes } from 'aedes';
import mqtt, { type MqttClient } from 'mqtt';
import { Topics, generateDeviceKeys, loadPublicKey, punchSchema, verifyPunch, type Ack, type Punch } from '../../protocol/index.js';
import { kioskConfigSchema, type KioskConfig } from '../../kiosk/config.js';
import type { Roster } from '../../protocol/index.js';

export function tmpDir(tag = 'kiosk'): string {
  return makeTmpDir(`hadir-${tag}-`);
}

export function randomPrefix(): string {
  return `t-${randomBytes(4).toString('hex')}/hadir/v1`;
}

/** A real aedes broker on an ephemeral port (MQTT 3.1.1, in-memory persistence). */
export async function startBroker(port = 0): Promise<{ url: string; port: number; broker: Aedes; close(): Promise<void> }> {
  const broker = await Aedes.createBroker();
  const sockets = new Set<import('node:net').Socket>();
  const server: Server = createNetServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    broker.handle(sock);
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  port = (server.address() as { port: number }).port;
  let closed = false;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    broker,
    async close() {
      if (closed) return;
      closed = true;
      // Stop accepting first (clients reconnect eagerly), then drop every connection, then the broker.
      const serverClosed = new Promise<void>((r) => server.close(() => r()));
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => broker.close(() => r()));
      await serverClosed;
    },
  };
}

export interface Responder {
  /** Punches stored (id → punch), each exactly once. */
  stored: Map<string, Punch>;
  /** How many punch messages arrived (duplicates included). */
  received: number;
  /** Don't ack the next N punch messages (simulates a lost ack / hub crash before ack). */
  dropNext(n: number): void;
  /** Ids to refuse for good (ack.rejected). */
  reject: Map<string, string>;
  close(): Promise<void>;
}

/**
 * A tiny stand-in for the hub's ingest (so publisher tests do not depend on the hub): verifies the
 * signature, stores each id once, acks in small batches — or drops/rejects on request.
 */
export async function startResponder(url: string, prefix: string, publicKeyPem: string): Promise<Responder> {
  const topics = new Topics(prefix);
  const key = loadPublicKey(publicKeyPem);
  const client: MqttClient = await mqtt.connectAsync(url, { protocolVersion: 4, clientId: `responder-${randomBytes(3).toString('hex')}`, clean: true });
  await client.subscribeAsync(topics.all('punch'), { qos: 1 });
  let drop = 0;
  const pending = new Map<string, { ids: string[]; rejected: { id: string; reason: string }[] }>();
  let timer: NodeJS.Timeout | null = null;
  const seen = new Map<string, Set<number>>();
  const contiguousBy = new Map<string, number>();
  const r: Responder = {
    stored: new Map(),
    received: 0,
    reject: new Map(),
    dropNext(n) {
      drop += n;
    },
    async close() {
      if (timer) clearTimeout(timer);
      await client.endAsync();
    },
  };
  const flush = () => {
    timer = null;
    for (const [deviceId, a] of pending) {
      const seqs = seen.get(deviceId)!;
      let contiguous = contiguousBy.get(deviceId) ?? 0;
      while (seqs.has(contiguous + 1)) contiguous++;
      contiguousBy.set(deviceId, contiguous);
      const ack: Ack = { ids: a.ids, contiguousSeq: contiguous, ...(a.rejected.length ? { rejected: a.rejected } : {}) };
      client.publish(topics.ack(deviceId), JSON.stringify(ack), { qos: 1 });
    }
    pending.clear();
  };
  client.on('message', (topic, payload) => {
    r.received++;
    if (drop > 0) {
      drop--;
      return;
    }
    const t = topics.parse(topic)!;
    const p = punchSchema.parse(JSON.parse(payload.toString()));
    const a = pending.get(t.deviceId) ?? { ids: [], rejected: [] };
    pending.set(t.deviceId, a);
    const reason = r.reject.get(p.id) ?? (verifyPunch(p, key) ? null : 'bad signature');
    if (reason) a.rejected.push({ id: p.id, reason });
    else {
      if (!r.stored.has(p.id)) r.stored.set(p.id, p);
      if (!seen.has(t.deviceId)) seen.set(t.deviceId, new Set());
      seen.get(t.deviceId)!.add(p.seq);
      a.ids.push(p.id);
    }
    timer ??= setTimeout(flush, 5);
  });
  return r;
}

/** A valid kiosk config for tests (fresh key pair; screen on an ephemeral port). */
export function testConfig(over: { dataDir: string; mqttUrl: string; prefix: string; hubUrl?: string; deviceId?: string; dedupWindowMin?: number }): { config: KioskConfig; publicKeyPem: string } {
  const keys = generateDeviceKeys();
  const config = kioskConfigSchema.parse({
    deviceId: over.deviceId ?? 'kiosk-test',
    siteCode: 'S01',
    hubUrl: over.hubUrl ?? 'http://127.0.0.1:9',
    dataDir: over.dataDir,
    mqtt: { url: over.mqttUrl, username: over.deviceId ?? 'kiosk-test', password: 'secret', prefix: over.prefix },
    privateKeyPem: keys.privateKeyPem,
    dedupWindowMin: over.dedupWindowMin ?? 5,
    screen: { port: 0 },
    face: { enabled: false },
    finger: { enabled: false },
  });
  return { config, publicKeyPem: keys.publicKeyPem };
}

/** A tiny roster endpoint (GET /api/v1/kiosk/roster with Basic auth), like the hub's. */
export async function startRosterServer(roster: Roster, auth: { user: string; pass: string }): Promise<{ url: string; requests: number; setRoster(r: Roster): void; close(): Promise<void> }> {
  let current = roster;
  const state = { requests: 0 };
  const server: HttpServer = createHttpServer((req, res) => {
    state.requests++;
    const expected = `Basic ${Buffer.from(`${auth.user}:${auth.pass}`).toString('base64')}`;
    if (req.url !== '/api/v1/kiosk/roster') return void res.writeHead(404).end('{}');
    if (req.headers.authorization !== expected) return void res.writeHead(401).end('{"error":"unauthorised"}');
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(current));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    get requests() {
      return state.requests;
    },
    setRoster(r) {
      current = r;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

export async function waitFor(cond: () => boolean, timeoutMs = 20_000, what = 'condition'): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export function sampleRoster(n = 5, version = 'v1'): Roster {
  return {
    version,
    site: { code: 'S01', name: 'Kantor Bupati' },
    people: Array.from({ length: n }, (_, i) => ({ nip: `198001012005011${String(i).padStart(3, '0')}`, name: `Pegawai ${i + 1}` })),
    fetchedAt: new Date().toISOString(),
  };
}
