import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { makeTmpDir } from '../tmp.js';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { openSqlite } from '../../hub/store/sqlite.js';

/**
 * End-to-end harness: real `hadir` processes (node bin/hadir.mjs …), real SQLite files, real
 * brokers (embedded aedes in the hub, the machine's Mosquitto, or a private mosquitto child).
 */

export const ROOT = resolve(import.meta.dirname, '..', '..');
export const BIN = join(ROOT, 'bin', 'hadir.mjs');
const run = promisify(execFile);

export function tmp(tag: string): string {
  return makeTmpDir(`hadir-e2e-${tag}-`);
}

export function rand(n = 4): string {
  return randomBytes(n).toString('hex');
}

export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const childEnv = (extra: Record<string, string> = {}) => ({ ...process.env, HADIR_LOG_LEVEL: process.env.HADIR_E2E_LOG ?? 'warn', VITEST: '', ...extra });

/** Runs `hadir …` to completion. */
export async function hadir(args: string[], extra: Record<string, string> = {}): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const r = await run(process.execPath, [BIN, ...args], { env: childEnv(extra), maxBuffer: 256 * 1024 * 1024 });
    return { stdout: r.stdout, stderr: r.stderr, code: 0 };
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; code?: number };
    return { stdout: err.stdout ?? '', stderr: err.stderr ?? '', code: typeof err.code === 'number' ? err.code : 1 };
  }
}

