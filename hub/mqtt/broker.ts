import { createServer, type Server } from 'node:net';
import { Aedes, type AuthenticateError, type Client } from 'aedes';
import type { Topics } from '../../protocol/index.js';
import type { Logger } from '../../lib/logger.js';
import { UserError, isErrno } from '../../lib/errors.js';
import type { CoreStore } from '../store/core-store.js';
import type { CoreMetrics } from '../metrics.js';
import { checkDeviceSecret } from '../devices/secret.js';
import { BoundedMqEmitter } from './bounded-emitter.js';
import { indexedMemoryPersistence } from './retained-index.js';

/** aedes' default: messages delivered at once; more wait in BoundedMqEmitter's queue. */
const MQ_CONCURRENCY = 100;

/** The hub's own MQTT username on the embedded broker; not a valid device id, so it cannot collide. */
export const HUB_USERNAME = '$hadir-hub';
/** How often the broker looks for connected devices that were disabled meanwhile (also by the CLI). */
export const KICK_CHECK_MS = 5_000;

export interface EmbeddedBroker {
  port: number;
  /** The broker itself: the hub subscribes and publishes in-process (in-process.ts). */
  aedes: Aedes;
  /**
   * Disconnects every connected device that is disabled in the store now (also runs every
   * KICK_CHECK_MS). Resolves with how many were disconnected. Calls during a check are folded
   * into one more check after it.
   */
  kickDisabled(): Promise<number>;
  close(): Promise<void>;
}

/**
 * Embedded aedes broker (MQTT 3.1.1). Authentication: username = device id, password = the
 * device's secret (hash in devices.mqtt_secret_hash, devices/secret.ts; looked up on every connect, so a
 * device added or disabled while the hub runs takes effect at once); the client id must be the
 * device id, so a device cannot take over another's persistent session. Authorization: a device
 * publishes and subscribes only under its own id (Topics.devicePublishAllowed/…SubscribeAllowed);
 * every denial is logged and counted. A device disabled while connected (by the HTTP API or by
 * `hadir device disable` in another process) is disconnected within KICK_CHECK_MS; it cannot log
 * in again until enabled.
 */
