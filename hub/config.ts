import { resolve, join } from 'node:path';
import { z } from 'zod';
import { DEFAULT_PREFIX } from '../protocol/index.js';
import { formatIssues } from '../lib/config-file.js';
import { UserError } from '../lib/errors.js';

/**
 * The hub's settings: command-line flags win over environment variables, which win over defaults.
 * Parsed once, with zod, at start-up; every problem is reported at once in one line.
 */
const port = z.coerce.number().int().min(0).max(65535);
const mqttUrl = z.string().regex(/^(mqtts?|tcp|wss?):\/\/[^/]+/, 'must look like mqtt://host:1883');

export const hubConfigSchema = z.strictObject({
  httpPort: port.default(8080),
  /** Address HTTP listens on (default all; e.g. 127.0.0.1 behind a reverse proxy, or the LAN address only). */
  httpHost: z.string().min(1).default('0.0.0.0'),
  mqttPort: port.default(1883),
  /** Address the embedded broker listens on (default all). */
  mqttHost: z.string().min(1).default('0.0.0.0'),
  /** External broker (Mosquitto, EMQX). Unset → embedded aedes on mqttPort. */
  mqttUrl: mqttUrl.optional(),
  /** Use `$share/hadir-hub/…` for punches on an external broker (several hubs split the stream). */
  mqttShared: z.boolean().default(true),
  dataDir: z.string().min(1).default('./data'),
  /** `sqlite:PATH`, a plain path, or `postgres://…` (later). Default: `<dataDir>/hub.db`. */
  dbUrl: z.string().min(1).optional(),
  prefix: z.string().regex(/^[A-Za-z0-9_\-]+(\/[A-Za-z0-9_\-]+)*$/, 'topic prefix: levels of A-Z a-z 0-9 _ - separated by /, no wildcards').default(DEFAULT_PREFIX),
  /** How kiosks reach the hub over HTTP (written into kiosk configs). */
  publicUrl: z.url().optional(),
  /** How kiosks reach the broker (written into kiosk configs). */
  publicMqttUrl: mqttUrl.optional(),
  /** Ingest batching: flush after this many messages or this many ms, whichever first. */
  batchMax: z.coerce.number().int().min(1).max(5000).default(500),
  batchDelayMs: z.coerce.number().min(0).max(1000).default(5),
  /** Punch messages waiting for a batch, at most; beyond, new ones are dropped unacked (kiosks resend). */
  ingestQueueMax: z.coerce.number().int().min(1000).max(10_000_000).default(100_000),
  /** Worker threads verifying Ed25519 signatures (0 = main thread). Default: cores − 1, at least 2, at most 4. */
  verifyWorkers: z.coerce.number().int().min(0).max(32).optional(),
  /** Re-publish roster config pointers when their version changed, at this interval. */
  rosterIntervalS: z.coerce.number().min(1).default(60),
  /** PostgreSQL: how often a worker tries to take the periodic-jobs lock (and the leader checks its lock connection). */
  leaderRetryS: z.coerce.number().min(0.1).max(300).default(5),
});
export type HubConfigInput = z.input<typeof hubConfigSchema>;
export type HubConfig = z.output<typeof hubConfigSchema> & {
  /** The SQLite file ('' when the store is PostgreSQL: see postgresUrl). */
  dbPath: string;
  /** Set when HADIR_DB_URL / --db is postgres://… (only where the caller accepts it: the hub). */
  postgresUrl: string | null;
};

/** Environment variables the hub reads (DESIGN.md "Command line"). */
const ENV_MAP: Record<string, keyof HubConfigInput> = {
  HADIR_HTTP_PORT: 'httpPort',
  HADIR_HTTP_HOST: 'httpHost',
  HADIR_MQTT_PORT: 'mqttPort',
  HADIR_MQTT_HOST: 'mqttHost',
  HADIR_MQTT_URL: 'mqttUrl',
  HADIR_DATA_DIR: 'dataDir',
  HADIR_DB_URL: 'dbUrl',
  HADIR_MQTT_PREFIX: 'prefix',
  HADIR_PUBLIC_URL: 'publicUrl',
  HADIR_PUBLIC_MQTT_URL: 'publicMqttUrl',
  HADIR_VERIFY_WORKERS: 'verifyWorkers',
  HADIR_LEADER_RETRY_S: 'leaderRetryS',
};

export function envInput(env: NodeJS.ProcessEnv = process.env): HubConfigInput {
  const out: Record<string, unknown> = {};
  for (const [k, key] of Object.entries(ENV_MAP)) {
    const v = env[k];
    if (v !== undefined && v !== '') out[key] = v;
  }
  return out as HubConfigInput;
}

/** Options (flags) over environment over defaults. Undefined options do not override. */
export function resolveHubConfig(opts: HubConfigInput = {}, env: NodeJS.ProcessEnv = process.env, o: { postgres?: boolean } = {}): HubConfig {
  const merged: Record<string, unknown> = { ...envInput(env) };
  for (const [k, v] of Object.entries(opts)) if (v !== undefined) merged[k] = v;
  const r = hubConfigSchema.safeParse(merged);
  if (!r.success) throw new UserError(`hub settings: ${formatIssues(r.error)}`, 'fix the flag or HADIR_* environment variable');
  const c = r.data;
  const dataDir = resolve(c.dataDir);
  return {
    ...c,
    dataDir,
    ...(o.postgres && isPostgres(c.dbUrl) ? { dbPath: '', postgresUrl: c.dbUrl! } : { dbPath: dbPathFor(c.dbUrl, dataDir), postgresUrl: null }),
  };
}

const isPostgres = (url: string | undefined) => !!url && /^postgres(ql)?:\/\//.test(url);

/** Where the SQLite file lives. Commands that work on SQLite only say so clearly for a postgres:// URL. */
export function dbPathFor(dbUrl: string | undefined, dataDir: string): string {
  if (!dbUrl) return join(dataDir, 'hub.db');
  if (isPostgres(dbUrl)) {
    throw new UserError('this command works on the SQLite store only so far (HADIR_DB_URL / --db is postgres://…); the hub itself runs on PostgreSQL', 'unset HADIR_DB_URL (or --db) to use the SQLite file in the data dir');
  }
  if (dbUrl === ':memory:') return dbUrl;
  const path = dbUrl.replace(/^sqlite:(\/\/)?/, '');
  return resolve(path);
}

/** A URL with its password masked (for logs). */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}

/**
 * Where kiosks reach this hub, as written into their configs: the public addresses when set, else
 * the hub's own on localhost (ports as given, e.g. the ones a running hub listens on). Never the
 * hub's own broker login.
 */
export function kioskEndpoints(c: HubConfig, ports: { httpPort?: number; mqttPort?: number } = {}): { hubUrl: string; mqttUrl: string; prefix: string } {
  return {
    hubUrl: c.publicUrl ?? `http://localhost:${ports.httpPort ?? c.httpPort}`,
    mqttUrl: withoutCredentials(c.publicMqttUrl ?? c.mqttUrl ?? `mqtt://localhost:${ports.mqttPort ?? c.mqttPort}`),
    prefix: c.prefix,
  };
}

/** A broker URL without user:password — what may be handed to kiosks. */
export function withoutCredentials(url: string): string {
  try {
    const u = new URL(url);
    if (!u.username && !u.password) return url;
    u.username = '';
    u.password = '';
    return u.toString().replace(/\/$/, '');
  } catch {
    return url;
  }
}
