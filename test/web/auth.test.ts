import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join, resolve } from 'node:path';
import { pino } from 'pino';
import { startHub, type RunningHub } from '../../hub/server.js';
import { LoginLimiter } from '../../hub/web/login-limiter.js';
import { addUser, login, purgeIdleSessions, SESSION_IDLE_MS } from '../../hub/users.js';
import { tmpDir } from '../hub/helpers.js';

const run = promisify(execFile);
const BIN = join(resolve(import.meta.dirname, '../..'), 'bin', 'hadir.mjs');

describe('login limiter', () => {
  it('locks a name after 5 failures for the window, and an address after 20 across names', () => {
    const l = new LoginLimiter();
    for (let i = 0; i < 4; i++) l.fail('siti', '10.0.0.1', 1000 + i);
    expect(l.blockedFor('siti', '10.0.0.1', 2000)).toBe(0);
    l.fail('siti', '10.0.0.1', 2000);
    expect(l.blockedFor('SITI', '10.0.0.9', 2001)).toBeGreaterThan(14 * 60_000);
    expect(l.blockedFor('siti', '10.0.0.1', 1000 + 15 * 60_000 + 1)).toBe(0); // the oldest failure left the window
    const m = new LoginLimiter();
    for (let i = 0; i < 20; i++) m.fail(`user${i}`, '10.0.0.2', 1000);
    expect(m.blockedFor('someone-else', '10.0.0.2', 1001)).toBeGreaterThan(0);
    expect(m.blockedFor('someone-else', '10.0.0.3', 1001)).toBe(0);
    m.succeed('user1');
    expect(m.blockedFor('user1', '10.0.0.4', 1001)).toBe(0);
  });
});

describe('passwords and sessions', () => {
  let hub: RunningHub;
  let dir: string;
  beforeAll(async () => {
    dir = tmpDir('web-auth');
    hub = await startHub({ dataDir: dir, httpPort: 0, mqttPort: 0, httpHost: '127.0.0.1', env: {}, defaultMetrics: false, log: pino({ level: 'silent' }) } as never);
    await addUser(hub.store, { username: 'rina', name: 'Rina', role: 'bkpsdm', now: new Date() });
  });
  afterAll(async () => {
    await hub?.close();
  });

  it('hadir user passwd reads the password from stdin (one-line errors for a short one or an unknown user), and the web login accepts it', async () => {
    const env = { ...process.env, HADIR_DATA_DIR: dir };
    const passwd = (user: string, pw: string) => {
      const p = run('node', [BIN, 'user', 'passwd', user], { env });
      p.child.stdin!.end(`${pw}\n`);
      return p.then((r) => ({ code: 0, ...r }), (e: { code: number; stdout: string; stderr: string }) => e);
    };
    const short = await passwd('rina', 'pendek');
    expect(short.code).not.toBe(0);
    expect(short.stderr.trim()).toMatch(/^hadir: password too short .* at least 10/);
    const unknown = await passwd('siapa', 'cukup-panjang-1');
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toMatch(/user siapa does not exist/);
    const ok = await passwd('rina', 'cukup-panjang-1');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/diperbarui/);

    const base = `http://127.0.0.1:${hub.httpPort}`;
    const res = await fetch(`${base}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'rina', password: 'cukup-panjang-1' }) });
    expect(res.status).toBe(200);
    const { token, user } = (await res.json()) as { token: string; user: { role: string } };
    expect(user.role).toBe('bkpsdm');
    const me = await fetch(`${base}/api/v1/auth/me`, { headers: { authorization: `Bearer ${token}` } });
    expect(((await me.json()) as { user: { username: string } }).user.username).toBe('rina');
    // malformed body: 400 with one line
    const bad = await fetch(`${base}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"user":"x"}' });
    expect(bad.status).toBe(400);
    // the login route is in the API description
    const doc = (await (await fetch(`${base}/api/v1/openapi.json`)).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/api/v1/auth/login', '/api/v1/auth/logout', '/api/v1/auth/me']));
  }, 60_000);

  it('a user without a password cannot log in; idle web sessions are purged, API tokens are not', async () => {
    const { token: apiToken } = await addUser(hub.store, { username: 'tanpa', name: 'Tanpa Sandi', role: 'bkpsdm', now: new Date() });
    expect(await login(hub.store, 'tanpa', 'apa-saja-123', new Date())).toMatchObject({ ok: false, status: 401, reason: 'no_password' });
    const r = await login(hub.store, 'rina', 'cukup-panjang-1', new Date(Date.now() - SESSION_IDLE_MS - 60_000));
    expect(r.ok).toBe(true);
    expect(await purgeIdleSessions(hub.store, new Date())).toBeGreaterThanOrEqual(1);
    const base = `http://127.0.0.1:${hub.httpPort}`;
    expect((await fetch(`${base}/api/v1/auth/me`, { headers: { authorization: `Bearer ${(r as { token: string }).token}` } })).status).toBe(401);
    expect((await fetch(`${base}/api/v1/auth/me`, { headers: { authorization: `Bearer ${apiToken}` } })).status).toBe(200);
  });
});
