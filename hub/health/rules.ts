import { z } from 'zod';
import type { Health } from '../../protocol/index.js';

/**
 * Alert rules (configurable; stored in health_alert_rules, edited through the API) and the pure
 * evaluation: data in, the set of alert conditions out. No I/O and no clock reads.
 */
const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'HH:MM');

export const alertRulesSchema = z.strictObject({
  workingHours: z
    .strictObject({
      /** 0 = Sunday … 6 = Saturday. */
      days: z.array(z.number().int().min(0).max(6)).default([1, 2, 3, 4, 5, 6]),
      from: hhmm.default('06:00'),
      to: hhmm.default('18:00'),
      /** Local time of the regency: WIB +420, WITA +480, WIT +540. */
      utcOffsetMin: z.number().int().min(-720).max(840).default(420),
    })
    .prefault({}),
  offline: z.strictObject({ enabled: z.boolean().default(true), afterMin: z.number().min(1).default(15) }).prefault({}),
  clockDrift: z.strictObject({ enabled: z.boolean().default(true), limitMs: z.number().positive().default(2000) }).prefault({}),
  clockUnsynced: z.strictObject({ enabled: z.boolean().default(true), afterMin: z.number().min(0).default(10) }).prefault({}),
  backlog: z
    .strictObject({
      enabled: z.boolean().default(true),
      /** Undelivered count rising across health messages for at least this long. */
      growingForMin: z.number().min(1).default(15),
      /** …or the oldest undelivered punch older than this while the kiosk is online. */
      oldestMin: z.number().min(1).default(60),
    })
    .prefault({}),
  disk: z.strictObject({ enabled: z.boolean().default(true), minFreePct: z.number().min(0).max(100).default(10) }).prefault({}),
  temperature: z.strictObject({ enabled: z.boolean().default(true), maxC: z.number().default(80), throttling: z.boolean().default(true) }).prefault({}),
  sensorFault: z.strictObject({ enabled: z.boolean().default(true) }).prefault({}),
});
export type AlertRules = z.output<typeof alertRulesSchema>;
export const DEFAULT_RULES: AlertRules = alertRulesSchema.parse({});

export const ALERT_KINDS = ['offline', 'clock_drift', 'clock_unsynced', 'clock_jump', 'backlog_growing', 'disk_low', 'temperature', 'throttling', 'sensor_fault'] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];

export interface AlertCondition {
  kind: AlertKind;
  severity: 'warning' | 'critical';
  detail: string;
}

export interface HealthSample {
  receivedAtMs: number;
  undelivered: number;
}

export interface DeviceHealthView {
  deviceId: string;
  online: boolean;
  /** When the hub last saw the status change (online/offline), ms. */
  statusAtMs: number | null;
  /** Latest health message and when it arrived. */
  latest: { body: Health; receivedAtMs: number } | null;
  /** Hub's clock-offset estimate (ms, positive = kiosk ahead), null when unknown. */
  estOffsetMs: number | null;
  /** Recent samples, oldest first (for the backlog trend). */
  recent: HealthSample[];
  /** Since when the kiosk has reported an unsynced clock (ms), null when synced. */
  unsyncedSinceMs: number | null;
}

export function inWorkingHours(rules: AlertRules, nowMs: number): boolean {
  const wh = rules.workingHours;
  const local = new Date(nowMs + wh.utcOffsetMin * 60_000);
  if (!wh.days.includes(local.getUTCDay())) return false;
  const min = local.getUTCHours() * 60 + local.getUTCMinutes();
  const [fh, fm] = wh.from.split(':').map(Number) as [number, number];
  const [th, tm] = wh.to.split(':').map(Number) as [number, number];
  return min >= fh * 60 + fm && min < th * 60 + tm;
}

const THROTTLED_NOW: [number, string][] = [[0, 'tegangan kurang / under-voltage'], [1, 'frekuensi dibatasi / frequency capped'], [2, 'throttled'], [3, 'batas suhu / soft temperature limit']];

/**
 * Which alert conditions hold for a device right now. Offline alerts are only RAISED in working
 * hours (offices are switched off at night); an offline alert already open stays until the device
 * is back.
 */
