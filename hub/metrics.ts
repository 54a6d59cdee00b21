import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The hub core's Prometheus metrics; feature modules register theirs on the same registry (ctx.metrics). */
export function createCoreMetrics(opts: { defaults?: boolean } = {}) {
  const registry = new Registry();
  if (opts.defaults !== false) {
    collectDefaultMetrics({ register: registry, prefix: 'hadir_hub_' });
    renameTotalGauges(registry);
  }
  const m = {
    registry,
    received: new Counter({ name: 'hadir_punch_messages_received_total', help: 'Punch messages received from the broker', registers: [registry] }),
    stored: new Counter({ name: 'hadir_punches_stored_total', help: 'Punches stored for the first time', registers: [registry] }),
    duplicates: new Counter({ name: 'hadir_punches_duplicate_total', help: 'Punches received again (already stored, acked again)', registers: [registry] }),
    rejected: new Counter({ name: 'hadir_ingest_rejections_total', help: 'Messages refused by ingest, by reason code', labelNames: ['code'], registers: [registry] }),
    shed: new Counter({ name: 'hadir_ingest_shed_total', help: 'Punch messages dropped unacked because the ingest queue was full (kiosks resend them)', registers: [registry] }),
    queued: new Gauge({ name: 'hadir_ingest_queue', help: 'Punch messages received and not yet in an ingest batch', registers: [registry] }),
    acks: new Counter({ name: 'hadir_acks_published_total', help: 'Ack messages published to kiosks', registers: [registry] }),
    batchSize: new Histogram({ name: 'hadir_ingest_batch_size', help: 'Messages per ingest batch', buckets: [1, 5, 20, 50, 100, 200, 500, 1000, 2000], registers: [registry] }),
    batchSeconds: new Histogram({ name: 'hadir_ingest_batch_seconds', help: 'Time to validate, store (one transaction) and ack a batch', buckets: [0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3], registers: [registry] }),
    mqttDenied: new Counter({ name: 'hadir_mqtt_denied_total', help: 'Embedded broker denials (connect, publish, subscribe)', labelNames: ['kind'], registers: [registry] }),
    mqttKicked: new Counter({ name: 'hadir_mqtt_kicked_total', help: 'Embedded broker: connected devices disconnected because they were disabled', registers: [registry] }),
    chainBreaks: new Counter({ name: 'hadir_punch_chain_breaks_total', help: "Punches stored whose prevHash does not follow the device's stored previous punch (wiped journal, replaced or forged kiosk)", registers: [registry] }),
    implausible: new Counter({ name: 'hadir_punch_implausible_time_total', help: 'Punches stored for review because their capture time is implausible (future, too old, or not their UUIDv7 time)', registers: [registry] }),
    devicesOnline: new Gauge({ name: 'hadir_devices_online', help: 'Devices whose retained status says online', registers: [registry] }),
  };
  // Pre-create the common labels so /metrics shows zeros (an alert on a missing series is awkward).
  for (const code of ['malformed_json', 'schema', 'oversized', 'wrong_topic', 'unknown_device', 'not_enrolled', 'disabled', 'bad_signature', 'replay_conflict', 'seq_conflict']) m.rejected.labels(code).inc(0);
  for (const kind of ['connect', 'publish', 'subscribe']) m.mqttDenied.labels(kind).inc(0);
  return m;
}
/**
 * prom-client's default metrics include three gauges named `…_total`
 * (`nodejs_active_{handles,requests,resources}_total`); Prometheus reserves `_total` for counters
 * and `promtool check metrics` rejects them. Each is re-registered as `…_all` (same value, read
 * from the original gauge at scrape time); the per-type gauges stay as they are.
 */
function renameTotalGauges(registry: Registry): void {
  for (const m of registry.getMetricsAsArray()) {
    const name = (m as unknown as { name: string }).name;
    if (!name.endsWith('_total') || !(m instanceof Gauge)) continue;
    const original = m as Gauge;
    registry.removeSingleMetric(name);
    new Gauge({
      name: name.replace(/_total$/, '_all'),
      help: `${(original as unknown as { help: string }).help} (was ${name})`,
      registers: [registry],
      async collect() {
        const v = (await original.get()).values[0]?.value ?? 0;
        this.set(v);
      },
    });
  }
}

export type CoreMetrics = ReturnType<typeof createCoreMetrics>;
