import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { readFileSync, statSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { kioskConfigSchema } from '../../kiosk/config.js';
import { openStore } from '../../hub/store/open.js';
import { seedOrg, tmpDir } from './helpers.js';
import { freshPostgres } from '../store.js';
import pg from 'pg';

const BIN = join(import.meta.dirname, '../../bin/hadir.mjs');
function hadir(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((res) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...process.env, HADIR_LOG_LEVEL: 'warn', ...env } }, (err, stdout, stderr) =>
      res({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** The admin commands as an admin runs them: a real process on a real data dir, no hub running. */
describe('hadir device / user / report commands', () => {
  it('registers, enrols and writes a valid 0600 kiosk config; bad input is one line and changes nothing', async () => {
    const data = tmpDir('cli');
    const { db, store } = openStore({ dbPath: join(data, 'hub.db') });
    seedOrg(db);
    await store.close();
    const env = { HADIR_DATA_DIR: data };

    const unknown = await hadir(['device', 'add', '--site', 'NOPE'], env);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr.trim().split('\n')).toHaveLength(1);
    expect(unknown.stderr).toMatch(/^hadir: site "NOPE" does not exist.*hadir import org/);

    const tok = await hadir(['device', 'add', '--site', 'PKM-01-A', '--id', 'kiosk-t1', '--ttl', '2h'], env);
    expect(tok.code).toBe(0);
    expect(tok.stdout).toMatch(/kiosk-t1/);
    expect(tok.stdout.trim().split('\n').at(-1)).toMatch(/^[A-Za-z0-9_-]{32}$/);

    const out = join(data, 'kiosk.json');
    const badUrl = await hadir(['device', 'add', '--site', 'PKM-01-A', '--id', 'kiosk-t2', '--kiosk-config', out, '--hub-url', 'not a url'], env);
    expect(badUrl.code).toBe(2);
    expect(badUrl.stderr).toMatch(/hubUrl/);
    expect(existsSync(out)).toBe(false);
    const before = JSON.parse((await hadir(['device', 'list', '--format', 'json'], env)).stdout) as { id: string }[];
    expect(before.map((d) => d.id)).toEqual(['kiosk-t1']); // nothing registered by the failed command

    const made = await hadir(
      ['device', 'add', '--site', 'PKM-01-A', '--id', 'kiosk-t2', '--kiosk-config', out, '--hub-url', 'http://10.0.0.5:8080', '--kiosk-data', join(data, 'k')],
      { ...env, HADIR_MQTT_URL: 'mqtt://hadir-hub:hub-secret@10.0.0.5:1883' },
    );
    expect(made.code, made.stderr).toBe(0);
    expect(readFileSync(out, 'utf8')).not.toContain('hub-secret');
    expect(statSync(out).mode & 0o777).toBe(0o600);
    const cfg = kioskConfigSchema.parse(JSON.parse(readFileSync(out, 'utf8')));
    expect(cfg).toMatchObject({ deviceId: 'kiosk-t2', siteCode: 'PKM-01-A', hubUrl: 'http://10.0.0.5:8080', mqtt: { url: 'mqtt://10.0.0.5:1883', username: 'kiosk-t2', prefix: 'hadir/v1' } });

    const list = await hadir(['device', 'list', '--format', 'json'], env);
    const devices = JSON.parse(list.stdout) as { id: string; enrolled: boolean }[];
    expect(devices.map((d) => [d.id, d.enrolled])).toEqual([['kiosk-t1', false], ['kiosk-t2', true]]);

    const user = await hadir(['user', 'add', '--username', 'dinkes1', '--name', 'Admin Dinkes', '--role', 'opd_admin'], env);
    expect(user.code).toBe(2);
    expect(user.stderr).toMatch(/needs --opd/);
    const ok = await hadir(['user', 'add', '--username', 'dinkes1', '--name', 'Admin Dinkes', '--role', 'opd_admin', '--opd', 'DINKES'], env);
    expect(ok.stdout.trim().split('\n').at(-1)).toMatch(/^hdr_/);

    const csv = await hadir(['report', 'punches', '--format', 'csv'], env);
    expect(csv.stdout.trim()).toBe('id,device_id,seq,nip,method,captured_at,site_code,clock_synced,clock_source,clock_offset_ms,score,liveness,has_photo,received_at,review_status');
    // a command not ported to PostgreSQL yet (terminal health reads SQLite) says so in one line
    const pg = await hadir(['device', 'health'], { ...env, HADIR_DB_URL: 'postgres://127.0.0.1/test' });
    expect(pg.code).toBe(2);
    expect(pg.stderr.trim().split('\n')).toHaveLength(1);
    expect(pg.stderr).toMatch(/works on the SQLite store only so far.*unset HADIR_DB_URL/);
  }, 120_000);

  it('the core-store commands run on PostgreSQL through the same factory; an unreachable database is one line', async () => {
    const bad = await hadir(['device', 'list'], { HADIR_DB_URL: 'postgres://nobody:secret@127.0.0.1:1/none' });
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toMatch(/cannot reach PostgreSQL at postgres:\/\/nobody:\*\*\*@127\.0\.0\.1:1\/none.*check HADIR_DB_URL/);
    const pgdb = await freshPostgres();
    try {
      const env = { HADIR_DB_URL: pgdb.url };
      const user = await hadir(['user', 'add', '--username', 'bkpsdm1', '--name', 'Admin BKPSDM', '--role', 'bkpsdm'], env);
      expect(user.stderr).toBe('');
      expect(user.stdout.trim().split('\n').at(-1)).toMatch(/^hdr_/);
      const list = await hadir(['device', 'list', '--format', 'json'], env);
      expect(list.code).toBe(0);
      expect(JSON.parse(list.stdout)).toEqual([]);
      const c = new pg.Client({ connectionString: pgdb.url });
      await c.connect();
      try {
        expect((await c.query('SELECT username, role FROM users')).rows).toEqual([{ username: 'bkpsdm1', role: 'bkpsdm' }]);
        // the command's own audit entry went to the same database (the audit repository exists on PostgreSQL)
        expect((await c.query('SELECT action, target FROM audit_log')).rows).toEqual([{ action: 'cli user add', target: null }]);
      } finally {
        await c.end();
      }
    } finally {
      await pgdb.drop();
    }
  }, 120_000);
});
