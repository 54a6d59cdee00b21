import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'node:http';
import { connect as tcpConnect } from 'node:net';
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import mqtt from 'mqtt';
import pino from 'pino';
import { MAX_SEQ } from '../../protocol/index.js';
import { MAX_REJECTIONS } from '../../hub/store/core-rows.js';
import { startHub } from '../../hub/server.js';
import { resolveHubConfig } from '../../hub/config.js';
import { TestKiosk, metricValue, runHadir, tmpDir, waitFor } from '../hub/helpers.js';
import { securityHub, type SecurityHub } from './helpers.js';

/**
 * Finding 3 (no request body limit, embedded broker takes a 50 MB publish) and the weaker
 * findings 6: seq 2^53−1, unbounded `rejections` and log lines, world-readable data dir and
 * database under umask 022, no way to bind HTTP/MQTT to one address.
 */

/** Sends `declared` bytes of body in 64 KB pieces (or chunked when declared is null) until the server answers. */
function post(port: number, path: string, declared: number | null, total: number): Promise<{ status: number; sent: number }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { 'content-type': 'application/json' };
    if (declared !== null) headers['content-length'] = declared;
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', headers });
    let sent = 0;
    let done = false;
    req.on('response', (res) => {
      done = true;
      res.resume();
      resolve({ status: res.statusCode ?? 0, sent });
      req.destroy();
    });
    req.on('error', (e) => (done ? undefined : reject(e)));
    const piece = Buffer.alloc(64 * 1024, 0x61);
    const pump = () => {
      while (!done && sent < total) {
        sent += piece.length;
        if (!req.write(piece)) return void req.once('drain', pump);
      }
      if (!done) req.end();
    };
    req.write('{"username":"');
    pump();
  });
}

