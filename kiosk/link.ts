import mqtt, { type MqttClient } from 'mqtt';
import { Topics, type ComponentState, type Status, type TopicKind } from '../protocol/index.js';
import type { Logger } from '../lib/logger.js';
import { iso, systemClock, type Clock } from '../lib/clock.js';
import type { KioskBus, KioskLink } from './extension-api.js';
import type { HealthReporter } from './types.js';

export interface LinkOptions {
  deviceId: string;
  url: string;
  username: string;
  password: string;
  prefix: string;
  appVersion: string;
  bootId: string;
  log: Logger;
  bus: KioskBus;
  /** First reconnect delay (ms); doubles per failed attempt up to maxReconnectMs, ±50 % jitter. mqtt.js retries forever. */
  reconnectPeriodMs?: number;
  maxReconnectMs?: number;
  /** Injected for tests — defaults to Math.random. */
  random?: () => number;
  /** Stamps the birth message (default: the system clock). */
  now?: Clock;
}

/** Reconnect delays: the first after reconnectPeriodMs (2 s), doubling per failed attempt up to this (±50 %): a kiosk is back at most ~22 s after its hub. */
export const MAX_RECONNECT_MS = 15_000;

/**
 * The delay before reconnect attempt `attempt` (0 = the first after a loss): exponential, capped,
 * with ±50 % jitter, so a fleet that lost the hub at the same instant does not come back in
 * lock-step — a restarted hub sees its 500 kiosks spread over seconds instead of all at once every
 * 2 s (issue 16, the reconnect storm).
 */
export function reconnectDelay(attempt: number, baseMs: number, maxMs: number, random: () => number): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 20));
  return Math.max(1, Math.round(ceiling * (0.5 + random())));
}

type InKind = 'ack' | 'config' | 'cmd';

/**
 * The kiosk's one MQTT connection (mqtt.js, MQTT 3.1.1 because aedes speaks no MQTT 5).
 * Persistent session (clean:false, clientId = deviceId) so acks and commands sent while the kiosk
 * was away are waiting for it; retained birth on every connect and a retained LWT `{online:false}`
 * on the status topic. Subscribes to ack/config/cmd at QoS 1 on every connect (a broker that lost
 * the session still delivers).
 */
export class MqttLink implements KioskLink, HealthReporter {
  readonly component = 'mqtt';
  readonly topics: Topics;
  private client: MqttClient | null = null;
  private readonly handlers = new Map<InKind, ((payload: Buffer) => void)[]>();
  private lastError: string | null = null;
  private wasUp = false;
  private ready = false;
  /** Failed reconnect attempts since the last successful connect. */
  private attempts = 0;

  constructor(private readonly o: LinkOptions) {
    this.topics = new Topics(o.prefix);
  }

  /** Connected AND subscribed (ack/config/cmd): only then is sending punches useful. */
  get connected(): boolean {
    return this.ready && !!this.client?.connected;
  }

