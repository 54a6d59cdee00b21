import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, createReadStream, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { z } from 'zod';
import { UserError } from '../../lib/errors.js';
import { iso, type Clock } from '../../lib/clock.js';
import { redactUrl } from '../config.js';
import { sqliteRowCount, sqliteTables } from './sqlite.js';

/**
 * `hadir backup` / `hadir restore`: the hub's state as one folder an IT office can copy to another
 * disk. The database — SQLite through its online backup API (a consistent copy while the hub runs
 * and writes), PostgreSQL through `pg_dump --format=custom` on an exported snapshot, the same
 * snapshot the row counts are taken in — and the files of the data directory without which a
 * restored database is not the same hub: `biometric.key` (face templates are encrypted with it;
 * without it every enrolment is lost) and `release-key.pub`, and the stored release bundles
 * unless left out. MANIFEST.json holds the sha256 of every file and the row count of every table;
 * restore checks both, into an empty target only (or a SQLite file replaced with --force).
 */

export const BACKUP_FORMAT = 1;
/** Files of the hub data directory that travel with the database. */
const DATA_FILES = ['biometric.key', 'release-key.pub'] as const;
const RELEASES_DIR = 'releases';

const ManifestSchema = z.object({
  format: z.literal(BACKUP_FORMAT),
  createdAt: z.string(),
  appVersion: z.string(),
  store: z.enum(['sqlite', 'postgres']),
  /** Rows per table at the moment of the copy. */
  tables: z.record(z.string(), z.number().int().nonnegative()),
  /** sha256 and size of every file of the backup but the manifest, by path relative to it. */
  files: z.record(z.string(), z.object({ sha256: z.string().regex(/^[0-9a-f]{64}$/), bytes: z.number().int().nonnegative() })),
});
export type BackupManifest = z.infer<typeof ManifestSchema>;

export interface HubLocation {
  dataDir: string;
  /** The SQLite file (when postgresUrl is null). */
  dbPath: string;
  postgresUrl: string | null;
}

async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

function filesUnder(root: string, dir = root, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const abs = join(dir, name);
    if (statSync(abs).isDirectory()) filesUnder(root, abs, out);
    else out.push(relative(root, abs).split('\\').join('/'));
  }
  return out;
}

function run(cmd: string, args: string[], what: string, fix: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    child.on('error', (e) => reject(new UserError(`${what}: ${e.message}`, fix)));
    child.on('close', (code) => (code === 0 ? resolve() : reject(new UserError(`${what} failed (exit ${code}): ${err.trim().split('\n').at(-1) ?? ''}`, fix))));
  });
}

/** Row counts of every table of a SQLite database. */
function sqliteCounts(db: Database.Database): Record<string, number> {
  return Object.fromEntries(sqliteTables(db).map((n) => [n, sqliteRowCount(db, n)]));
}

/** Row counts of every table of the public schema, in the transaction `client` is in. */
async function pgCounts(client: pg.ClientBase): Promise<Record<string, number>> {
  const names = (await client.query<{ t: string }>("SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")).rows.map((r) => r.t);
  const out: Record<string, number> = {};
  for (const n of names) out[n] = Number((await client.query<{ c: string }>(`SELECT count(*) AS c FROM "${n}"`)).rows[0]!.c);
  return out;
}

async function pgClient(url: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url });
  await c.connect().catch((e: Error) => {
    throw new UserError(`tidak dapat terhubung ke PostgreSQL / cannot reach PostgreSQL at ${redactUrl(url)}: ${e.message}`, 'check HADIR_DB_URL / --db and that PostgreSQL runs');
  });
  return c;
}

export interface BackupOptions {
  out: string;
  /** Leave out the stored release bundles (they can be added again from the release engineer's copies). */
  releases: boolean;
  appVersion: string;
  clock: Clock;
  progress?: (line: string) => void;
}

