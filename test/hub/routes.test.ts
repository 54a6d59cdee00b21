import { beforeEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { Hono } from 'hono';
import { generateDeviceKeys } from '../../protocol/index.js';
import { openStore } from '../../hub/store/open.js';
import { createApp } from '../../hub/http/app.js';
import { createCoreMetrics } from '../../hub/metrics.js';
import { registerDevice } from '../../hub/devices/registry.js';
import { addUser } from '../../hub/users.js';
import { scopeOf } from '../../hub/http/auth.js';
import type { HubEnv, HubModule, KioskEnv } from '../../hub/module-contract.js';
import type { CoreStore } from '../../hub/store/core-store.js';
import type { SqliteDb } from '../../hub/store/sqlite.js';
import { rootLogger } from '../../lib/logger.js';
import { makeDevice, seedOrg, tmpDir } from './helpers.js';
import { loadPrivateKey } from '../../protocol/index.js';
import { systemClock } from '../../lib/clock.js';

/** Route tests with app.request(): real store (SQLite file), no server, no broker. */
describe('hub HTTP routes', () => {
  let store: CoreStore;
  let db: SqliteDb;
  let app: Hono;
  let bkpsdm: string;
  let dinkesAdmin: string;
  const now = () => new Date();

  // A feature module as the others will write them: api + kioskApi + roster contribution + OpenAPI paths.
  const probe: HubModule = {
    name: 'probe',
    api: new Hono<HubEnv>().get('/probe', (c) => c.json({ user: c.get('user').username, scope: scopeOf(c, c.req.query('opd')) })),
    kioskApi: new Hono<KioskEnv>().get('/probe', (c) => c.json({ device: c.get('device') })),
    contributeRoster: async (_site, people) => {
      for (const p of people.values()) p.face = [{ modelId: 'm1', vector: 'AAAA' }];
    },
    openapi: { '/probe': { get: { summary: 'probe', responses: { '200': { description: 'OK' } } } } },
    access: { 'GET /probe': ['bkpsdm', 'opd_admin'] },
  };

  beforeEach(async () => {
    ({ store, db } = openStore({ dbPath: join(tmpDir('routes'), 'hub.db') }));
    seedOrg(db);
    ({ app } = createApp({
      store, log: rootLogger, clock: systemClock, metrics: createCoreMetrics({ defaults: false }).registry, modules: [probe], version: 'test',
      enrol: { hubUrl: 'http://hub.test:8080', mqttUrl: 'mqtt://hub.test:1883', prefix: 'hadir/v1' }, mqttConnected: () => true,
    }));
    bkpsdm = (await addUser(store, { username: 'bkpsdm1', name: 'Admin BKPSDM', role: 'bkpsdm', now: now() })).token;
    dinkesAdmin = (await addUser(store, { username: 'dinkes1', name: 'Admin Dinkes', role: 'opd_admin', opdCode: 'DINKES', now: now() })).token;
  });

  const get = (path: string, token?: string) => app.request(path, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  const enrol = (body: unknown) => app.request('/api/v1/enrol', { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });

  it('serves /healthz, /metrics and the OpenAPI document without auth', async () => {
    expect((await get('/healthz')).status).toBe(200);
    expect(await (await get('/metrics')).text()).toMatch(/hadir_ingest_rejections_total\{code="bad_signature"\} 0/);
    const doc = (await (await get('/api/v1/openapi.json')).json()) as { openapi: string; paths: Record<string, unknown> };
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/api/v1/punches', '/api/v1/devices', '/api/v1/enrol', '/api/v1/kiosk/roster', '/api/v1/probe']));
  });

  it('requires a valid bearer token on /api/v1/*', async () => {
    expect((await get('/api/v1/punches')).status).toBe(401);
    const bad = await get('/api/v1/punches', 'hdr_nope');
    expect(bad.status).toBe(401);
    expect(((await bad.json()) as { error: string }).error).toMatch(/unknown or revoked/);
    expect((await get('/api/v1/punches', bkpsdm)).status).toBe(200);
    db.prepare("UPDATE users SET disabled_at = '2026-01-01' WHERE username = 'bkpsdm1'").run();
    expect((await get('/api/v1/punches', bkpsdm)).status).toBe(403);
  });

  it('scopes an OPD admin to their own OPD (and mounts module APIs behind auth)', async () => {
    expect(await (await get('/api/v1/probe', dinkesAdmin)).json()).toEqual({ user: 'dinkes1', scope: 'DINKES' });
    expect((await get('/api/v1/probe?opd=DISDIK', dinkesAdmin)).status).toBe(403);
    expect(await (await get('/api/v1/probe?opd=DISDIK', bkpsdm)).json()).toEqual({ user: 'bkpsdm1', scope: 'DISDIK' });
    expect((await get('/api/v1/probe')).status).toBe(401);
  });

  it('enrols with a one-time token: unknown, reused, expired, other device/site → 4xx with a reason', async () => {
    const keys = generateDeviceKeys();
    const r = await registerDevice(store, { siteCode: 'PKM-01-A', deviceId: 'kiosk-a', now: now() });
    expect((await enrol({ token: 'x'.repeat(20), publicKeyPem: keys.publicKeyPem })).status).toBe(401);
    const wrongDev = await enrol({ token: r.token, publicKeyPem: keys.publicKeyPem, deviceId: 'kiosk-b' });
    expect(wrongDev.status).toBe(403);
    const wrongSite = await enrol({ token: r.token, publicKeyPem: keys.publicKeyPem, siteCode: 'SDN-01' });
    expect(wrongSite.status).toBe(403);
    expect(((await wrongSite.json()) as { error: string }).error).toMatch(/site PKM-01-A/);
    expect((await enrol({ token: r.token, publicKeyPem: 'not a key' })).status).toBe(400);
    const ok = await enrol({ token: r.token, publicKeyPem: keys.publicKeyPem, deviceId: 'kiosk-a' });
    expect(ok.status).toBe(201);
    const body = (await ok.json()) as { deviceId: string; siteCode: string; hubUrl: string; mqtt: { url: string; username: string; password: string; prefix: string } };
    expect(body).toMatchObject({ deviceId: 'kiosk-a', siteCode: 'PKM-01-A', hubUrl: 'http://hub.test:8080', mqtt: { url: 'mqtt://hub.test:1883', username: 'kiosk-a', prefix: 'hadir/v1' } });
    expect(body.mqtt.password.length).toBeGreaterThan(20);
    const again = await enrol({ token: r.token, publicKeyPem: keys.publicKeyPem });
    expect(again.status).toBe(409);
    expect(((await again.json()) as { error: string }).error).toMatch(/already used/);
    const old = await registerDevice(store, { siteCode: 'PKM-01-A', deviceId: 'kiosk-c', ttlMs: 1000, now: new Date(Date.now() - 5000) });
    const exp = await enrol({ token: old.token, publicKeyPem: keys.publicKeyPem });
    expect(exp.status).toBe(410);
    expect(((await exp.json()) as { error: string }).error).toMatch(/expired/);
    expect((await enrol({ token: 1 })).status).toBe(400);
  });

  it('serves the roster to an authenticated kiosk (HTTP Basic) with module contributions', async () => {
    const keys = generateDeviceKeys();
    const r = await registerDevice(store, { siteCode: 'PKM-01-A', deviceId: 'kiosk-a', now: now() });
    const { mqtt } = (await (await enrol({ token: r.token, publicKeyPem: keys.publicKeyPem })).json()) as { mqtt: { password: string } };
    const basic = (u: string, p: string) => ({ authorization: `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}` });
    expect((await app.request('/api/v1/kiosk/roster')).status).toBe(401);
    expect((await app.request('/api/v1/kiosk/roster', { headers: basic('kiosk-a', 'wrong') })).status).toBe(401);
    expect((await app.request('/api/v1/kiosk/roster', { headers: { authorization: `Bearer ${bkpsdm}` } })).status).toBe(401);
    const res = await app.request('/api/v1/kiosk/roster', { headers: basic('kiosk-a', mqtt.password) });
    expect(res.status).toBe(200);
    const roster = (await res.json()) as { version: string; site: { code: string }; people: { nip: string; name: string; face?: unknown[] }[] };
    expect(roster.site.code).toBe('PKM-01-A');
    // active staff of the site's unit only (the retired one and the teacher elsewhere are not there)
    expect(roster.people.map((p) => p.nip)).toEqual(['198503122010011002', '199001012015032001']);
    expect(roster.people[0]!.face).toHaveLength(1);
    const again = (await (await app.request('/api/v1/kiosk/roster', { headers: basic('kiosk-a', mqtt.password) })).json()) as { version: string };
    expect(again.version).toBe(roster.version);
    db.prepare("UPDATE staff SET active = 0 WHERE nip = '199001012015032001'").run();
    const changed = (await (await app.request('/api/v1/kiosk/roster', { headers: basic('kiosk-a', mqtt.password) })).json()) as { version: string };
    expect(changed.version).not.toBe(roster.version);
    expect(await (await app.request('/api/v1/kiosk/probe', { headers: basic('kiosk-a', mqtt.password) })).json()).toEqual({ device: { id: 'kiosk-a', siteCode: 'PKM-01-A' } });
    db.prepare("UPDATE devices SET disabled_at = '2026-01-01' WHERE id = 'kiosk-a'").run();
    expect((await app.request('/api/v1/kiosk/roster', { headers: basic('kiosk-a', mqtt.password) })).status).toBe(403);
  });

  it('lists punches with filters, paging and OPD scoping, and devices with seq state', async () => {
    const keys = generateDeviceKeys();
    await registerDevice(store, { siteCode: 'PKM-01-A', deviceId: 'kiosk-a', now: now() });
    db.prepare("UPDATE devices SET public_key_pem = ?, enrolled_at = '2026-11-01T00:00:00.000Z' WHERE id = 'kiosk-a'").run(keys.publicKeyPem);
    const d = makeDevice('kiosk-a', '', loadPrivateKey(keys.privateKeyPem), keys.publicKeyPem);
    const ps = [
      d.next({ capturedAt: '2026-11-02T00:30:00.000Z' }),
      d.next({ capturedAt: '2026-11-02T09:00:00.000Z', nip: '199001012015032001' }),
      d.next({ capturedAt: '2026-11-03T00:31:00.000Z', nip: '198001012005011003' }), // a DISDIK teacher punching at the puskesmas
    ];
    await store.ingestBatch(ps.map((p) => ({ punch: p, siteCode: 'PKM-01-A', receivedAt: '2026-11-03T01:00:00.000Z' })), []);
    const all = (await (await get('/api/v1/punches', bkpsdm)).json()) as { items: { id: string }[]; total: number };
    expect(all.total).toBe(3);
    const day = (await (await get('/api/v1/punches?from=2026-11-02T07:00:00%2B07:00&to=2026-11-03', bkpsdm)).json()) as { items: { id: string }[] };
    expect(day.items.map((p) => p.id)).toEqual([ps[0]!.id, ps[1]!.id]);
    const paged = (await (await get('/api/v1/punches?limit=2&offset=2', bkpsdm)).json()) as { items: { id: string }[]; nextOffset: number | null };
    expect(paged.items.map((p) => p.id)).toEqual([ps[2]!.id]);
    expect(paged.nextOffset).toBeNull();
    const scoped = (await (await get('/api/v1/punches', dinkesAdmin)).json()) as { items: { nip: string }[] };
    expect(scoped.items.map((p) => p.nip).sort()).toEqual(['198503122010011002', '199001012015032001']);
    const bad = await get('/api/v1/punches?from=yesterday', bkpsdm);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/from/);
    const devs = (await (await get('/api/v1/devices', bkpsdm)).json()) as { items: { id: string; contiguousSeq: number; maxSeq: number; seqGaps: unknown[]; online: boolean }[] };
    expect(devs.items).toHaveLength(1);
    expect(devs.items[0]).toMatchObject({ id: 'kiosk-a', contiguousSeq: 3, maxSeq: 3, seqGaps: [], online: false });
    expect(((await (await get('/api/v1/devices?opd=DISDIK', bkpsdm)).json()) as { items: unknown[] }).items).toHaveLength(0);
  });

  it('answers unknown routes with a JSON 404', async () => {
    const r = await get('/nope');
    expect(r.status).toBe(404);
    expect(await r.json()).toEqual({ error: 'no route GET /nope' });
  });
});
