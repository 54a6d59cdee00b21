import { createServer, type Server } from 'node:net';
import { Aedes, type AuthenticateError } from 'aedes';
import type { Topics } from '../../protocol/index.js';
import type { Logger } from '../../lib/logger.js';
import { UserError, isErrno } from '../../lib/errors.js';
import type { CoreStore } from '../store/core-store.js';
import type { CoreMetrics } from '../metrics.js';
import { verifyPassword } from '../secrets.js';

/** The hub's own MQTT username on the embedded broker; not a valid device id, so it cannot collide. */
export const HUB_USERNAME = '$hadir-hub';

export interface EmbeddedBroker {
  port: number;
  /** The broker itself: the hub subscribes and publishes in-process (in-process.ts). */
  aedes: Aedes;
  close(): Promise<void>;
}

/**
 * Embedded aedes broker (MQTT 3.1.1). Authentication: username = device id, password = the
 * device's secret (scrypt hash in devices.mqtt_secret_hash, looked up on every connect, so a
 * device added or disabled while the hub runs takes effect at once); the client id must be the
 * device id, so a device cannot take over another's persistent session. Authorization: a device
 * publishes and subscribes only under its own id (Topics.devicePublishAllowed/…SubscribeAllowed);
 * every denial is logged and counted.
 */
export async function startEmbeddedBroker(o: {
  port: number;
  host: string;
  topics: Topics;
  store: CoreStore;
  hubSecret: string;
  log: Logger;
  metrics: CoreMetrics;
}): Promise<EmbeddedBroker> {
  const { topics, store, log, metrics } = o;
  const broker = await Aedes.createBroker({
    // A slow kiosk must not make the broker buffer without bound.
    queueLimit: 50_000,
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
          if (!(await verifyPassword(pw, d.mqttSecretHash))) return deny('bad password');
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
  return {
    port,
    aedes: broker,
    // aedes closes the client sockets; server.close then completes.
    close: async () => {
      await new Promise<void>((res) => broker.close(() => res()));
      await new Promise<void>((res) => server.close(() => res()));
    },
  };
}

/** The device id of an authenticated device client; null for the hub / internal publishes. */
function deviceOf(client: unknown): string | null {
  if (!client) return null;
  return (client as { hadirDevice?: string }).hadirDevice ?? null;
}
