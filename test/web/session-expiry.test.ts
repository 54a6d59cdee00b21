import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { pino } from 'pino';
import { startHub, type RunningHub } from '../../hub/server.js';
import { openHubStores } from '../../hub/store/open.js';
import { AuditLog } from '../../hub/audit/index.js';
import { createApp } from '../../hub/http/app.js';
import { createCoreMetrics } from '../../hub/metrics.js';
import { addUser, login, purgeIdleSessions, setPassword, SESSION_EXPIRED, SESSION_IDLE_MS, SESSION_LABEL, SESSION_MAX_MS } from '../../hub/users.js';
import { sha256Hex } from '../../hub/secrets.js';
import { tmpDir } from '../hub/helpers.js';
import { TEST_DB, freshPostgres, sqlOf, testHubStore } from '../store.js';

const MIN = 60_000;
const HOUR = 3600_000;

/**
 * Web sessions expire at the hub at the moment they are used: idle longer than SESSION_IDLE_MS or
 * older than SESSION_MAX_MS → 401 "sesi berakhir / session expired" and the token is deleted.
 * API tokens from `hadir user add` never expire. Real hub (SQLite file or PostgreSQL: HADIR_TEST_DB, HTTP on an ephemeral port).
 */
describe(`web sessions expire at the hub (${TEST_DB})`, () => {
  let hub: RunningHub;
  let base: string;
  let drop = async () => {};
  const tokenRow = async (token: string) => (await sqlOf(hub).all<{ label: string; last_used_at: string }>('SELECT label, last_used_at FROM api_tokens WHERE token_hash = ?', sha256Hex(token)))[0];
  const get = (path: string, token: string) => fetch(`${base}/api/v1${path}`, { headers: { authorization: `Bearer ${token}` } });
  const session = async (at: Date) => {
    const r = await login(hub.store, 'rina', 'cukup-panjang-1', at);
    if (!r.ok) throw new Error(`login failed: ${r.reason}`);
    return r.token;
  };

  beforeAll(async () => {
    const db = await testHubStore();
    drop = db.drop;
    hub = await startHub({ ...db.opts, dataDir: tmpDir('session-expiry'), httpPort: 0, mqttPort: 0, httpHost: '127.0.0.1', env: {}, defaultMetrics: false, log: pino({ level: 'silent' }) } as never);
    base = `http://127.0.0.1:${hub.httpPort}`;
    await addUser(hub.store, { username: 'rina', name: 'Rina', role: 'bkpsdm', now: new Date() });
    await setPassword(hub.store, 'rina', 'cukup-panjang-1');
  });
  afterAll(async () => {
    await hub?.close();
    await drop();
  });

  it('a session idle longer than SESSION_IDLE_MS is refused with the reason and deleted; one used within it works and is touched', async () => {
    const idle = await session(new Date(Date.now() - SESSION_IDLE_MS - MIN));
    const r = await get('/auth/me', idle);
    expect(r.status).toBe(401);
    expect(await r.json()).toEqual({ error: SESSION_EXPIRED });
    expect(SESSION_EXPIRED).toBe('sesi berakhir / session expired: log in again');
    expect(await tokenRow(idle)).toBeUndefined();
    const again = await get('/devices', idle);
    expect(again.status).toBe(401);
    expect(((await again.json()) as { error: string }).error).toMatch(/unknown or revoked/);

    const fresh = await session(new Date(Date.now() - SESSION_IDLE_MS + 10 * MIN));
    expect((await get('/devices', fresh)).status).toBe(200);
    expect(Date.now() - Date.parse((await tokenRow(fresh))!.last_used_at)).toBeLessThan(MIN); // idle time starts again
  });

  it('a session older than SESSION_MAX_MS is refused even when used a minute ago', async () => {
    const old = await session(new Date(Date.now() - SESSION_MAX_MS - MIN));
    // used recently (the lookup records the use) — only the absolute lifetime is over
    expect(await hub.store.userByTokenHash(sha256Hex(old), new Date(Date.now() - MIN).toISOString())).toMatchObject({ username: 'rina', token: { label: SESSION_LABEL } });
    expect(Date.now() - Date.parse((await tokenRow(old))!.last_used_at)).toBeLessThan(2 * MIN);
    const r = await get('/devices', old);
    expect(r.status).toBe(401);
    expect(await r.json()).toEqual({ error: SESSION_EXPIRED });
    expect(await tokenRow(old)).toBeUndefined();
  });

  it('API tokens from `hadir user add` do not expire, however old and idle', async () => {
    const { token } = await addUser(hub.store, { username: 'api-lama', name: 'Integrasi', role: 'bkpsdm', now: new Date(Date.now() - 30 * 86_400_000) });
    expect((await get('/devices', token)).status).toBe(200);
    await sqlOf(hub).run('UPDATE api_tokens SET last_used_at = ? WHERE token_hash = ?', new Date(Date.now() - 20 * 86_400_000).toISOString(), sha256Hex(token));
    expect((await get('/devices', token)).status).toBe(200);
    expect((await tokenRow(token))?.label).not.toBe(SESSION_LABEL);
  });

  it('purge at login also drops sessions past the absolute lifetime', async () => {
    const old = await session(new Date(Date.now() - SESSION_MAX_MS - HOUR));
    await hub.store.userByTokenHash(sha256Hex(old), new Date().toISOString()); // recently used
    expect(await tokenRow(old)).toBeDefined();
    const kept = await session(new Date()); // any login purges
    expect(await tokenRow(old)).toBeUndefined();
    expect(await tokenRow(kept)).toBeDefined();
    const old2 = await session(new Date(Date.now() - SESSION_MAX_MS - HOUR));
    await hub.store.userByTokenHash(sha256Hex(old2), new Date().toISOString());
    expect(await purgeIdleSessions(hub.store, new Date())).toBe(1);
    expect(await tokenRow(old2)).toBeUndefined();
    expect(await tokenRow(kept)).toBeDefined();
  });
});