  start(): void {
    const { o } = this;
    const statusTopic = this.topics.status(o.deviceId);
    const client = mqtt.connect(o.url, {
      protocolVersion: 4,
      clean: false,
      clientId: o.deviceId,
      username: o.username,
      password: o.password,
      keepalive: 30,
      reconnectPeriod: o.reconnectPeriodMs ?? 2000,
      // A refused login (device disabled at the hub, broker password file not yet reloaded) must not
      // end the retries: mqtt.js stops reconnecting after a CONNACK error unless told otherwise.
      reconnectOnConnackError: true,
      connectTimeout: 10_000,
      // Punches are paced by the publisher's window; never let mqtt.js buffer an unbounded offline queue.
      queueQoSZero: false,
      will: { topic: statusTopic, payload: Buffer.from(JSON.stringify({ online: false } satisfies Status)), qos: 1, retain: true },
    });
    this.client = client;
    // mqtt.js schedules the next attempt in its own 'close' listener with options.reconnectPeriod;
    // ours runs first (prepended) and sets a new jittered, growing delay for that attempt.
    client.prependListener('close', () => {
      client.options.reconnectPeriod = reconnectDelay(this.attempts++, o.reconnectPeriodMs ?? 2000, o.maxReconnectMs ?? MAX_RECONNECT_MS, o.random ?? Math.random);
    });
    client.on('connect', () => {
      this.attempts = 0;
      this.lastError = null;
      const birth: Status = { online: true, at: iso(o.now ?? systemClock), appVersion: o.appVersion, bootId: o.bootId };
      client.publish(statusTopic, JSON.stringify(birth), { qos: 1, retain: true });
      const subs = (['ack', 'config', 'cmd'] as const).map((k) => this.topics.kiosk(o.deviceId, k));
      // Tell the publisher only after SUBACK: acks for punches sent earlier could otherwise be
      // missed on a broker that lost our session (they would then wait for the re-send timeout).
      client.subscribe(subs, { qos: 1 }, (err) => {
        if (err) o.log.warn({ err: err.message }, 'subscribe failed');
        if (!client.connected) return;
        o.log.info({ url: o.url }, 'mqtt connected');
        this.wasUp = true;
        this.ready = true;
        o.bus.emit('mqtt:connected');
      });
    });
    client.on('close', () => {
      this.ready = false;
      if (this.wasUp) o.bus.emit('mqtt:disconnected');
      this.wasUp = false;
    });
    client.on('error', (err) => {
      if (this.lastError !== err.message) o.log.warn({ err: err.message }, 'mqtt error');
      this.lastError = err.message;
    });
    client.on('message', (topic, payload) => {
      const p = this.topics.parse(topic);
      if (!p || p.deviceId !== o.deviceId) return;
      for (const h of this.handlers.get(p.kind as InKind) ?? []) {
        try {
          h(payload);
        } catch (e) {
          o.log.error({ err: (e as Error).message, kind: p.kind }, 'message handler failed');
        }
      }
    });
  }

  /** Handlers for incoming messages: ack is for the publisher; config and cmd are for features. */
  on(kind: InKind, handler: (payload: Buffer) => void): void {
    this.handlers.set(kind, [...(this.handlers.get(kind) ?? []), handler]);
  }

  subscribe(kind: Extract<TopicKind, 'cmd' | 'config'>, handler: (payload: Buffer) => void): void {
    this.on(kind, handler);
  }

  publish(kind: Extract<TopicKind, 'status' | 'health' | 'cmdres'>, payload: unknown, opts: { qos?: 0 | 1; retain?: boolean } = {}): Promise<void> {
    return this.send(this.topics.kiosk(this.o.deviceId, kind), JSON.stringify(payload), opts.qos ?? 1, opts.retain ?? false);
  }

  /**
   * Publishes one punch at QoS 1. Resolves on PUBACK — which only means the broker has it; the
   * publisher waits for the hub's application ack before marking it delivered.
   */
  publishPunch(json: string): Promise<void> {
    return this.send(this.topics.punch(this.o.deviceId), json, 1, false);
  }

  private send(topic: string, payload: string, qos: 0 | 1, retain: boolean): Promise<void> {
    const c = this.client;
    if (!c || !c.connected) return Promise.reject(new Error('mqtt not connected'));
    return new Promise((resolve, reject) => c.publish(topic, payload, { qos, retain }, (err) => (err ? reject(err) : resolve())));
  }

  state(): ComponentState {
    if (this.connected) return { state: 'ok' };
    return { state: 'fault', detail: `tidak terhubung ke broker / not connected${this.lastError ? `: ${this.lastError}` : ''}` };
  }

  /** Clean shutdown: publish `{online:false}` ourselves (the LWT only fires on unclean loss). */
  async stop(): Promise<void> {
    const c = this.client;
    if (!c) return;
    this.client = null;
    this.ready = false;
    const within = (p: Promise<unknown>, ms: number) => Promise.race([p, new Promise((r) => setTimeout(r, ms).unref())]);
    if (c.connected) {
      const offline = new Promise<void>((r) => c.publish(this.topics.status(this.o.deviceId), JSON.stringify({ online: false } satisfies Status), { qos: 1, retain: true }, () => r()));
      await within(offline, 2000);
    }
    // A broker that went away mid-shutdown must not keep the process alive.
    await within(c.endAsync(), 2000);
    if (!c.disconnected) await c.endAsync(true).catch(() => {});
  }
}