/** Copies the hub's state into `out` (which must not exist or be empty). */
export async function backupHub(hub: HubLocation, o: BackupOptions): Promise<BackupManifest> {
  if (existsSync(o.out) && readdirSync(o.out).length > 0) throw new UserError(`${o.out} is not empty`, 'give --out a new folder (one folder per backup)');
  mkdirSync(o.out, { recursive: true, mode: 0o700 });
  chmodSync(o.out, 0o700); // salaries, punches and the biometric key: owner only
  const say = o.progress ?? (() => {});
  let tables: Record<string, number>;
  if (hub.postgresUrl) {
    // The counts and the dump see one snapshot: exported by a transaction that touches no table
    // (so it holds no lock a hub's DDL could queue behind), counted by a second transaction that
    // imports it and ends before pg_dump starts, dumped by pg_dump --snapshot.
    const exporter = await pgClient(hub.postgresUrl);
    try {
      await exporter.query('BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY');
      const snapshot = (await exporter.query<{ s: string }>('SELECT pg_export_snapshot() AS s')).rows[0]!.s;
      const counter = await pgClient(hub.postgresUrl);
      try {
        await counter.query('BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY');
        await counter.query(`SET TRANSACTION SNAPSHOT '${snapshot.replace(/'/g, '')}'`);
        tables = await pgCounts(counter);
        await counter.query('COMMIT');
      } finally {
        await counter.end();
      }
      say(`pg_dump (snapshot ${snapshot})`);
      await run('pg_dump', ['--format=custom', '--no-owner', `--snapshot=${snapshot}`, '--file', join(o.out, 'hub.pgdump'), hub.postgresUrl], 'pg_dump', 'install postgresql-client (the same major version as the server or newer) and check HADIR_DB_URL');
      await exporter.query('COMMIT');
    } finally {
      await exporter.end();
    }
  } else {
    if (!existsSync(hub.dbPath)) throw new UserError(`no hub database at ${hub.dbPath}`, 'check --data / --db (HADIR_DATA_DIR / HADIR_DB_URL)');
    const db = new Database(hub.dbPath, { readonly: true, fileMustExist: true });
    try {
      say(`sqlite online backup of ${hub.dbPath}`);
      await db.backup(join(o.out, 'hub.db'));
    } finally {
      db.close();
    }
    const copy = new Database(join(o.out, 'hub.db'), { readonly: true });
    try {
      const ok = copy.pragma('integrity_check', { simple: true });
      if (ok !== 'ok') throw new Error(`the copy of ${hub.dbPath} fails integrity_check: ${String(ok)}`);
      tables = sqliteCounts(copy);
    } finally {
      copy.close();
    }
  }
  for (const f of DATA_FILES) if (existsSync(join(hub.dataDir, f))) copyFileSync(join(hub.dataDir, f), join(o.out, f));
  const rel = join(hub.dataDir, RELEASES_DIR);
  if (o.releases && existsSync(rel)) {
    for (const p of filesUnder(rel)) {
      mkdirSync(dirname(join(o.out, RELEASES_DIR, p)), { recursive: true });
      copyFileSync(join(rel, p), join(o.out, RELEASES_DIR, p));
    }
  }
  const files: BackupManifest['files'] = {};
  for (const p of filesUnder(o.out).sort()) {
    say(`sha256 ${p}`);
    files[p] = { sha256: await sha256File(join(o.out, p)), bytes: statSync(join(o.out, p)).size };
  }
  const manifest: BackupManifest = { format: BACKUP_FORMAT, createdAt: iso(o.clock), appVersion: o.appVersion, store: hub.postgresUrl ? 'postgres' : 'sqlite', tables, files };
  writeFileSync(join(o.out, 'MANIFEST.json'), JSON.stringify(manifest, null, 2) + '\n', { mode: 0o600 });
  return manifest;
}

/** Reads a backup's manifest and checks every file against it (a damaged or partial copy is refused before anything changes). */
export async function checkBackup(dir: string): Promise<BackupManifest> {
  const path = join(dir, 'MANIFEST.json');
  if (!existsSync(path)) throw new UserError(`${dir} is not a Hadir backup (no MANIFEST.json)`, 'give --from the folder `hadir backup --out` made');
  let manifest: BackupManifest;
  try {
    manifest = ManifestSchema.parse(JSON.parse(readFileSync(path, 'utf8')));
  } catch (e) {
    throw new UserError(`${path} is not a valid backup manifest: ${(e as Error).message.split('\n')[0]}`, 'use an unmodified backup folder');
  }
  for (const [p, f] of Object.entries(manifest.files)) {
    const abs = join(dir, p);
    if (!existsSync(abs)) throw new UserError(`backup ${dir} is incomplete: ${p} is missing`, 'copy the whole backup folder again');
    if ((await sha256File(abs)) !== f.sha256) throw new UserError(`backup ${dir} is damaged: ${p} does not match its sha256 in MANIFEST.json`, 'use another copy of the backup');
  }
  return manifest;
}