/** The same through the HTTP login with the hub's clock moved forward: a session used every 11 h lives 7 days, not longer. */
describe(`session lifetime on a moving clock (app.request, real ${TEST_DB} store)`, () => {
  it('stays valid while used within the idle time, ends at SESSION_MAX_MS, and a new login works', async () => {
    const pgDb = TEST_DB === 'postgres' ? await freshPostgres() : null;
    const { store, stores } = await openHubStores(pgDb ? { dbPath: '', postgresUrl: pgDb.url } : { dbPath: join(tmpDir('session-clock'), 'hub.db'), postgresUrl: null });
    let t = Date.parse('2026-11-02T00:00:00Z');
    const { app } = createApp({
      store, log: pino({ level: 'silent' }), metrics: createCoreMetrics({ defaults: false }).registry, modules: [], version: 'test',
      enrol: { hubUrl: 'http://hub.test', mqttUrl: 'mqtt://hub.test', prefix: 'hadir/v1' }, mqttConnected: () => true, clock: () => t, audit: new AuditLog(stores.audit, () => t),
    });
    try {
      await addUser(store, { username: 'sari', name: 'Sari', role: 'bkpsdm', now: new Date(t) });
      await setPassword(store, 'sari', 'cukup-panjang-2');
      const loginAt = async () => {
        const r = await app.request('/api/v1/auth/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'sari', password: 'cukup-panjang-2' }) });
        expect(r.status).toBe(200);
        return ((await r.json()) as { token: string }).token;
      };
      const me = (token: string) => app.request('/api/v1/auth/me', { headers: { authorization: `Bearer ${token}` } });
      const t0 = t;
      const token = await loginAt();
      let uses = 0;
      for (t = t0 + 11 * HOUR; t <= t0 + SESSION_MAX_MS; t += 11 * HOUR) {
        expect((await me(token)).status, `after ${(t - t0) / HOUR} h`).toBe(200);
        uses++;
      }
      expect(uses).toBe(15); // 15 × 11 h = 165 h < 168 h
      t = t0 + SESSION_MAX_MS + MIN; // last use 3 h ago, but the week is over
      const end = await me(token);
      expect(end.status).toBe(401);
      expect(await end.json()).toEqual({ error: SESSION_EXPIRED });
      expect(end.headers.get('www-authenticate')).toMatch(/invalid_token/);
      expect((await me(await loginAt())).status).toBe(200);
      // idle: 12 h and a minute later, without use in between
      const idle = await loginAt();
      t += SESSION_IDLE_MS + MIN;
      expect(await (await me(idle)).json()).toEqual({ error: SESSION_EXPIRED });
    } finally {
      await store.close();
      await pgDb?.drop();
    }
  });
});