export async function startEmbeddedBroker(o: {
  port: number;
  host: string;
  topics: Topics;
  store: CoreStore;
  hubSecret: string;
  log: Logger;
  metrics: CoreMetrics;
  /** Period of the disabled-device check (default KICK_CHECK_MS). */
  kickCheckMs?: number;
}): Promise<EmbeddedBroker> {
  const { topics, store, log, metrics } = o;
  const broker = await Aedes.createBroker({
    // A slow kiosk must not make the broker buffer without bound.
    queueLimit: 50_000,
    // Our own message bus: mqemitter's recursion overflowed the stack under 500 kiosks (bounded-emitter.ts).
    concurrency: MQ_CONCURRENCY,
    mq: new BoundedMqEmitter(MQ_CONCURRENCY),
    // Retained messages looked up by topic, not scanned per subscription (retained-index.ts).
    persistence: indexedMemoryPersistence(),
    authenticate: (client, username, password, done) => {
      const deny = (why: string) => {
        metrics.mqttDenied.labels('connect').inc();
        log.warn({ clientId: client.id, username, why }, 'mqtt connect denied');
        const err = new Error(why) as AuthenticateError;
        err.returnCode = 4; // bad username or password (MQTT 3.1.1 CONNACK 4)
        done(err, false);
      };
      const pw = password?.toString('utf8') ?? '';
      if (!username) return deny('no username (use the device id)');
      if (username === HUB_USERNAME) return pw === o.hubSecret ? done(null, true) : deny('bad hub secret');
      store
        .getDevice(username)
        .then(async (d) => {
          if (!d) return deny('unknown device');
          if (d.disabledAt) return deny('device disabled');
          if (!d.mqttSecretHash) return deny('device not enrolled');
          if (client.id !== username) return deny(`client id ${client.id} must equal the device id`);
          if (!(await checkDeviceSecret(store, d, pw))) return deny('bad password');
          (client as unknown as { hadirDevice: string }).hadirDevice = username;
          done(null, true);
        })
        .catch((e) => {
          log.error({ err: e }, 'mqtt authenticate failed');
          deny('internal error');
        });
    },
    authorizePublish: (client, packet, cb) => {
      const dev = deviceOf(client);
      if (dev === null) return cb(null); // the hub itself (or the broker's internal publishes)
      if (packet.topic.startsWith('$SYS') || !topics.devicePublishAllowed(dev, packet.topic)) {
        metrics.mqttDenied.labels('publish').inc();
        log.warn({ deviceId: dev, topic: packet.topic }, 'mqtt publish denied: a device publishes only under its own id');
        return cb(new Error('publish not allowed'));
      }
      cb(null);
    },
    authorizeSubscribe: (client, sub, cb) => {
      const dev = deviceOf(client);
      if (dev === null) return cb(null, sub);
      if (!topics.deviceSubscribeAllowed(dev, sub.topic)) {
        metrics.mqttDenied.labels('subscribe').inc();
        log.warn({ deviceId: dev, topic: sub.topic }, 'mqtt subscribe denied');
        return cb(new Error('subscribe not allowed'), null);
      }
      cb(null, sub);
    },
  });
  broker.on('clientError', (client, err) => log.debug({ clientId: client?.id, err: err.message }, 'mqtt client error'));
  const server: Server = createServer(broker.handle);
  try {
    await new Promise<void>((res, rej) => {
      server.once('error', (e) => {
        if (isErrno(e, 'EADDRINUSE')) rej(new UserError(`port ${o.port} is in use (Mosquitto?)`, 'use --mqtt-port or --mqtt-url'));
        else rej(e);
      });
      server.listen(o.port, o.host, () => res());
    });
  } catch (e) {
    await new Promise<void>((res) => broker.close(() => res())); // its heartbeat timer would keep the process alive
    throw e;
  }
  const port = (server.address() as { port: number }).port;
  const kick = disabledDeviceKicker(broker, store, log, metrics);
  const timer = setInterval(() => void kick(), o.kickCheckMs ?? KICK_CHECK_MS);
  timer.unref();
  return {
    port,
    aedes: broker,
    kickDisabled: kick,
    // aedes closes the client sockets; server.close then completes.
    close: async () => {
      clearInterval(timer);
      await new Promise<void>((res) => broker.close(() => res()));
      await new Promise<void>((res) => server.close(() => res()));
    },
  };
}

/**
 * The check behind EmbeddedBroker.kickDisabled: which device clients connected now are disabled in
 * the store. Asks the store only when a device is connected; one check at a time, requests during
 * a check coalesce into one more. Errors are logged (the next tick tries again), never thrown.
 */
function disabledDeviceKicker(broker: Aedes, store: CoreStore, log: Logger, metrics: CoreMetrics): () => Promise<number> {
  const clients = () => Object.values((broker as unknown as { clients: Record<string, Client> }).clients);
  const once = async (): Promise<number> => {
    if (broker.closed) return 0;
    const connected = new Set(clients().filter((c) => !c.closed).flatMap((c) => deviceOf(c) ?? []));
    if (!connected.size) return 0;
    let kicked = 0;
    for (const id of await store.disabledDeviceIds()) {
      if (!connected.has(id)) continue;
      const d = await store.getDevice(id);
      if (!d?.disabledAt || broker.closed) continue; // enabled again meanwhile
      // The current connection of this device (client id = device id): a reconnect during the
      // awaits replaced the one seen above.
      for (const c of clients()) {
        if (c.closed || deviceOf(c) !== id) continue;
        c.close();
        kicked++;
        metrics.mqttKicked.inc();
        log.warn({ deviceId: id, disabledAt: d.disabledAt, reason: d.disabledReason ?? null, by: d.disabledBy ?? null }, 'mqtt device disconnected: disabled (`hadir device enable` brings it back)');
      }
    }
    return kicked;
  };
  let running: Promise<number> | null = null;
  let next: Promise<number> | null = null;
  const kick = (): Promise<number> => {
    if (running) return (next ??= running.then(() => ((next = null), kick())));
    running = once()
      .catch((e: unknown) => {
        log.error({ err: e }, 'disabled-device check failed; retrying at the next tick');
        return 0;
      })
      .finally(() => (running = null));
    return running;
  };
  return kick;
}

/** The device id of an authenticated device client; null for the hub / internal publishes. */
function deviceOf(client: unknown): string | null {
  if (!client) return null;
  return (client as { hadirDevice?: string }).hadirDevice ?? null;
}
