import { ackSchema, decodePayload } from '../protocol/index.js';
import type { Logger } from '../lib/logger.js';
import { iso, systemClock, type Clock } from '../lib/clock.js';
import type { KioskBus } from './extension-api.js';
import type { Journal } from './journal.js';

/** What the publisher needs from the MQTT link (kiosk/link.ts MqttLink). */
export interface PunchLink {
  readonly connected: boolean;
  publishPunch(json: string): Promise<void>;
  on(kind: 'ack', handler: (payload: Buffer) => void): void;
}

export interface PublisherOptions {
  journal: Journal;
  link: PunchLink;
  bus: KioskBus;
  log: Logger;
  /** Punches sent but not yet acked by the hub, at most. Bounds memory and the broker's queue. */
  window?: number;
  /** First re-send after this long without an ack; doubles per attempt (with jitter) up to maxBackoffMs. */
  ackTimeoutMs?: number;
  maxBackoffMs?: number;
  /** Injected for tests — defaults to the system clock / Math.random. */
  now?: Clock;
  random?: () => number;
}

/** Punches in flight (sent, not acked) per kiosk by default. `hadir bench ingest` uses the same. */
export const DEFAULT_PUBLISH_WINDOW = 500;
/** First re-send of an unacked punch after this long; then doubling, with jitter, up to DEFAULT_MAX_BACKOFF_MS. */
export const DEFAULT_ACK_TIMEOUT_MS = 10_000;
export const DEFAULT_MAX_BACKOFF_MS = 60_000;

/** When attempt `attempt` (1 = the first send) of an unacked punch is re-sent: ±20 % jitter. `hadir bench ingest` re-sends the same way. */
export function resendBackoff(attempt: number, ackTimeoutMs: number, maxBackoffMs: number, random: () => number): number {
  const base = Math.min(maxBackoffMs, ackTimeoutMs * 2 ** (attempt - 1));
  return Math.round(base * (0.8 + 0.4 * random()));
}

interface InFlight {
  seq: number;
  json: string;
  attempts: number;
  dueAt: number;
}

/**
 * Sends undelivered punches in seq order with a bounded in-flight window and marks them delivered
 * ONLY on the hub's application ack (never on PUBACK: a broker that accepts and then drops a
 * publish must only delay a punch). Unacked punches are re-sent after a timeout with exponential
 * backoff and jitter; after a reconnect everything undelivered is sent again from the journal, so
 * restarts, crashes and a week offline all resume from the same place: the journal.
 */
export class Publisher {
  private readonly inFlight = new Map<string, InFlight>();
  /** Highest seq handed to MQTT since the last (re)connect. */
  private cursor = 0;
  private timer: NodeJS.Timeout | null = null;
  private readonly window: number;
  private readonly ackTimeoutMs: number;
  private readonly maxBackoffMs: number;
  private readonly now: Clock;
  private readonly random: () => number;
  private readonly offs: (() => void)[] = [];
  /** Counters for health and tests. */
  readonly counters = { sent: 0, resent: 0, acked: 0, rejected: 0, badAcks: 0 };

  constructor(private readonly o: PublisherOptions) {
    this.window = o.window ?? DEFAULT_PUBLISH_WINDOW;
    this.ackTimeoutMs = o.ackTimeoutMs ?? DEFAULT_ACK_TIMEOUT_MS;
    this.maxBackoffMs = o.maxBackoffMs ?? DEFAULT_MAX_BACKOFF_MS;
    this.now = o.now ?? systemClock;
    this.random = o.random ?? Math.random;
  }

  start(): void {
    const { bus, link } = this.o;
    link.on('ack', (payload) => this.onAck(payload));
    const onJournaled = () => this.pump();
    const onConnected = () => {
      this.resetInFlight();
      this.pump();
    };
    const onDisconnected = () => this.resetInFlight();
    bus.on('punch:journaled', onJournaled);
    bus.on('mqtt:connected', onConnected);
    bus.on('mqtt:disconnected', onDisconnected);
    this.offs.push(
      () => bus.off('punch:journaled', onJournaled),
      () => bus.off('mqtt:connected', onConnected),
      () => bus.off('mqtt:disconnected', onDisconnected),
    );
    this.timer = setInterval(() => this.resendDue(), 500);
    this.timer.unref();
    this.pump();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    for (const off of this.offs.splice(0)) off();
  }

  get inFlightCount(): number {
    return this.inFlight.size;
  }

  /** Fills the window with the next undelivered punches (seq order). */
  pump(): void {
    const { link, journal } = this.o;
    while (link.connected) {
      const room = this.window - this.inFlight.size;
      if (room <= 0) return;
      const batch = journal.pendingRaw(this.cursor, room);
      if (batch.length === 0) return;
      for (const p of batch) {
        const json = p.json;
        this.cursor = p.seq;
        const entry: InFlight = { seq: p.seq, json, attempts: 1, dueAt: this.now() + this.backoff(1) };
        this.inFlight.set(p.id, entry);
        this.counters.sent++;
        this.send(json);
      }
    }
  }

  private send(json: string): void {
    // PUBACK is not delivery; a failed publish (connection dropped) is re-sent on reconnect or timeout.
    this.o.link.publishPunch(json).catch(() => {});
  }

  private backoff(attempt: number): number {
    return resendBackoff(attempt, this.ackTimeoutMs, this.maxBackoffMs, this.random);
  }

  /** Re-sends punches whose ack is overdue (hub down, broker dropped them, ack lost). */
  resendDue(): void {
    if (!this.o.link.connected) return;
    const t = this.now();
    for (const e of this.inFlight.values()) {
      if (e.dueAt > t) continue;
      e.attempts++;
      e.dueAt = t + this.backoff(e.attempts);
      this.counters.resent++;
      this.send(e.json);
    }
  }

  private resetInFlight(): void {
    this.inFlight.clear();
    this.cursor = 0;
  }

  onAck(payload: Buffer): void {
    const { journal, bus, log } = this.o;
    const d = decodePayload(ackSchema, payload, 4 * 1024 * 1024);
    if (!d.ok) {
      this.counters.badAcks++;
      log.warn({ reason: d.reason }, 'ack ignored');
      return;
    }
    const ack = d.value;
    const at = iso(this.now);
    const delivered = journal.markDelivered(ack.ids, at);
    for (const id of ack.ids) this.inFlight.delete(id);
    this.counters.acked += delivered;
    if (ack.rejected?.length) {
      const n = journal.markRejected(ack.rejected);
      this.counters.rejected += n;
      for (const r of ack.rejected) {
        this.inFlight.delete(r.id);
        log.error({ id: r.id, reason: r.reason }, 'hub rejected punch for good; kept in the journal, not re-sent');
      }
    }
    bus.emit('punch:delivered', { ids: ack.ids, contiguousSeq: ack.contiguousSeq });
    this.pump();
  }
}
