import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { hubConfig, openHub, closeHub } from '../../cli/open-hub.js';
import { UserError } from '../../lib/errors.js';
import { tmpDir } from './helpers.js';

const BIN = join(import.meta.dirname, '../../bin/hadir.mjs');
/** The real `hadir` process; HADIR_DATA_DIR / HADIR_DB_URL only as the test gives them. */
function hadir(args: string[], env: Record<string, string>, cwd?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'HADIR_DATA_DIR' && k !== 'HADIR_DB_URL'));
  return new Promise((res) => {
    execFile(process.execPath, [BIN, ...args], { cwd, env: { ...base, HADIR_LOG_LEVEL: 'warn', HADIR_ADMIN: 'tester', ...env } }, (err, stdout, stderr) =>
      res({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const ORG = 'opd_code,opd_name,unit_code,unit_name,site_code,site_name\nDINKES,Dinas Kesehatan,PKM-01,Puskesmas Kota,PKM-01-A,Puskesmas A\n';
const STAFF = 'nip,name,opd,unit,employment,job_class,tpp_base,schedule\n199001012015032001,Budi Santoso,DINKES,PKM-01,ASN,7,20868000,KANTOR5\n';

/** DESIGN.md "Command line": every command works on HADIR_DATA_DIR / HADIR_DB_URL (or --data / --db), the hub's own resolver. */
describe('the hub settings a command resolves (flag over environment over default)', () => {
  const env = (e: Record<string, string>) => e as NodeJS.ProcessEnv;
  it('default ./data/hub.db; HADIR_DATA_DIR over it; --data over HADIR_DATA_DIR', async () => {
    expect((await hubConfig({}, env({}))).dbPath).toBe(resolve('data', 'hub.db'));
    expect((await hubConfig({}, env({ HADIR_DATA_DIR: '/srv/a' }))).dbPath).toBe('/srv/a/hub.db');
    expect((await hubConfig({ data: '/srv/b' }, env({ HADIR_DATA_DIR: '/srv/a' }))).dbPath).toBe('/srv/b/hub.db');
  });
  it('HADIR_DB_URL over the data dir; --db over HADIR_DB_URL', async () => {
    expect((await hubConfig({ data: '/srv/b' }, env({ HADIR_DB_URL: 'sqlite:/srv/x.db' }))).dbPath).toBe('/srv/x.db');
    expect((await hubConfig({ db: '/srv/y.db' }, env({ HADIR_DB_URL: 'sqlite:/srv/x.db' }))).dbPath).toBe('/srv/y.db');
    expect((await hubConfig({ db: '/srv/y.db' }, env({ HADIR_DB_URL: 'sqlite:/srv/x.db', HADIR_DATA_DIR: '/srv/a' }))).dataDir).toBe('/srv/a');
  });
});

describe('openHub', () => {
  it('refuses a database that does not exist and makes no file; opens it when the command may create it', async () => {
    const dir = tmpDir('openhub');
    const missing = join(dir, 'nope', 'hub.db');
    const err = await openHub({ db: missing }, {}, {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toMatch(new RegExp(`no hub database at ${missing} \\(from --db\\)`));
    expect(readdirSync(dir)).toEqual([]);
    // --data loses to HADIR_DB_URL (a database URL wins over a data dir), and the message says so
    const fromEnv = await openHub({ data: dir }, {}, { HADIR_DB_URL: `sqlite:${missing}` }).catch((e: unknown) => e);
    expect((fromEnv as Error).message).toMatch(/no hub database at .*nope\/hub\.db \(from HADIR_DB_URL\)/);
    const hub = await openHub({ db: missing }, { create: true }, {});
    expect(existsSync(missing)).toBe(true);
    expect(await hub.store.listDevices()).toEqual([]);
    await closeHub(hub);
    const again = await openHub({ db: missing }, {}, {}); // now it exists: reading commands open it
    await closeHub(again);
  });
});

describe('hadir commands on the hub named by --db / HADIR_DB_URL', () => {
  it('a reading command with --db at a missing file fails in one line, exit 2, and creates nothing', async () => {
    const dir = tmpDir('openhub-cli');
    for (const args of [
      ['report', 'tpp', '--month', '2026-10', '--format', 'json'],
      ['report', 'punches'],
      ['device', 'list'],
      ['audit', 'verify'],
    ]) {
      const r = await hadir([...args, '--db', join(dir, 'typo', 'hub.db')], {});
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(r.stderr).toMatch(/^hadir: tidak ada basis data hub di .*\/typo\/hub\.db \/ no hub database at .*\(from --db\) — check --data \/ --db/);
    }
    const viaEnv = await hadir(['leave', 'list'], { HADIR_DB_URL: `sqlite:${join(dir, 'typo.db')}` });
    expect(viaEnv.code).toBe(2);
    expect(viaEnv.stderr).toMatch(/no hub database at .*typo\.db \(from HADIR_DB_URL\)/);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('attendance commands and reports honour HADIR_DB_URL over HADIR_DATA_DIR, and --db over both', async () => {
    const dir = tmpDir('openhub-url');
    const other = tmpDir('openhub-other'); // HADIR_DATA_DIR: must stay untouched
    const db = join(dir, 'regency.db');
    writeFileSync(join(dir, 'org.csv'), ORG);
    writeFileSync(join(dir, 'staff.csv'), STAFF);
    const env = { HADIR_DB_URL: `sqlite:${db}`, HADIR_DATA_DIR: other };
    expect((await hadir(['import', 'org', join(dir, 'org.csv')], env)).code).toBe(0);
    const st = await hadir(['import', 'staff', join(dir, 'staff.csv')], env);
    expect(st.code, st.stderr).toBe(0);
    expect(existsSync(db)).toBe(true);
    expect(readdirSync(other)).toEqual([]);

    const rep = await hadir(['report', 'attendance', '--month', '2026-10', '--format', 'json'], env);
    expect(rep.code, rep.stderr).toBe(0);
    expect((JSON.parse(rep.stdout) as { nip: string }[]).map((r) => r.nip)).toEqual(['199001012015032001']);

    // --db wins over HADIR_DB_URL: a wrong one is refused even though the environment names a good database
    const flag = await hadir(['report', 'tpp', '--month', '2026-10', '--db', join(dir, 'wrong.db')], env);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/wrong\.db \(from --db\)/);
    const good = await hadir(['staff', 'exits', '--format', 'json', '--db', db], { HADIR_DATA_DIR: other });
    expect(good.code, good.stderr).toBe(0);
    expect(JSON.parse(good.stdout)).toEqual([]);
    expect(readdirSync(other)).toEqual([]);
    expect(existsSync(join(dir, 'wrong.db'))).toBe(false);
  });

  it('without --data / --db / HADIR_* and no ./data/hub.db, even a creating command refuses; --data ./data creates', async () => {
    const cwd = tmpDir('openhub-cwd');
    writeFileSync(join(cwd, 'org.csv'), ORG);
    const r = await hadir(['import', 'org', 'org.csv'], {}, cwd);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^hadir: .*no hub data in \.\/data — pass --data DIR/);
    expect(existsSync(join(cwd, 'data'))).toBe(false);
    expect((await hadir(['import', 'org', 'org.csv', '--data', './data'], {}, cwd)).code).toBe(0);
    const list = await hadir(['device', 'list', '--format', 'json'], {}, cwd); // ./data/hub.db exists now: the default finds it
    expect(list.code, list.stderr).toBe(0);
    expect(JSON.parse(list.stdout)).toEqual([]);
  });
});