export function evaluateAlerts(rules: AlertRules, d: DeviceHealthView, nowMs: number, openKinds: ReadonlySet<AlertKind> = new Set()): AlertCondition[] {
  const out: AlertCondition[] = [];
  const min = (ms: number) => Math.round(ms / 60_000);
  const lastAlive = d.online ? d.latest?.receivedAtMs ?? d.statusAtMs : d.statusAtMs ?? d.latest?.receivedAtMs;
  const silentMs = lastAlive == null ? null : nowMs - lastAlive;
  const offline = silentMs !== null && silentMs > rules.offline.afterMin * 60_000;
  if (rules.offline.enabled && offline && (openKinds.has('offline') || inWorkingHours(rules, nowMs))) {
    out.push({ kind: 'offline', severity: 'critical', detail: `tidak ada kabar ${min(silentMs!)} menit / silent for ${min(silentMs!)} min${d.online ? ' (status online, no health)' : ''}` });
  }
  const h = d.latest?.body;
  // Everything below describes the kiosk's last report; a stale report is covered by `offline`.
  if (!h || offline) return out;
  if (rules.clockDrift.enabled && d.estOffsetMs !== null && Math.abs(d.estOffsetMs) > rules.clockDrift.limitMs) {
    out.push({ kind: 'clock_drift', severity: 'warning', detail: `jam kiosk selisih ${(d.estOffsetMs / 1000).toFixed(1)} s dari hub / kiosk clock off by ${(d.estOffsetMs / 1000).toFixed(1)} s (limit ${rules.clockDrift.limitMs / 1000} s; kiosk reports ${h.clock?.offsetMs ?? '?'} ms via ${h.clock?.source ?? '?'})` });
  }
  if (rules.clockUnsynced.enabled && d.unsyncedSinceMs !== null && nowMs - d.unsyncedSinceMs >= rules.clockUnsynced.afterMin * 60_000) {
    out.push({ kind: 'clock_unsynced', severity: 'warning', detail: `jam belum tersinkron sejak ${min(nowMs - d.unsyncedSinceMs)} menit / clock unsynchronised for ${min(nowMs - d.unsyncedSinceMs)} min (${h.clock?.source ?? '?'})` });
  }
  if (h.clock?.jumpDetected) out.push({ kind: 'clock_jump', severity: 'critical', detail: 'jam kiosk melompat / the kiosk clock was stepped while synchronised (tampering or bad NTP?)' });
  if (rules.backlog.enabled) {
    const growing = backlogGrowingForMs(d.recent);
    const oldest = h.backlog.oldestUndeliveredAt ? nowMs - Date.parse(h.backlog.oldestUndeliveredAt) : 0;
    if (growing >= rules.backlog.growingForMin * 60_000) {
      out.push({ kind: 'backlog_growing', severity: 'warning', detail: `antrean naik ${min(growing)} menit, ${h.backlog.undelivered} belum terkirim / backlog growing for ${min(growing)} min, ${h.backlog.undelivered} undelivered` });
    } else if (d.online && h.backlog.undelivered > 0 && oldest > rules.backlog.oldestMin * 60_000) {
      out.push({ kind: 'backlog_growing', severity: 'warning', detail: `presensi tertua belum terkirim ${min(oldest)} menit / oldest undelivered punch is ${min(oldest)} min old (${h.backlog.undelivered} waiting)` });
    }
  }
  const s = h.system;
  if (rules.disk.enabled && s?.diskFreePct !== undefined && s.diskFreePct < rules.disk.minFreePct) {
    out.push({ kind: 'disk_low', severity: s.diskFreePct < rules.disk.minFreePct / 2 ? 'critical' : 'warning', detail: `disk tersisa ${s.diskFreePct}% / ${s.diskFreePct}% free (${s.diskFreeMb ?? '?'} MB)` });
  }
  if (rules.temperature.enabled && s?.cpuTempC !== undefined && s.cpuTempC >= rules.temperature.maxC) {
    out.push({ kind: 'temperature', severity: 'warning', detail: `suhu CPU ${s.cpuTempC} °C / CPU temperature ${s.cpuTempC} °C (limit ${rules.temperature.maxC})` });
  }
  if (rules.temperature.enabled && rules.temperature.throttling && s?.throttled) {
    const v = parseInt(s.throttled, 16);
    const now = THROTTLED_NOW.filter(([bit]) => v & (1 << bit)).map(([, n]) => n);
    if (now.length) out.push({ kind: 'throttling', severity: v & 1 ? 'critical' : 'warning', detail: `${now.join(', ')} (${s.throttled})` });
  }
  if (rules.sensorFault.enabled && h.components) {
    const faults = Object.entries(h.components).filter(([, c]) => c.state === 'fault');
    if (faults.length) out.push({ kind: 'sensor_fault', severity: 'critical', detail: faults.map(([n, c]) => `${n}: ${c.detail ?? 'fault'}`).join('; ').slice(0, 500) });
  }
  return out;
}

/** How long the undelivered count has been rising without ever falling (ms), from the newest sample back. */
export function backlogGrowingForMs(samples: readonly HealthSample[]): number {
  if (samples.length < 2) return 0;
  let i = samples.length - 1;
  while (i > 0 && samples[i]!.undelivered >= samples[i - 1]!.undelivered) i--;
  const first = samples[i]!;
  const last = samples[samples.length - 1]!;
  return last.undelivered > first.undelivered ? last.receivedAtMs - first.receivedAtMs : 0;
}

/**
 * The hub's estimate of a kiosk's clock offset from its health messages: each gives
 * `at − receivedAt` = offset − transit delay. Delay is never negative, so the largest value of
 * recent samples is the one least disturbed by the network (the same min-delay idea NTP uses).
 */
export function estimateOffsetMs(samples: readonly { atMs: number; receivedAtMs: number }[]): number | null {
  if (samples.length === 0) return null;
  return Math.max(...samples.map((s) => s.atMs - s.receivedAtMs));
}
