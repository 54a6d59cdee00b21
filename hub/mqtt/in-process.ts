import type { Aedes, PublishPacket } from 'aedes';
import type { Logger } from '../../lib/logger.js';
import { deliverSafely, type HubMqttConnection } from './client.js';

/**
 * The hub's MQTT side when the broker is the embedded aedes: subscriptions and publishes go
 * straight into the broker in the same process, with no TCP client of its own. A punch then costs
 * the hub no MQTT encode/decode, no socket writes and no PUBACK round trip on its own side
 * (`hadir bench ingest`: 5,992 → 7,187 punches/s on the same machine; README "Benchmarks"). Semantics
 * match the TCP client: retained messages matching a new subscription are delivered at once, and
 * the hub's publishes pass the broker's normal path (retained store, QoS to device sessions).
 */
export function inProcessHubMqtt(broker: Aedes, log: Logger): HubMqttConnection {
  const listeners: { filter: string; fn: (packet: PublishPacket, cb: () => void) => void }[] = [];
  let closed = false;
  return {
    connected: () => !closed && !broker.closed,
    async subscribe(filter, handler) {
      const deliver = (topic: string, payload: Buffer) => deliverSafely(handler, topic, payload, log);
      const fn = (packet: PublishPacket, cb: () => void) => {
        // broker-internal $SYS traffic never reaches a filter of ours, but a `#` would see it
        if (!packet.topic.startsWith('$SYS')) deliver(packet.topic, packet.payload as Buffer);
        cb();
      };
      await new Promise<void>((res) => broker.subscribe(filter, fn, () => res()));
      listeners.push({ filter, fn });
      // A TCP subscriber gets the retained messages of its filter; so does this one.
      const persistence = (broker as unknown as { persistence: { createRetainedStream(p: string): AsyncIterable<PublishPacket> } }).persistence;
      for await (const p of persistence.createRetainedStream(filter)) {
        if (p.payload && (p.payload as Buffer).length) deliver(p.topic, p.payload as Buffer);
      }
    },
    async publish(topic, payload, opts) {
      if (closed) throw new Error('hub mqtt closed');
      await new Promise<void>((res, rej) =>
        broker.publish(
          { cmd: 'publish', topic, payload: typeof payload === 'string' ? Buffer.from(payload) : payload, qos: opts?.qos ?? 1, retain: opts?.retain ?? false, dup: false },
          (err) => (err ? rej(err) : res()),
        ),
      );
    },
    async close() {
      closed = true;
      await Promise.all(listeners.map((l) => new Promise<void>((res) => broker.unsubscribe(l.filter, l.fn, () => res()))));
    },
  };
}
