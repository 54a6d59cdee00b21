import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { Topics, generateDeviceKeys, loadPrivateKey } from '../../protocol/index.js';
import { startHub, type RunningHub } from '../../hub/server.js';
import { addUser, setPassword, SESSION_IDLE_MS } from '../../hub/users.js';
import { UPLOAD_GRACE_MS } from '../../hub/biometrics/enrol-sessions.js';
import type { Clock } from '../../lib/clock.js';
import { TestKiosk, makeDevice, seedOrg, tmpDir, waitFor, type TestDevice } from './helpers.js';

/**
 * The hub reads "now" from the one clock it is started with (lib/clock.ts, StartHubOptions.clock),
 * on every path: HTTP routes, the MQTT ingest, presence, the modules, the audit log. The clock
 * here stands years away from the machine's, so any stamp or decision made with the system clock
 * shows up as a wrong value (a stamp in the machine's year, a punch "from the future" held for
 * review, an enrolment session or web session that stays open or expires at the wrong time).
 */
const T0 = Date.parse('2031-03-04T05:06:07.089Z');
const SITI = '198503122010011002';
const DEV = 'kiosk-clock-inj';

describe('the hub started with a fixed, stepped clock uses it end to end (real hub: HTTP, embedded broker, modules)', () => {
  let t = T0;
  const clock: Clock = () => t;
  const at = () => new Date(t).toISOString();
  let hub: RunningHub;
  let dir: string;
  let token = '';
  let kiosk: TestKiosk;
  let dev: TestDevice;
  let basic = '';
  const api = (path: string, init: RequestInit = {}, bearer = token) =>
    fetch(`http://127.0.0.1:${hub.httpPort}/api/v1${path}`, { ...init, headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json', ...(init.headers ?? {}) } });
  const kioskGet = (path: string) => fetch(`http://127.0.0.1:${hub.httpPort}/api/v1/kiosk${path}`, { headers: { authorization: basic } });

  beforeAll(async () => {
    expect(Math.abs(Date.now() - T0)).toBeGreaterThan(365 * 86_400_000); // the proof needs a clock far from the machine's
    dir = tmpDir('clock-inj');
    hub = await startHub({ dataDir: dir, httpPort: 0, mqttPort: 0, httpHost: '127.0.0.1', env: {}, defaultMetrics: false, log: pino({ level: 'silent' }), clock });
    seedOrg(hub.db);
    token = (await addUser(hub.store, { username: 'bkpsdm1', name: 'Admin BKPSDM', role: 'bkpsdm', now: new Date(clock()) })).token;
  });

  afterAll(async () => {
    await kiosk?.close();
    await hub?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('device registration, enrolment and its audit entry carry the hub clock', async () => {
    const reg = await api('/devices', { method: 'POST', body: JSON.stringify({ site: 'PKM-01-A', id: DEV, ttl: '24h' }) });
    expect(reg.status).toBe(201);
    const { token: enrolToken, expiresAt } = (await reg.json()) as { token: string; expiresAt: string };
    expect(expiresAt).toBe(new Date(T0 + 24 * 3600_000).toISOString());

    t += 60_000;
    const keys = generateDeviceKeys();
    const enr = await fetch(`http://127.0.0.1:${hub.httpPort}/api/v1/enrol`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: enrolToken, publicKeyPem: keys.publicKeyPem }) });
    expect(enr.status).toBe(201);
    const password = ((await enr.json()) as { mqtt: { password: string } }).mqtt.password;
    expect((await hub.store.getDevice(DEV))!.enrolledAt).toBe(at());
    const audit = (await (await api('/audit?limit=10')).json()) as { items: { action: string; at: string }[] };
    expect(audit.items.filter((e) => e.action.startsWith('device.')).map((e) => [e.action, e.at])).toEqual([
      ['device.enrol', at()],
      ['device.add', new Date(T0).toISOString()],
    ]);

    basic = `Basic ${Buffer.from(`${DEV}:${password}`).toString('base64')}`;
    kiosk = await TestKiosk.connect(hub.mqttUrl.replace('localhost', '127.0.0.1'), new Topics(hub.config.prefix), DEV, password);
    dev = makeDevice(DEV, password, loadPrivateKey(keys.privateKeyPem), keys.publicKeyPem);
  });

  it('a punch is received at the hub clock, and its plausibility is judged against it', async () => {
    t += 60_000;
    // captured a minute before the hub's "now": plausible by the hub clock, years in the future by the machine's
    const p = dev.next({ capturedAt: new Date(t - 60_000).toISOString() });
    await kiosk.publish(p);
    await waitFor(() => kiosk.ackedIds().has(p.id), 10_000, 'ack');
    const row = hub.db.prepare('SELECT received_at, review_status FROM punches WHERE id = ?').get(p.id) as { received_at: string; review_status: string | null };
    expect(row).toEqual({ received_at: at(), review_status: 'none' });
  });

  it('presence, the kiosk time service and the roster use the hub clock', async () => {
    t += 1000;
    await kiosk.client.publishAsync(new Topics(hub.config.prefix).status(DEV), JSON.stringify({ online: true }), { qos: 1, retain: true });
    expect(await waitFor(async () => (await hub.store.getDevice(DEV))!.statusAt === at(), 10_000, 'status stamp')).toBe(true);

    const time = (await (await kioskGet('/time')).json()) as { receivedMs: number; sentMs: number };
    expect(time).toEqual({ receivedMs: t, sentMs: t });
    const roster = (await (await kioskGet('/roster')).json()) as { fetchedAt: string };
    expect(roster.fetchedAt).toBe(at());
  });

  it('an enrolment session opens at the hub clock and expires when the hub clock passes its end', async () => {
    t += 1000;
    const startedAt = at();
    const res = await api(`/devices/${DEV}/commands`, { method: 'POST', body: JSON.stringify({ cmd: 'enrol_mode', args: { nip: SITI, method: 'face', timeoutS: 60 }, waitS: 0 }) });
    expect(res.status).toBe(202);
    const sessions = async () => ((await (await api(`/enrol-sessions?device=${DEV}`)).json()) as { items: { startedAt: string; expiresAt: string; state: string }[] }).items;
    expect(await sessions()).toMatchObject([{ startedAt, expiresAt: new Date(t + 60_000 + UPLOAD_GRACE_MS).toISOString(), state: 'open' }]);
    t += 60_000 + UPLOAD_GRACE_MS + 1;
    expect((await sessions())[0]!.state).toBe('expired');
  });

  it('a web session expires by the hub clock, not the machine clock', async () => {
    await setPassword(hub.store, 'bkpsdm1', 'cukup-panjang-2');
    const login = await fetch(`http://127.0.0.1:${hub.httpPort}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'bkpsdm1', password: 'cukup-panjang-2' }) });
    expect(login.status).toBe(200);
    const web = ((await login.json()) as { token: string }).token;
    expect((await api('/auth/me', {}, web)).status).toBe(200);
    t += SESSION_IDLE_MS + 1000;
    expect((await api('/auth/me', {}, web)).status).toBe(401);
  });
});
