import { decodePayload, healthSchema, statusSchema, type Topics } from '../../protocol/index.js';
import type { Logger } from '../../lib/logger.js';
import type { Clock } from '../../lib/clock.js';
import type { HubBus, HubMqtt } from '../module-contract.js';
import type { CoreStore } from '../store/core-store.js';

const MAX_SMALL = 64 * 1024;
/** Status messages arriving within this window are written in one transaction. */
const STATUS_FLUSH_MS = 50;

/**
 * Device presence: the retained status topic (birth `{online:true}`, LWT `{online:false}`) and
 * the health message's `backlog` (undelivered punches, oldest undelivered) update the devices
 * table, so GET /api/v1/devices shows who is online and how much is waiting on each kiosk.
 * Health details beyond the backlog belong to the health module.
 */
export async function startPresence(o: { store: CoreStore; mqtt: HubMqtt; topics: Topics; bus: HubBus; log: Logger; clock: Clock }) {
  const now = () => new Date(o.clock());
  // A reconnect storm brings a birth (and, after a crash, an LWT) per kiosk: one fsync per message
  // blocked the hub ~7 ms each; they are now written together, the latest per device winning.
  const pending = new Map<string, { id: string; online: boolean; at: string }>();
  let flushing: NodeJS.Timeout | null = null;
  let stopped = false;
  const flush = () => {
    flushing = null;
    const rows = [...pending.values()];
    pending.clear();
    return o.store
      .setDeviceStatuses(rows)
      .then((known) => {
        const byId = new Map(rows.map((r) => [r.id, r.online]));
        for (const id of known) o.bus.emit('device:status', { deviceId: id, online: byId.get(id)! });
      })
      .catch((e: unknown) => o.log.error({ err: e }, 'device status not saved'));
  };
  await o.mqtt.subscribe(o.topics.all('status'), (topic, payload) => {
    const t = o.topics.parse(topic);
    if (stopped || !t || payload.length === 0) return; // stopped: the retained status comes again at the next start; empty = cleared
    const d = decodePayload(statusSchema, payload, MAX_SMALL);
    if (!d.ok) return void o.log.warn({ topic, reason: d.reason }, 'status message ignored');
    pending.delete(t.deviceId); // re-insert: keeps arrival order
    pending.set(t.deviceId, { id: t.deviceId, online: d.value.online, at: now().toISOString() });
    flushing ??= setTimeout(() => void flush(), STATUS_FLUSH_MS);
  });
  await o.mqtt.subscribe(o.topics.all('health'), (topic, payload) => {
    const t = o.topics.parse(topic);
    if (!t) return;
    const d = decodePayload(healthSchema, payload, MAX_SMALL);
    if (!d.ok) return void o.log.warn({ topic, reason: d.reason }, 'health message ignored');
    void o.store.setDeviceHealth(t.deviceId, d.value.backlog.undelivered, d.value.backlog.oldestUndeliveredAt, now().toISOString());
  });
  return {
    /** Writes the statuses still waiting for their batch, before the store closes. */
    async stop(): Promise<void> {
      stopped = true;
      if (flushing) clearTimeout(flushing);
      if (pending.size > 0) await flush();
    },
  };
}
