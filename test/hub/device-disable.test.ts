import { spawn } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { Topics, generateDeviceKeys } from '../../protocol/index.js';
import { startHub, type RunningHub } from '../../hub/server.js';
import { registerDevice, enrolDevice } from '../../hub/devices/registry.js';
import { addUser } from '../../hub/users.js';
import { KICK_CHECK_MS } from '../../hub/mqtt/broker.js';
import { KioskApp } from '../../kiosk/app.js';
import { kioskConfigSchema } from '../../kiosk/config.js';
import { HandSource } from '../kiosk/hand-source.js';
import { TestKiosk, enrolTestDevice, metricValue, seedOrg, tmpDir, waitFor, runHadir, type TestDevice } from './helpers.js';

const hadir = runHadir;

/** Resolves with the time the client's connection closed, or rejects after `ms`. */
function closedWithin(k: TestKiosk, ms: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${k.id} still connected after ${ms} ms`)), ms);
    k.client.once('close', () => (clearTimeout(t), resolve(Date.now())));
  });
}


/**
 * Taking a kiosk out of service: real hub (SQLite file, embedded aedes on an ephemeral port), real
 * MQTT clients as kiosks (raw TestKiosk and the real KioskApp with its journal), the real `hadir`
 * CLI as another process on the same data dir, and the HTTP API.
 */
describe('hadir device disable/enable, POST /api/v1/devices/{id}/disable|enable (embedded broker)', () => {
  let hub: RunningHub;
  let dir: string;
  let topics: Topics;
  let url: string;
  let bkpsdm = '';
  let opdAdmin = '';
  const logLines: string[] = [];
  const dirs: string[] = [];
  const api = (path: string, init: RequestInit = {}, token = bkpsdm) =>
    fetch(`http://127.0.0.1:${hub.httpPort}/api/v1${path}`, { method: 'POST', ...init, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...(init.headers ?? {}) } });
  const kickLines = (deviceId: string) => logLines.filter((l) => l.includes('mqtt device disconnected: disabled') && l.includes(`"deviceId":"${deviceId}"`));
  const metrics = async () => (await fetch(`http://127.0.0.1:${hub.httpPort}/metrics`)).text();
  const storedIds = (deviceId: string) => hub.db.prepare('SELECT id FROM punches WHERE device_id = ? ORDER BY seq').pluck().all(deviceId) as string[];

  beforeAll(async () => {
    dir = tmpDir('disable');
    dirs.push(dir);
    hub = await startHub({
      dataDir: dir, httpPort: 0, mqttPort: 0, httpHost: '127.0.0.1', env: {}, defaultMetrics: false,
      log: pino({ level: 'info' }, { write: (s: string) => void logLines.push(s) }),
    } as never);
    seedOrg(hub.db);
    topics = new Topics(hub.config.prefix);
    url = `mqtt://127.0.0.1:${hub.mqttPort}`;
    bkpsdm = (await addUser(hub.store, { username: 'bkpsdm1', name: 'Admin BKPSDM', role: 'bkpsdm', now: new Date() })).token;
    opdAdmin = (await addUser(hub.store, { username: 'dinkes1', name: 'Admin Dinkes', role: 'opd_admin', opdCode: 'DINKES', now: new Date() })).token;
  });
  afterAll(async () => {
    await hub?.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('disabled while connected: disconnected within ~6 s, cannot log in again, a punch sent meanwhile is not acked; after enable it is stored and acked', async () => {
    const dev: TestDevice = await enrolTestDevice(hub.store, 'PKM-01-A', 'kiosk-dis-1', hub.config.prefix);
    const k = await TestKiosk.connect(url, topics, dev.id, dev.password);
    const p1 = dev.next();
    await k.publish(p1);
    await waitFor(() => k.ackedIds().has(p1.id), 10_000, 'first punch acked');

    const kickedBefore = metricValue(await metrics(), 'hadir_mqtt_kicked_total');
    const acksBefore = metricValue(await metrics(), 'hadir_acks_published_total');
    const closed = closedWithin(k, KICK_CHECK_MS + 1_500);
    // What the CLI in another process does: only the database says the device is disabled.
    expect(await hub.store.disableDevice(dev.id, { at: new Date().toISOString(), reason: 'rusak / broken', by: 'test' })).toMatchObject({ disabledReason: 'rusak / broken', disabledBy: 'test' });
    const t0 = Date.now();
    const p2 = dev.next();
    await k.publish(p2); // PUBACK: the broker handed it to the hub (still connected: the check has not run yet)
    const tClosed = await closed;
    expect(tClosed - t0).toBeLessThanOrEqual(KICK_CHECK_MS + 1_000);

    // Ingest saw p2 and refused it as `disabled` — transient: no refusal goes to the kiosk, nothing stored, no ack.
    await waitFor(() => hub.db.prepare("SELECT 1 FROM rejections WHERE code = 'disabled' AND punch_id = ?").get(p2.id), 5_000, 'disabled rejection of p2');
    await hub.ingestor.drain();
    expect(storedIds(dev.id)).toEqual([p1.id]);
    const m = await metrics();
    expect(metricValue(m, 'hadir_acks_published_total')).toBe(acksBefore);
    expect(metricValue(m, 'hadir_mqtt_kicked_total')).toBe(kickedBefore + 1);
    expect(k.acks.flatMap((a) => [...a.ids, ...(a.rejected ?? []).map((r) => r.id)])).not.toContain(p2.id);
    expect(kickLines(dev.id)).toHaveLength(1);
    expect(kickLines(dev.id)[0]).toContain('rusak / broken');

    // Reconnects are refused while disabled.
    await expect(TestKiosk.connect(url, topics, dev.id, dev.password)).rejects.toThrow(/Bad username or password/);

    // Enabled again: logs in, its backlog (p2, re-sent as a kiosk does) is stored and acked.
    expect((await hub.store.enableDevice(dev.id))?.disabledAt).toBeNull();
    const k2 = await TestKiosk.connect(url, topics, dev.id, dev.password);
    try {
      await k2.publish(p2);
      await waitFor(() => k2.ackedIds().has(p2.id), 10_000, 'p2 acked after enable');
      expect(k2.acks.at(-1)?.contiguousSeq).toBe(2);
      expect(storedIds(dev.id)).toEqual([p1.id, p2.id]);
      // only one kick: the enabled device stays connected across the next check
      await new Promise((r) => setTimeout(r, KICK_CHECK_MS + 500));
      expect(k2.client.connected).toBe(true);
      expect(kickLines(dev.id)).toHaveLength(1);
    } finally {
      await k2.close();
      await k.close();
    }
  }, 40_000);

  it('the real kiosk: `hadir device disable` in another process kicks it; punches journaled meanwhile wait in its backlog and go through after `hadir device enable`', async () => {
    const kioskDir = tmpDir('disable-kiosk');
    dirs.push(kioskDir);
    const keys = generateDeviceKeys();
    const reg = await registerDevice(hub.store, { siteCode: 'PKM-01-A', deviceId: 'kiosk-dis-2', now: new Date() });
    const enr = await enrolDevice(hub.store, { token: reg.token, publicKeyPem: keys.publicKeyPem }, { hubUrl: hub.publicUrl, mqttUrl: url, prefix: hub.config.prefix }, new Date());
    const config = kioskConfigSchema.parse({
      deviceId: 'kiosk-dis-2', siteCode: 'PKM-01-A', hubUrl: `http://127.0.0.1:${hub.httpPort}`, dataDir: kioskDir,
      mqtt: { url, username: 'kiosk-dis-2', password: enr.mqtt.password, prefix: hub.config.prefix },
      privateKeyPem: keys.privateKeyPem, dedupWindowMin: 0, face: { enabled: false }, finger: { enabled: false },
    });
    const app = new KioskApp(config, { simulate: true, screen: false, extensions: [], log: pino({ level: 'silent' }) });
    const src = new HandSource();
    app.addSource(src);
    try {
      await app.start();
      await waitFor(() => app.link.connected, 10_000, 'kiosk connected');
      await src.emit({ nip: '198503122010011002', method: 'face', score: 0.8, liveness: 0.97 });
      await waitFor(() => app.journal.stats().undelivered === 0, 15_000, 'first punch delivered');

      const disconnected = new Promise<number>((r) => app.bus.once('mqtt:disconnected', () => r(Date.now())));
      const off = await hadir(['device', 'disable', 'kiosk-dis-2', '--reason', 'dicuri / stolen', '--by', 'pak-budi', '--data', dir]);
      const tDone = Date.now();
      expect(off.code, off.stderr).toBe(0);
      expect(off.stdout).toMatch(/kiosk-dis-2 dinonaktifkan \/ disabled at .*\(cli:pak-budi: dicuri \/ stolen\)/);
      const tOff = await Promise.race([disconnected, new Promise<number>((_, rej) => setTimeout(() => rej(new Error('kiosk not disconnected')), KICK_CHECK_MS + 1_500))]);
      expect(tOff - tDone).toBeLessThanOrEqual(KICK_CHECK_MS + 1_000);
      expect(kickLines('kiosk-dis-2')).toHaveLength(1);

      // Staff keep punching at the disabled kiosk: journaled, "recorded", and waiting.
      await src.emit({ nip: '199001012015032001', method: 'face', score: 0.8, liveness: 0.97 });
      await new Promise((r) => setTimeout(r, 4_000)); // two reconnect attempts, both refused
      expect(app.link.connected).toBe(false);
      const waiting = app.journal.rows().find((r) => r.seq === 2)!;
      expect(waiting).toMatchObject({ deliveredAt: null, rejectedReason: null });
      expect(storedIds('kiosk-dis-2')).toHaveLength(1);

      const list = await hadir(['device', 'list', '--format', 'json', '--data', dir]);
      const row = (JSON.parse(list.stdout) as { id: string; disabled: boolean; disabledReason: string | null; disabledBy: string | null }[]).find((d) => d.id === 'kiosk-dis-2');
      expect(row).toMatchObject({ disabled: true, disabledReason: 'dicuri / stolen', disabledBy: 'cli:pak-budi' });

      const on = await hadir(['device', 'enable', 'kiosk-dis-2', '--data', dir]);
      expect(on.code, on.stderr).toBe(0);
      expect(on.stdout).toMatch(/kiosk-dis-2 aktif kembali \/ enabled/);
      // The kiosk logs in again by itself and its backlog is stored exactly once.
      await waitFor(() => app.journal.stats().undelivered === 0, 30_000, 'backlog delivered after enable');
      expect(storedIds('kiosk-dis-2')).toEqual(app.journal.rows().map((r) => r.id));
      expect(app.journal.stats().rejected).toBe(0);
    } finally {
      await app.stop();
    }
  }, 90_000);

  it('CLI: an unknown id is one line and a non-zero exit, and changes nothing; a missing reason is refused', async () => {
    const before = hub.db.prepare('SELECT id, disabled_at, disabled_reason FROM devices ORDER BY id').all();
    const unknown = await hadir(['device', 'disable', 'kiosk-nope', '--reason', 'dicuri', '--data', dir]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr.trim().split('\n')).toHaveLength(1);
    expect(unknown.stderr).toMatch(/^hadir: device "kiosk-nope" is not registered .*hadir device list/);
    const unknownOn = await hadir(['device', 'enable', 'kiosk-nope', '--data', dir]);
    expect(unknownOn.code).toBe(2);
    expect(unknownOn.stderr.trim().split('\n')).toHaveLength(1);
    const noReason = await hadir(['device', 'disable', 'kiosk-dis-1', '--data', dir]);
    expect(noReason.code).not.toBe(0);
    expect(noReason.stderr).toMatch(/--reason/);
    const blank = await hadir(['device', 'disable', 'kiosk-dis-1', '--reason', '  ', '--data', dir]);
    expect(blank.code).toBe(2);
    expect(blank.stderr.trim()).toMatch(/^hadir: --reason must be 1–500 characters/);
    expect(hub.db.prepare('SELECT id, disabled_at, disabled_reason FROM devices ORDER BY id').all()).toEqual(before);
  }, 60_000);

  it('external broker: `hadir device broker-passwd` leaves a disabled device out of the password file, and puts it back after enable', async () => {
    await enrolTestDevice(hub.store, 'PKM-01-A', 'kiosk-dis-4', hub.config.prefix);
    const out = join(dir, 'hadir.passwd');
    const users = async () => {
      const r = await hadir(['device', 'broker-passwd', '--out', out, '--mqtt-url', 'mqtt://hadir-hub:rahasia-hub@127.0.0.1:1883', '--data', dir]);
      expect(r.code, r.stderr).toBe(0);
      return readFileSync(out, 'utf8').trim().split('\n').map((l) => l.split(':')[0]);
    };
    expect(await users()).toContain('kiosk-dis-4');
    await hub.store.disableDevice('kiosk-dis-4', { at: new Date().toISOString(), reason: 'dipindah / moved', by: 'test' });
    const without = await users();
    expect(without).toContain('hadir-hub');
    expect(without).not.toContain('kiosk-dis-4');
    await hub.store.enableDevice('kiosk-dis-4');
    expect(await users()).toContain('kiosk-dis-4');
  }, 60_000);

  it('Mosquitto: after broker-passwd + reload (SIGHUP) the disabled kiosk is disconnected and refused; the other stays', async () => {
    const mdir = tmpDir('disable-mosq');
    dirs.push(mdir);
    const a = await enrolTestDevice(hub.store, 'PKM-01-A', 'kiosk-dis-5', hub.config.prefix);
    const b = await enrolTestDevice(hub.store, 'PKM-01-A', 'kiosk-dis-6', hub.config.prefix);
    const passwd = join(mdir, 'hadir.passwd');
    const acl = join(mdir, 'hadir.acl');
    const writeFiles = async () => {
      const r = await hadir(['device', 'broker-passwd', '--out', passwd, '--acl', acl, '--mqtt-url', 'mqtt://hadir-hub:rahasia-hub@127.0.0.1:1883', '--data', dir]);
      expect(r.code, r.stderr).toBe(0);
    };
    await writeFiles();
    const port = await new Promise<number>((res) => {
      const srv = createServer().listen(0, '127.0.0.1', () => {
        const p = (srv.address() as { port: number }).port;
        srv.close(() => res(p));
      });
    });
    const conf = join(mdir, 'mosquitto.conf');
    // started as root, Mosquitto would drop to its own user, which cannot read a private temp dir
    writeFileSync(conf, `listener ${port} 127.0.0.1\npersistence false\nuser root\nallow_anonymous false\npassword_file ${passwd}\nacl_file ${acl}\n`);
    const mosq = spawn('mosquitto', ['-c', conf], { stdio: 'ignore' });
    const murl = `mqtt://127.0.0.1:${port}`;
    try {
      const ka = await waitFor(() => TestKiosk.connect(murl, topics, a.id, a.password).catch(() => null), 10_000, 'mosquitto up');
      const kb = await TestKiosk.connect(murl, topics, b.id, b.password);
      const closed = closedWithin(ka, 5_000);
      await hub.store.disableDevice(a.id, { at: new Date().toISOString(), reason: 'dicuri / stolen', by: 'test' });
      await writeFiles();
      process.kill(mosq.pid!, 'SIGHUP'); // systemctl reload mosquitto
      await closed;
      await expect(TestKiosk.connect(murl, topics, a.id, a.password)).rejects.toThrow(/Not authorized|Bad username/i);
      await new Promise((r) => setTimeout(r, 300));
      expect(kb.client.connected).toBe(true);
      await kb.close();
    } finally {
      const exited = new Promise((r) => mosq.once('exit', r));
      mosq.kill('SIGKILL');
      await exited;
    }
  }, 60_000);

  it('HTTP: BKPSDM only, 404 for an unknown device, validated body; a disable kicks the kiosk at once', async () => {
    const dev = await enrolTestDevice(hub.store, 'SDN-01', 'kiosk-dis-3', hub.config.prefix);
    const k = await TestKiosk.connect(url, topics, dev.id, dev.password);
    try {
      const forbidden = await api('/devices/kiosk-dis-3/disable', { body: JSON.stringify({ reason: 'x' }) }, opdAdmin);
      expect(forbidden.status).toBe(403);
      expect(((await forbidden.json()) as { error: string }).error).toMatch(/BKPSDM/);
      expect((await api('/devices/kiosk-dis-3/enable', {}, opdAdmin)).status).toBe(403);
      expect((await api('/devices/kiosk-dis-3/disable', { body: JSON.stringify({ reason: 'x' }) }, 'hdr_nope')).status).toBe(401);
      const unknown = await api('/devices/kiosk-nope/disable', { body: JSON.stringify({ reason: 'x' }) });
      expect(unknown.status).toBe(404);
      expect(((await unknown.json()) as { error: string }).error).toMatch(/kiosk-nope is not registered/);
      expect((await api('/devices/kiosk-nope/enable')).status).toBe(404);
      for (const body of ['', '{}', JSON.stringify({ reason: '   ' }), JSON.stringify({ reason: 'x'.repeat(501) }), JSON.stringify({ reason: 'x', extra: 1 }), JSON.stringify({ reason: 7 })]) {
        const r = await api('/devices/kiosk-dis-3/disable', { body });
        expect(r.status, body).toBe(400);
        expect(typeof ((await r.json()) as { error: unknown }).error).toBe('string');
      }
      expect((await hub.store.getDevice('kiosk-dis-3'))?.disabledAt).toBeNull(); // nothing above changed it
      expect(k.client.connected).toBe(true);

      const closed = closedWithin(k, KICK_CHECK_MS + 1_500);
      const t0 = Date.now();
      const off = await api('/devices/kiosk-dis-3/disable', { body: JSON.stringify({ reason: ' layar pecah / broken screen ' }) });
      expect(off.status).toBe(200);
      const view = (await off.json()) as { id: string; disabled: boolean; disabledAt: string; disabledReason: string; disabledBy: string };
      expect(view).toMatchObject({ id: 'kiosk-dis-3', disabled: true, disabledReason: 'layar pecah / broken screen', disabledBy: 'bkpsdm1' });
      // not the 5-second tick: the HTTP disable runs the check at once
      expect((await closed) - t0).toBeLessThan(1_000);
      await expect(TestKiosk.connect(url, topics, dev.id, dev.password)).rejects.toThrow(/Bad username or password/);

      // disabling again keeps "since", replaces reason and who
      const again = (await (await api('/devices/kiosk-dis-3/disable', { body: JSON.stringify({ reason: 'masih rusak' }) })).json()) as typeof view;
      expect(again).toMatchObject({ disabledAt: view.disabledAt, disabledReason: 'masih rusak' });
      const listed = (await (await fetch(`http://127.0.0.1:${hub.httpPort}/api/v1/devices`, { headers: { authorization: `Bearer ${bkpsdm}` } })).json()) as { items: { id: string; disabledReason: string | null }[] };
      expect(listed.items.find((d) => d.id === 'kiosk-dis-3')?.disabledReason).toBe('masih rusak');

      const on = await api('/devices/kiosk-dis-3/enable');
      expect(on.status).toBe(200);
      expect(await on.json()).toMatchObject({ disabled: false, disabledAt: null, disabledReason: null, disabledBy: null });
      const k2 = await TestKiosk.connect(url, topics, dev.id, dev.password);
      const p = dev.next();
      await k2.publish(p);
      await waitFor(() => k2.ackedIds().has(p.id), 10_000, 'punch acked after HTTP enable');
      await k2.close();

      const doc = (await (await fetch(`http://127.0.0.1:${hub.httpPort}/api/v1/openapi.json`)).json()) as { paths: Record<string, { post?: { responses: Record<string, unknown> } }> };
      expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/api/v1/devices/{id}/disable', '/api/v1/devices/{id}/enable']));
      expect(Object.keys(doc.paths['/api/v1/devices/{id}/disable']!.post!.responses)).toEqual(expect.arrayContaining(['200', '400', '403', '404']));
    } finally {
      await k.close();
    }
  }, 40_000);
});