/** Starts `hadir …` as a child; `exited` resolves with the exit code (or the signal name). */
export function spawnHadir(args: string[], extra: Record<string, string> = {}): { child: ChildProcess; exited: Promise<number | string>; output: () => string } {
  const child = spawn(process.execPath, [BIN, ...args], { env: childEnv(extra), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | string>((r) => child.on('exit', (code, sig) => r(code ?? sig ?? -1)));
  return { child, exited, output: () => out };
}

/** Waits for a child's exit; on timeout kills it and fails with its output (diagnosable failures). */
export async function exitWithin(run: { child: ChildProcess; exited: Promise<number | string>; output: () => string }, ms: number, what: string): Promise<number | string> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, rej) => {
    timer = setTimeout(() => {
      run.child.kill('SIGKILL');
      rej(new Error(`${what} did not finish within ${ms} ms; output:\n${run.output().slice(-4000)}`));
    }, ms);
  });
  try {
    return await Promise.race([run.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Creates the hub database with one OPD/unit/site and `staff` people in it (what `hadir import` would do). */
export function seedOrg(hubDataDir: string, site: string, staff: number): string[] {
  const db = openSqlite(join(hubDataDir, 'hub.db'));
  const now = new Date().toISOString();
  const nips: string[] = [];
  db.transaction(() => {
    db.prepare('INSERT OR IGNORE INTO opd (code, name) VALUES (?, ?)').run('OPD-E2E', 'OPD uji');
    db.prepare('INSERT OR IGNORE INTO units (code, opd_code, name) VALUES (?, ?, ?)').run(`U-${site}`, 'OPD-E2E', `Unit ${site}`);
    db.prepare('INSERT OR IGNORE INTO sites (code, unit_code, name) VALUES (?, ?, ?)').run(site, `U-${site}`, `Kantor ${site}`);
    for (let i = 0; i < staff; i++) {
      const nip = `19800101200501${String(1000 + i)}`;
      nips.push(nip);
      db.prepare(
        `INSERT OR IGNORE INTO staff (nip, name, opd_code, unit_code, employment, tpp_base, schedule_code, updated_at) VALUES (?, ?, 'OPD-E2E', ?, 'ASN', 0, 'KANTOR5', ?)`,
      ).run(nip, `Pegawai ${i}`, `U-${site}`, now);
    }
  })();
  db.close();
  return nips;
}

export interface DeviceSetup {
  deviceId: string;
  configPath: string;
  kioskDataDir: string;
}

/**
 * Registers a kiosk the way an admin does (`hadir device add` → token) and enrols it the way the
 * provisioning script does (`hadir kiosk enroll`), then adapts the config for tests: no dedup
 * window (synthetic people punch many times), ephemeral screen port, no camera/sensor features.
 */
export async function addKiosk(o: { hubDataDir: string; hubUrl: string; mqttUrl: string; prefix?: string; site: string; deviceId?: string; dir: string }): Promise<DeviceSetup> {
  const deviceId = o.deviceId ?? `k-${rand()}`;
  const add = await hadir(['device', 'add', '--site', o.site, '--id', deviceId, '--data', o.hubDataDir, '--mqtt-url', o.mqttUrl, '--hub-url', o.hubUrl, ...(o.prefix ? ['--prefix', o.prefix] : [])], {
    HADIR_PUBLIC_MQTT_URL: o.mqttUrl,
    ...(o.prefix ? { HADIR_MQTT_PREFIX: o.prefix } : {}),
  });
  if (add.code !== 0) throw new Error(`device add failed: ${add.stderr}`);
  const token = add.stdout.trim().split('\n').pop()!.trim();
  const configPath = join(o.dir, `${deviceId}.json`);
  const kioskDataDir = join(o.dir, deviceId);
  const enrol = await hadir(['kiosk', 'enroll', '--hub', o.hubUrl, '--token', token, '--out', configPath, '--data', kioskDataDir]);
  if (enrol.code !== 0) throw new Error(`kiosk enroll failed: ${enrol.stderr}`);
  patchConfig(configPath, { dedupWindowMin: 0, screen: { port: 0 }, face: { enabled: false }, finger: { enabled: false } });
  return { deviceId, configPath, kioskDataDir };
}

export function patchConfig(path: string, patch: Record<string, unknown>): Record<string, unknown> {
  const doc = { ...(JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>), ...patch };
  writeFileSync(path, JSON.stringify(doc, null, 2), { mode: 0o600 });
  return doc;
}

export interface JournalEntry {
  seq: number;
  id: string;
  nip: string;
  delivered: boolean;
  rejectedReason: string | null;
}

/** `hadir kiosk journal --format json --check`: rows plus the integrity check result. */
export async function kioskJournal(configPath: string): Promise<{ rows: JournalEntry[]; integrity: string }> {
  const r = await hadir(['kiosk', 'journal', '--config', configPath, '--format', 'json', '--check']);
  const integrity = /integrity_check: (.*)/.exec(r.stderr)?.[1] ?? `missing (exit ${r.code}: ${r.stderr})`;
  return { rows: JSON.parse(r.stdout) as JournalEntry[], integrity };
}

/** The hub's punches for one device, read from its SQLite file. */
export function hubPunches(hubDataDir: string, deviceId: string): { id: string; seq: number; nip: string }[] {
  const db = new Database(join(hubDataDir, 'hub.db'), { readonly: true });
  try {
    return db.prepare('SELECT id, seq, nip FROM punches WHERE device_id = ? ORDER BY seq').all(deviceId) as { id: string; seq: number; nip: string }[];
  } finally {
    db.close();
  }
}

/**
 * The acceptance condition of every run: every journaled punch is stored at the hub exactly once,
 * the journal's seq is gapless from 1, everything is marked delivered, and the journal is sound.
 */
export function checkExactlyOnce(journal: { rows: JournalEntry[]; integrity: string }, hub: { id: string; seq: number; nip: string }[]): string[] {
  const problems: string[] = [];
  const rows = journal.rows;
  if (journal.integrity !== 'ok') problems.push(`integrity_check: ${journal.integrity}`);
  rows.forEach((r, i) => {
    if (r.seq !== i + 1) problems.push(`journal seq gap: position ${i} has seq ${r.seq}`);
  });
  const undelivered = rows.filter((r) => !r.delivered).length;
  if (undelivered) problems.push(`${undelivered} journaled punches not marked delivered`);
  const hubById = new Map<string, number>();
  for (const h of hub) hubById.set(h.id, (hubById.get(h.id) ?? 0) + 1);
  const missing = rows.filter((r) => !hubById.has(r.id));
  if (missing.length) problems.push(`${missing.length} journaled punches missing at the hub (first seq ${missing[0]!.seq})`);
  const doubled = [...hubById.values()].filter((n) => n > 1).length;
  if (doubled) problems.push(`${doubled} punches stored more than once`);
  const journalIds = new Set(rows.map((r) => r.id));
  const extra = hub.filter((h) => !journalIds.has(h.id));
  if (extra.length) problems.push(`${extra.length} hub punches not in the journal`);
  const seqs = new Set(hub.map((h) => h.seq));
  if (seqs.size !== hub.length) problems.push('hub has duplicate seq for the device');
  return problems;
}

export async function waitUntil(cond: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const t0 = Date.now();
  while (!(await cond())) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Waits until an HTTP URL answers (a child hub is up). */
export async function waitHttp(url: string, timeoutMs = 30_000): Promise<void> {
  await waitUntil(
    async () => {
      try {
        const r = await fetch(url, { signal: AbortSignal.timeout(1000) });
        return r.ok;
      } catch {
        return false;
      }
    },
    timeoutMs,
    url,
  );
}

/** A hub child process with fixed ports (so it can be SIGKILLed and started again on the same ones). */
export async function spawnHub(o: { dataDir: string; httpPort: number; mqttPort: number; mqttUrl?: string; prefix?: string }) {
  const args = ['hub', '--http-port', String(o.httpPort), '--mqtt-port', String(o.mqttPort), '--data', o.dataDir];
  if (o.mqttUrl) args.push('--mqtt-url', o.mqttUrl);
  if (o.prefix) args.push('--prefix', o.prefix);
  const h = spawnHadir(args);
  await Promise.race([
    waitHttp(`http://127.0.0.1:${o.httpPort}/healthz`),
    h.exited.then((c) => {
      throw new Error(`hub exited (${c}) during start: ${h.output()}`);
    }),
  ]);
  return h;
}

/** A private mosquitto on its own port (so it can be killed without disturbing anyone). */
export async function spawnMosquitto(port: number, dir: string): Promise<{ child: ChildProcess; exited: Promise<unknown> }> {
  const conf = join(dir, `mosquitto-${port}.conf`);
  writeFileSync(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\nmax_queued_messages 100000\n`);
  const child = spawn('mosquitto', ['-c', conf], { stdio: 'ignore' });
  const exited = new Promise((r) => child.on('exit', r));
  await waitUntil(
    () =>
      new Promise<boolean>((res) => {
        const s = createServer();
        // Port taken = mosquitto is listening.
        s.once('error', () => res(true));
        s.listen(port, '127.0.0.1', () => s.close(() => res(false)));
      }),
    10_000,
    `mosquitto on ${port}`,
  );
  return { child, exited };
}
