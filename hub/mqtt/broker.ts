import { createServer, type Server } from 'node:net';
import { Aedes, type AuthenticateError, type Client } from 'aedes';
import type { Topics } from '../../protocol/index.js';
import type { Logger } from '../../lib/logger.js';
import { UserError, isErrno } from '../../lib/errors.js';
import type { CoreStore } from '../store/core-store.js';
import type { CoreMetrics } from '../metrics.js';
import { checkDeviceSecret } from '../devices/secret.js';
import { BoundedMqEmitter } from './bounded-emitter.js';
import { verifyPassword } from '../secrets.js';
import { DUMMY_DEVICE_HASH } from '../http/auth.js';
import type { LoginLimiter } from '../web/login-limiter.js';
import { indexedMemoryPersistence } from './retained-index.js';
import type { Clock } from '../../lib/clock.js';

/** aedes' default: messages delivered at once; more wait in BoundedMqEmitter's queue. */
const MQ_CONCURRENCY = 100;

/**
 * Largest MQTT packet a client may send to the embedded broker: a punch with its photo is at most
 * 256 KB (protocol MAX_PUNCH_BYTES); a larger packet is refused when its length header arrives,
 * before its body is buffered, and the connection is closed.
 */
export const MAX_PACKET_BYTES = 512 * 1024;

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
  /** Failed device logins (shared with HTTP Basic); refused without a password check past the limit. */
  limiter?: LoginLimiter;
  /** The hub's clock (the limiter's windows). */
  clock: Clock;
  maxPacketBytes?: number;
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
      const ip = (client.conn as { remoteAddress?: string } | undefined)?.remoteAddress ?? 'unknown';
      const t = o.clock();
      if (o.limiter && o.limiter.attempt(username, ip, t) > 0) return deny('too many failed logins (throttled)');
      store
        .getDevice(username)
        .then(async (d) => {
          // the password is checked first, against a dummy hash for unknown ids: timing does not tell which ids exist
          const ok = d?.mqttSecretHash ? await checkDeviceSecret(store, d, pw) : await verifyPassword(pw, DUMMY_DEVICE_HASH);
          if (!d || !d.mqttSecretHash || !ok) return deny(!d ? 'unknown device' : !d.mqttSecretHash ? 'device not enrolled' : 'bad password');
          o.limiter?.withdraw(username, ip, t);
          if (d.disabledAt) return deny('device disabled');
          if (client.id !== username) return deny(`client id ${client.id} must equal the device id`);
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
        // A null subscription is SUBACK 0x80 (MQTT 3.1.1 §3.9.3) and keeps the connection; an
        // error would close it and the client would reconnect and try again in a loop.
        return cb(null, null);
      }
      cb(null, sub);
    },
  });
  broker.on('clientError', (client, err) => log.debug({ clientId: client?.id, err: err.message }, 'mqtt client error'));
  const maxPacket = o.maxPacketBytes ?? MAX_PACKET_BYTES;
  const server: Server = createServer((socket) => limitPacketSize(broker.handle(socket), maxPacket, log, metrics));
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

/**
 * aedes has no packet size limit; its parser (mqtt-packet) learns a packet's length from the fixed
 * header and then buffers until the whole packet is there. This refuses an oversized packet at the
 * header: the client is closed before the body is read (a 50 MB publish costs a few bytes).
 */
function limitPacketSize(client: Client, max: number, log: Logger, metrics: CoreMetrics): void {
  const parser = (client as unknown as { _parser?: { _parseLength: () => boolean; packet: { length: number; cmd?: string } } })._parser;
  if (!parser || typeof parser._parseLength !== 'function') return; // another aedes layout: the limit is then not applied (tested)
  const parseLength = parser._parseLength.bind(parser);
  parser._parseLength = () => {
    const ok = parseLength();
    if (ok && parser.packet.length > max) {
      metrics.mqttDenied.labels('oversized').inc();
      log.warn({ clientId: client.id, cmd: parser.packet.cmd, bytes: parser.packet.length, max }, 'mqtt packet too large: connection closed');
      client.close();
      return false;
    }
    return ok;
  };
}

/** The device id of an authenticated device client; null for the hub / internal publishes. */
function deviceOf(client: unknown): string | null {
  if (!client) return null;
  return (client as { hadirDevice?: string }).hadirDevice ?? null;
}
