import { createRequire } from 'node:module';
import type { PublishPacket } from 'aedes';
import type { AedesMemoryPersistence } from 'aedes-persistence';

// CommonJS module.exports = factory; its typings' default export does not survive NodeNext interop.
const memory = createRequire(import.meta.url)('aedes-persistence') as () => AedesMemoryPersistence;

type Retained = Iterable<PublishPacket> | AsyncIterable<PublishPacket>;
interface AsyncMemory {
  storeRetained(packet: PublishPacket): Promise<void>;
  createRetainedStream(pattern: string): Retained;
  createRetainedStreamCombi(patterns: string[]): Retained;
}

/**
 * aedes' in-memory persistence (aedes-persistence 11), with retained messages also indexed by exact
 * topic. Its own lookup scans EVERY retained message for each subscription, and each kiosk
 * subscribes to three exact topics (ack/config/cmd) while the hub keeps two retained messages per
 * kiosk (status, config): 6·N² topic tests per reconnect storm — 24 million for 2,000 kiosks, seconds
 * of the hub's only thread. A subscription without wildcards (every kiosk's) is now a map lookup;
 * one with `+`/`#` (the hub's own) still scans, exactly as before.
 */
export function indexedMemoryPersistence(): AedesMemoryPersistence {
  const p = memory();
  const inner = (p as unknown as { asyncPersistence: AsyncMemory }).asyncPersistence;
  const byTopic = new Map<string, PublishPacket>();
  const exact = (pattern: string) => !pattern.includes('+') && !pattern.includes('#');
  const store = inner.storeRetained.bind(inner);
  const stream = inner.createRetainedStream.bind(inner);
  const combi = inner.createRetainedStreamCombi.bind(inner);
  inner.storeRetained = async (packet) => {
    if (packet.payload.length === 0) byTopic.delete(packet.topic);
    else byTopic.set(packet.topic, Object.assign({}, packet));
    return store(packet);
  };
  const lookup = (patterns: string[]) => patterns.flatMap((t) => byTopic.get(t) ?? []);
  inner.createRetainedStream = (pattern) => (exact(pattern) ? lookup([pattern]) : stream(pattern));
  inner.createRetainedStreamCombi = (patterns) => (patterns.every(exact) ? lookup(patterns) : combi(patterns));
  return p;
}