describe('security: limits', () => {
  let h: SecurityHub;
  beforeAll(async () => {
    h = await securityHub();
  });
  afterAll(async () => h?.close());

  it('replay finding 3: a 100 MB login body is refused with 413 after a few KB, not parsed', async () => {
    const rss0 = process.memoryUsage().rss;
    const r = await post(h.hub.httpPort, '/api/v1/auth/login', 100 * 1024 * 1024, 100 * 1024 * 1024);
    expect(r.status).toBe(413);
    expect(r.sent).toBeLessThan(20 * 1024 * 1024); // answered long before the body was through
    expect(process.memoryUsage().rss - rss0).toBeLessThan(150 * 1024 * 1024);
    // without a declared length (chunked) too
    const chunked = await post(h.hub.httpPort, '/api/v1/auth/login', null, 4 * 1024 * 1024);
    expect(chunked.status).toBe(413);
    // /api/v1/enrol took 10 MB before
    expect((await post(h.hub.httpPort, '/api/v1/enrol', 10 * 1024 * 1024, 10 * 1024 * 1024)).status).toBe(413);
    // an ordinary API body stays accepted
    expect((await h.call('POST', '/api/v1/auth/login', null, { username: 'x', password: 'y' })).status).toBe(401);
  });

  it('replay finding 3: the embedded broker closes a client sending a 50 MB publish at its header; normal punches still flow', async () => {
    const k = h.dinkesKiosk;
    const big = await new Promise<string>((resolve) => {
      const c = mqtt.connect(`mqtt://127.0.0.1:${h.hub.mqttPort}`, { clientId: k.id, username: k.id, password: k.password, reconnectPeriod: 0 });
      c.once('connect', () => c.publish(`hadir/v1/kiosk/${k.id}/punch`, Buffer.alloc(50 * 1024 * 1024, 0x7b), { qos: 1 }));
      c.once('close', () => (c.end(true), resolve('closed')));
      setTimeout(() => (c.end(true), resolve('still open')), 20_000);
    });
    expect(big).toBe('closed');
    expect(metricValue(await h.hub.metrics.registry.metrics(), 'hadir_mqtt_denied_total', 'kind="oversized"')).toBe(1);
    const kiosk = await TestKiosk.connect(`mqtt://127.0.0.1:${h.hub.mqttPort}`, h.hub.ctx.topics, k.id, k.password);
    try {
      const p = k.next();
      await kiosk.publish(p);
      await waitFor(() => kiosk.acks.some((a) => a.ids.includes(p.id)), 10_000, 'ack after the oversized publish');
    } finally {
      await kiosk.close();
    }
  });

  it('finding 6: seq 2^53−1 is refused by the schema; the highest allowed seq is 2^31−1', async () => {
    const k = h.disdikKiosk;
    const kiosk = await TestKiosk.connect(`mqtt://127.0.0.1:${h.hub.mqttPort}`, h.hub.ctx.topics, k.id, k.password);
    try {
      const huge = k.next({ seq: Number.MAX_SAFE_INTEGER });
      await kiosk.publish(huge);
      await waitFor(() => kiosk.rejectedIds().has(huge.id), 10_000, 'refusal');
      expect(kiosk.rejectedIds().get(huge.id)).toMatch(/^schema: seq/);
      expect(MAX_SEQ).toBe(2 ** 31 - 1);
    } finally {
      await kiosk.close();
    }
  });

  it('finding 6: rejections are kept bounded (newest MAX_REJECTIONS) and refusal log lines are rate-limited', async () => {
    const lines: string[] = [];
    const sink = new Writable({ write: (c: Buffer, _e, cb) => (lines.push(...c.toString().split('\n').filter(Boolean)), cb()) });
    const dir = tmpDir('sec-rej');
    const hub = await startHub({ dataDir: dir, httpPort: 0, mqttPort: 0, httpHost: '127.0.0.1', mqttHost: '127.0.0.1', env: {}, defaultMetrics: false, modules: [], log: pino({ level: 'warn' }, sink) });
    try {
      const at = new Date().toISOString();
      await hub.store.recordRejections(Array.from({ length: MAX_REJECTIONS + 500 }, (_, i) => ({ at, deviceId: null, topic: 't', code: 'schema', reason: `r${i}`, punchId: null })));
      expect(hub.db.prepare('SELECT count(*) FROM rejections').pluck().get()).toBe(MAX_REJECTIONS);
      // 2,000 malformed messages through ingest: all counted, few logged
      for (let i = 0; i < 2000; i++) hub.ingestor.push('hadir/v1/kiosk/kiosk-x/punch', Buffer.from('{"not":"a punch"}'));
      await hub.ingestor.drain();
      expect(metricValue(await hub.metrics.registry.metrics(), 'hadir_ingest_rejections_total', 'code="schema"')).toBe(2000);
      expect(lines.filter((l) => l.includes('punch rejected')).length).toBeLessThanOrEqual(20);
      expect(hub.db.prepare('SELECT count(*) FROM rejections').pluck().get()).toBe(MAX_REJECTIONS);
    } finally {
      await hub.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('finding 6: under umask 022 the data dir is 0700 and the database 0600 (hub and CLI)', async () => {
    const dir = tmpDir('sec-umask');
    const old = process.umask(0o022);
    try {
      const data = join(dir, 'hubdata');
      const hub = await startHub({ dataDir: data, httpPort: 0, mqttPort: 0, httpHost: '127.0.0.1', mqttHost: '127.0.0.1', env: {}, defaultMetrics: false, modules: [] });
      try {
        expect(statSync(data).mode & 0o777).toBe(0o700);
        for (const f of ['hub.db', 'hub.db-wal', 'hub.db-shm']) expect(statSync(join(data, f)).mode & 0o777, f).toBe(0o600);
      } finally {
        await hub.close();
      }
      // a CLI command creating a fresh data dir (started from a shell with umask 022); only a
      // command that may start a new hub creates one (cli/open-hub.ts), e.g. `attendance config`
      const cliData = join(dir, 'clidata');
      mkdirSync(dir, { recursive: true });
      execFileSync('sh', ['-c', `umask 022; "${process.execPath}" "${join(import.meta.dirname, '../../bin/hadir.mjs')}" attendance config --data "${cliData}" >/dev/null`]);
      expect(statSync(join(cliData, 'hub.db')).mode & 0o777).toBe(0o600);
      expect(statSync(cliData).mode & 0o077).toBe(0);
    } finally {
      process.umask(old);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('finding 6: HTTP and MQTT bind to one address when asked (--http-host/--mqtt-host, HADIR_HTTP_HOST/HADIR_MQTT_HOST)', async () => {
    expect(resolveHubConfig({}, { HADIR_HTTP_HOST: '10.1.2.3', HADIR_MQTT_HOST: '127.0.0.1' })).toMatchObject({ httpHost: '10.1.2.3', mqttHost: '127.0.0.1' });
    const dir = tmpDir('sec-bind');
    const hub = await startHub({ dataDir: dir, httpPort: 0, mqttPort: 0, httpHost: '127.0.0.2', mqttHost: '127.0.0.2', env: {}, defaultMetrics: false, modules: [] });
    const reach = (host: string, port: number) =>
      new Promise<boolean>((resolve) => {
        const s = tcpConnect({ host, port }, () => (s.destroy(), resolve(true)));
        s.once('error', () => resolve(false));
      });
    try {
      expect(await reach('127.0.0.2', hub.httpPort)).toBe(true);
      expect(await reach('127.0.0.1', hub.httpPort)).toBe(false);
      expect(await reach('127.0.0.2', hub.mqttPort)).toBe(true);
      expect(await reach('127.0.0.1', hub.mqttPort)).toBe(false);
    } finally {
      await hub.close();
      rmSync(dir, { recursive: true, force: true });
    }
    const help = await runHadir(['hub', '--help']);
    expect(help.stdout).toMatch(/--http-host/);
    expect(help.stdout).toMatch(/--mqtt-host/);
  });
});
