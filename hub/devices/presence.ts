import { decodePayload, healthSchema, statusSchema, type Topics } from '../../protocol/index.js';
import type { Logger } from '../../lib/logger.js';
import type { HubBus, HubMqtt } from '../module.js';
import type { CoreStore } from '../store/core-store.js';

const MAX_SMALL = 64 * 1024;

/**
 * Device presence: the retained status topic (birth `{online:true}`, LWT `{online:false}`) and
 * the health message's `backlog` (undelivered punches, oldest undelivered) update the devices
 * table, so GET /api/v1/devices shows who is online and how much is waiting on each kiosk.
 * Health details beyond the backlog belong to the health module.
 */
export async function startPresence(o: { store: CoreStore; mqtt: HubMqtt; topics: Topics; bus: HubBus; log: Logger; now?: () => Date }) {
  const now = o.now ?? (() => new Date());
  await o.mqtt.subscribe(o.topics.all('status'), (topic, payload) => {
    const t = o.topics.parse(topic);
    if (!t || payload.length === 0) return; // empty retained message = cleared
    const d = decodePayload(statusSchema, payload, MAX_SMALL);
    if (!d.ok) return void o.log.warn({ topic, reason: d.reason }, 'status message ignored');
    void o.store.setDeviceStatus(t.deviceId, d.value.online, now().toISOString()).then((known) => {
      if (known) o.bus.emit('device:status', { deviceId: t.deviceId, online: d.value.online });
    });
  });
  await o.mqtt.subscribe(o.topics.all('health'), (topic, payload) => {
    const t = o.topics.parse(topic);
    if (!t) return;
    const d = decodePayload(healthSchema, payload, MAX_SMALL);
    if (!d.ok) return void o.log.warn({ topic, reason: d.reason }, 'health message ignored');
    void o.store.setDeviceHealth(t.deviceId, d.value.backlog.undelivered, d.value.backlog.oldestUndeliveredAt, now().toISOString());
  });
}