export interface RestoreOptions {
  from: string;
  /** Replace an existing SQLite hub database (the hub must be stopped). PostgreSQL targets must be empty. */
  force: boolean;
  clock: Clock;
  progress?: (line: string) => void;
}

/** Restores a backup into the hub location; returns the manifest and the counts found after. */
export async function restoreHub(hub: HubLocation, o: RestoreOptions): Promise<{ manifest: BackupManifest; tables: Record<string, number> }> {
  const manifest = await checkBackup(o.from);
  const say = o.progress ?? (() => {});
  if (manifest.store === 'postgres' && !hub.postgresUrl) throw new UserError(`${o.from} is a PostgreSQL backup and the target is a SQLite file`, 'restore it with --db postgres://… (an empty database); to move between stores use `hadir migrate`');
  if (manifest.store === 'sqlite' && hub.postgresUrl) throw new UserError(`${o.from} is a SQLite backup and the target is PostgreSQL`, 'restore it with --data DIR; to move it to PostgreSQL afterwards use `hadir migrate`');
  for (const f of DATA_FILES) {
    const target = join(hub.dataDir, f);
    if (existsSync(target) && manifest.files[f] && (await sha256File(target)) !== manifest.files[f].sha256 && !o.force) {
      throw new UserError(`${target} exists and differs from the backup's`, 'restore into a new --data folder, or --force to replace it (the old key is moved aside)');
    }
  }
  let tables: Record<string, number>;
  if (hub.postgresUrl) {
    const client = await pgClient(hub.postgresUrl);
    try {
      const n = Number((await client.query<{ c: string }>("SELECT count(*) AS c FROM pg_tables WHERE schemaname = 'public'")).rows[0]!.c);
      if (n > 0) throw new UserError(`the database at ${redactUrl(hub.postgresUrl)} is not empty (${n} tables)`, 'restore into a new, empty database (createdb …), then point HADIR_DB_URL at it');
      say('pg_restore');
      await run('pg_restore', ['--no-owner', '--exit-on-error', '--dbname', hub.postgresUrl, join(o.from, 'hub.pgdump')], 'pg_restore', 'check that the database is empty and that postgresql-client matches the server');
      tables = await pgCounts(client);
    } finally {
      await client.end();
    }
  } else {
    if (existsSync(hub.dbPath) && !o.force) throw new UserError(`a hub database already exists at ${hub.dbPath}`, 'restore into a new --data folder, or stop the hub and pass --force to replace it (the old file is moved aside)');
    mkdirSync(dirname(hub.dbPath), { recursive: true, mode: 0o700 });
    const tmp = `${hub.dbPath}.restore-${process.pid}`;
    copyFileSync(join(o.from, 'hub.db'), tmp);
    chmodSync(tmp, 0o600);
    const db = new Database(tmp, { readonly: true });
    try {
      tables = sqliteCounts(db);
    } finally {
      db.close();
    }
    if (existsSync(hub.dbPath)) {
      const aside = `${hub.dbPath}.before-restore-${o.clock()}`;
      say(`old database moved to ${aside}`);
      renameSync(hub.dbPath, aside);
      for (const s of ['-wal', '-shm']) rmSync(hub.dbPath + s, { force: true });
    }
    renameSync(tmp, hub.dbPath);
  }
  mkdirSync(hub.dataDir, { recursive: true, mode: 0o700 });
  for (const f of DATA_FILES) {
    if (!manifest.files[f]) continue;
    const target = join(hub.dataDir, f);
    if (existsSync(target)) renameSync(target, `${target}.before-restore-${o.clock()}`);
    copyFileSync(join(o.from, f), target);
    chmodSync(target, f === 'biometric.key' ? 0o600 : 0o644);
  }
  for (const p of Object.keys(manifest.files).filter((p) => p.startsWith(`${RELEASES_DIR}/`))) {
    mkdirSync(dirname(join(hub.dataDir, p)), { recursive: true });
    copyFileSync(join(o.from, p), join(hub.dataDir, p));
  }
  const differ = Object.keys({ ...manifest.tables, ...tables }).filter((t) => manifest.tables[t] !== tables[t]);
  if (differ.length) throw new Error(`restored row counts differ from the backup's for ${differ.join(', ')}`);
  return { manifest, tables };
}
