import { EventEmitter } from 'node:events';
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { chmodSync, mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import type { Hono } from 'hono';
import { Topics } from '../protocol/index.js';
import { childLogger, type Logger } from '../lib/logger.js';
import { UserError, isErrno } from '../lib/errors.js';
import { resolveHubConfig, withoutCredentials, redactUrl, type HubConfig, type HubConfigInput } from './config.js';
import type { HubBus, HubContext, HubModule } from './module-contract.js';
import { moduleFactories } from './feature-modules.js';
import { openHubStores } from './store/open.js';
import type { CoreStore } from './store/core-store.js';
import type { SqliteDb } from './store/sqlite.js';
import { createCoreMetrics, type CoreMetrics } from './metrics.js';
import { startEmbeddedBroker, HUB_USERNAME, type EmbeddedBroker } from './mqtt/broker.js';
import { connectHubMqtt, type HubMqttConnection } from './mqtt/client.js';
import { inProcessHubMqtt } from './mqtt/in-process.js';
import { Ingestor } from './ingest/ingestor.js';
import { startPresence } from './devices/presence.js';
import { RosterPublisher } from './roster.js';
import { createApp } from './http/app.js';
import { randomSecret } from './secrets.js';
import { AuditLog } from './audit/index.js';
import { deviceLoginLimiter } from './http/auth.js';
import { APP_VERSION } from '../lib/version.js';
import { PgLeadership, soleLeadership } from './leader.js';
import { systemClock, type Clock } from '../lib/clock.js';

export interface StartHubOptions extends HubConfigInput {
  env?: NodeJS.ProcessEnv;
  /** Feature module factories (default: hub/feature-modules.ts). */
  modules?: ((ctx: HubContext) => HubModule)[];
  log?: Logger;
  /** Node process metrics in /metrics (default true; benchmarks running several hubs turn it off). */
  defaultMetrics?: boolean;
  /** External broker only: persistent session (default true). Tests on the shared Mosquitto use false. */
  mqttPersistent?: boolean;
  /** The hub's one clock, handed to every service and module (default the system clock; tests pass a fixed or stepping one). */
  clock?: Clock;
}

export interface RunningHub {
  httpPort: number;
  mqttPort: number;
  /** Where kiosks connect (the embedded broker's or the external URL). */
  mqttUrl: string;
  publicUrl: string;
  config: HubConfig;
  ctx: HubContext;
  store: CoreStore;
  /** The SQLite handle under the stores: for benchmarks, tests and the demo's seeding only (modules use ctx.stores). */
  db: SqliteDb;
  app: Hono;
  /** The feature modules (their routes, OpenAPI paths and access rules). */
  modules: HubModule[];
  metrics: CoreMetrics;
  ingestor: Ingestor;
  roster: RosterPublisher;
  /** Embedded broker only: the hub's own credentials (in-process use: benchmarks). */
  internalMqtt: { username: string; password: string } | null;
  /** Embedded broker only (benchmarks: drop every connection). */
  broker: EmbeddedBroker | null;
  close(): Promise<void>;
}

/**
 * Starts the hub: store (migrations), MQTT (embedded aedes or external broker), ingest, presence,
 * roster config publishing, HTTP, then the feature modules. Port 0 = ephemeral (tests).
 * Everything started is stopped by close(), in reverse order; a failure half-way stops what
 * already started.
 */
export async function startHub(opts: StartHubOptions = {}): Promise<RunningHub> {
  const { env, modules: factories = moduleFactories, log: baseLog, defaultMetrics, mqttPersistent, clock = systemClock, ...input } = opts;
  const config = resolveHubConfig(input, env ?? process.env, { postgres: true });
  const log = baseLog ?? childLogger('hub');
  const cleanups: (() => Promise<void> | void)[] = [];
  const closeAll = async () => {
    for (const c of cleanups.reverse()) {
      try {
        await c();
      } catch (e) {
        log.warn({ err: (e as Error).message }, 'error while stopping');
      }
    }
    cleanups.length = 0;
  };
  try {
    // The data dir (database, face crops, keys) is the hub's alone, also when not started by its systemd unit.
    mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
    chmodSync(config.dataDir, 0o700);
    const { db, store, stores } = await openHubStores(config);
    cleanups.push(() => store.close());

    const metrics = createCoreMetrics({ defaults: defaultMetrics });
    // Periodic jobs run on one worker: on PostgreSQL the holder of an advisory lock, else this process.
    const leader = config.postgresUrl
      ? await new PgLeadership(config.postgresUrl, { retryMs: config.leaderRetryS * 1000, log: log.child({ part: 'leader' }), registry: metrics.registry }).start()
      : soleLeadership(metrics.registry);
    cleanups.push(() => leader.stop());
    // One failed-login budget per device id / address for both doors (HTTP Basic and MQTT).
    const deviceLimiter = deviceLoginLimiter();
    const topics = new Topics(config.prefix);

    let broker: EmbeddedBroker | null = null;
    let internalMqtt: RunningHub['internalMqtt'] = null;
    let mqtt: HubMqttConnection;
    let mqttPort: number;
    let kioskMqttUrl: string;
    if (!config.mqttUrl) {
      const hubSecret = randomSecret(32); // the hub's own password on its own broker, new at every start
      broker = await startEmbeddedBroker({ port: config.mqttPort, host: config.mqttHost, topics, store, hubSecret, log: log.child({ part: 'broker' }), metrics, limiter: deviceLimiter, clock });
      cleanups.push(() => broker!.close());
      mqttPort = broker.port;
      internalMqtt = { username: HUB_USERNAME, password: hubSecret };
      kioskMqttUrl = config.publicMqttUrl ?? `mqtt://localhost:${mqttPort}`;
      mqtt = inProcessHubMqtt(broker.aedes, log);
    } else {
      mqttPort = Number(new URL(config.mqttUrl.replace(/^tcp:/, 'mqtt:')).port || 1883);
      kioskMqttUrl = config.publicMqttUrl ?? withoutCredentials(config.mqttUrl); // never hand out the hub's own login
      const u = new URL(config.mqttUrl.replace(/^tcp:/, 'mqtt:'));
      mqtt = await connectHubMqtt({
        url: config.mqttUrl,
        username: u.username ? decodeURIComponent(u.username) : undefined,
        password: u.password ? decodeURIComponent(u.password) : undefined,
        // Stable per host, prefix and HTTP port: the broker keeps the session (and queued punches) across
        // hub restarts, and several workers on one host (each on its own HTTP port) do not take each
        // other's session. HTTP port 0 (tests): a random id, nothing to keep.
        clientId: `hadir-hub-${hostname().slice(0, 20)}-${createHash('sha256').update(config.prefix).digest('hex').slice(0, 8)}-${config.httpPort || randomSecret(6).replace(/[^A-Za-z0-9]/g, '')}`,
        // A persistent session only with a plain subscription (one hub, --no-mqtt-shared): Mosquitto keeps
        // handing a disconnected persistent member of a shared subscription its share of the stream, so
        // a worker that died or was scaled down would park punches until the kiosks re-send them. A
        // worker on the shared subscription uses a clean session: what it had not acked goes to the others.
        clean: mqttPersistent === false || config.mqttShared,
        shared: config.mqttShared,
        log,
      });
    }
    cleanups.push(() => mqtt.close());

    const bus: HubBus = new EventEmitter();
    const audit = new AuditLog(stores.audit, clock);
    const ctx: HubContext = { stores, log, clock, bus, mqtt, topics, metrics: metrics.registry, dataDir: config.dataDir, publicUrl: config.publicUrl ?? '', audit, leader };
    const ingestor = new Ingestor({ store, mqtt, topics, bus, clock, log: log.child({ part: 'ingest' }), metrics, batchMax: config.batchMax, batchDelayMs: config.batchDelayMs, queueMax: config.ingestQueueMax, verifyWorkers: config.verifyWorkers });
    cleanups.push(() => ingestor.stop());
    await ingestor.start();
    const presence = await startPresence({ store, mqtt, topics, bus, log, clock });
    cleanups.push(() => presence.stop());
    // The online gauge from the device list at most once a second: per status message it was O(kiosks²) in a reconnect storm.
    let gaugeDue: NodeJS.Timeout | null = null;
    bus.on('device:status', () => {
      gaugeDue ??= setTimeout(() => {
        gaugeDue = null;
        void store.listDevices().then((ds) => metrics.devicesOnline.set(ds.filter((d) => d.online).length), () => {});
      }, 1000);
    });
    cleanups.push(() => void (gaugeDue && clearTimeout(gaugeDue)));

    const modules = factories.map((f) => f(ctx));
    let roster: RosterPublisher | undefined;
    // hubUrl is known once HTTP listens (port 0 in tests); the endpoint reads this object at request time.
    const enrol = { hubUrl: config.publicUrl ?? '', mqttUrl: kioskMqttUrl, prefix: config.prefix };
    const { app } = createApp({
      store, log, clock, metrics: metrics.registry, modules, version: APP_VERSION, enrol, audit, deviceLimiter,
      mqttConnected: () => mqtt.connected(),
      onEnrolled: () => void roster?.refresh(),
      onDeviceDisabled: () => void broker?.kickDisabled(),
    });
    const http = await listenHttp(app, config.httpPort, config.httpHost);
    cleanups.push(() => new Promise<void>((res) => http.server.close(() => res())));
    const publicUrl = config.publicUrl ?? `http://localhost:${http.port}`;
    ctx.publicUrl = publicUrl;
    enrol.hubUrl = publicUrl;

    for (const m of modules) {
      await m.start?.();
      if (m.stop) cleanups.push(() => m.stop!());
    }
    roster = new RosterPublisher({ store, modules: () => modules, mqtt, topics, bus, log, clock, intervalS: config.rosterIntervalS });
    await roster.start();
    cleanups.push(() => roster!.stop());

    log.info({ http: http.port, mqtt: config.mqttUrl ?? `embedded :${mqttPort}`, db: config.postgresUrl ? redactUrl(config.postgresUrl) : config.dbPath, prefix: config.prefix, publicUrl }, 'hub started');
    return {
      httpPort: http.port, mqttPort, mqttUrl: kioskMqttUrl, publicUrl, config, ctx, store, db, app, modules, metrics, ingestor, roster, internalMqtt, broker,
      close: closeAll,
    };
  } catch (e) {
    await closeAll();
    throw e;
  }
}

async function listenHttp(app: Hono, port: number, host: string): Promise<{ server: ServerType; port: number }> {
  return new Promise((res, rej) => {
    const server = serve({ fetch: app.fetch, port, hostname: host }, (info: AddressInfo) => res({ server, port: info.port }));
    server.once('error', (e) => {
      if (isErrno(e, 'EADDRINUSE')) rej(new UserError(`port ${port} is in use`, 'use --http-port or HADIR_HTTP_PORT'));
      else rej(e);
    });
  });
}
