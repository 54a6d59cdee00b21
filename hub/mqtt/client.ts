import mqtt from 'mqtt';
import { sharedFilter } from '../../protocol/index.js';
import type { HubMqtt } from '../module-contract.js';
import type { Logger } from '../../lib/logger.js';
import { UserError } from '../../lib/errors.js';

/**
 * MQTT topic filter matching (`+` one level, `#` the rest) on levels split once: the client splits
 * each filter at subscribe and each topic once per message, not once per handler (it showed in a
 * hub worker's profile at ~10 µs per punch).
 */
function levelsMatch(f: readonly string[], t: readonly string[]): boolean {
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

/** Runs one subscription handler; a handler that throws is logged, never fatal to the others. */
export function deliverSafely(handler: (topic: string, payload: Buffer) => void, topic: string, payload: Buffer, log: Logger): void {
  try {
    handler(topic, payload);
  } catch (e) {
    log.error({ err: e, topic }, 'mqtt handler failed');
  }
}

/** The hub's MQTT side as the server uses it: a TCP client (external broker) or in-process (embedded). */
export interface HubMqttConnection extends HubMqtt {
  connected(): boolean;
  close(): Promise<void>;
}

/**
 * The hub's MQTT client for an external broker (the embedded one is used in-process:
 * in-process.ts). Handlers are kept per filter and re-subscribed on every reconnect. With `share`, an external
 * broker gets `$share/hadir-hub/<filter>` so several hub processes split the stream (Mosquitto 2 /
 * MQTT 5 brokers).
 */
export async function connectHubMqtt(o: {
  url: string;
  username?: string;
  password?: string;
  clientId: string;
  /** Persistent session: punches published while the hub restarts wait at the broker. */
  clean: boolean;
  shared: boolean;
  log: Logger;
}): Promise<HubMqttConnection> {
  const { log } = o;
  const client = mqtt.connect(o.url, {
    protocolVersion: 4,
    clientId: o.clientId,
    clean: o.clean,
    username: o.username,
    password: o.password,
    reconnectPeriod: 1000,
    connectTimeout: 10_000,
    resubscribe: true,
  });
  const handlers: { levels: string[]; handler: (topic: string, payload: Buffer) => void }[] = [];
  client.on('message', (topic, payload) => {
    const t = topic.split('/');
    for (const h of handlers) {
      if (levelsMatch(h.levels, t)) deliverSafely(h.handler, topic, payload, log);
    }
  });
  client.on('error', (e) => log.warn({ err: e.message }, 'hub mqtt error'));
  client.on('offline', () => log.warn({ url: o.url }, 'hub mqtt offline, reconnecting'));
  // Only the FIRST connection decides whether the hub starts; these listeners are removed once it
  // is up, so later errors (broker restarting: ECONNREFUSED) never end the client — it reconnects.
  await new Promise<void>((res, rej) => {
    const done = () => {
      clearTimeout(t);
      client.off('connect', onConnect);
      client.off('error', onError);
    };
    const onConnect = () => (done(), res());
    const onError = (e: Error) => {
      done();
      client.end(true);
      rej(new UserError(`MQTT broker ${o.url} refused the hub: ${e.message}`, 'check the broker address and credentials'));
    };
    const t = setTimeout(() => {
      done();
      client.end(true);
      rej(new UserError(`cannot connect to MQTT broker ${o.url}`, 'check --mqtt-url / HADIR_MQTT_URL and that the broker runs'));
    }, 10_000);
    client.on('connect', onConnect);
    client.on('error', onError);
  });
  return {
    connected: () => client.connected,
    async subscribe(filter, handler, opts) {
      handlers.push({ levels: filter.split('/'), handler });
      const wire = opts?.share && o.shared ? sharedFilter(filter) : filter;
      await client.subscribeAsync(wire, { qos: 1 });
    },
    async publish(topic, payload, opts) {
      await client.publishAsync(topic, payload, { qos: opts?.qos ?? 1, retain: opts?.retain ?? false });
    },
    async close() {
      await client.endAsync();
    },
  };
}
