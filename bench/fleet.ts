import { EventEmitter } from 'node:events';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadPrivateKey, newIdAt } from '../protocol/index.js';
import { rootLogger } from '../lib/logger.js';
import { Journal } from '../kiosk/journal.js';
import { MqttLink } from '../kiosk/link.js';
import { Publisher, type PunchLink } from '../kiosk/publisher.js';
import { buildPunch } from '../kiosk/punch.js';
import { SystemClock } from '../kiosk/core-clock.js';
import type { KioskBus } from '../kiosk/extension-api.js';

/** One simulated kiosk: its enrolment (as `hadir device add --kiosk-config` writes it). */
export interface FleetKioskSpec {
  id: string;
  password: string;
  privateKeyPem: string;
}

export interface FleetSpec {
  /** Each kiosk's journal lives in dir/<id>/journal.db. */
  dir: string;
  url: string;
  prefix: string;
  kiosks: FleetKioskSpec[];
  /** Kiosk reconnect base delay (ms; the kiosk's default 2,000). */
  reconnectPeriodMs?: number;
}

/** A punch to journal: who, and when it was captured (ms since the epoch). */
export interface PlannedPunch {
  nip: string;
  atMs: number;
}

export interface FleetStats {
  kiosks: number;
  /** Kiosks whose link is up (connected and subscribed) now. */
  connected: number;
  /** Seconds from start() until every kiosk had connected once (null: not yet). */
  connectAllS: number | null;
  /** Punches journaled / acked by the hub (marked delivered in the journals). */
  journaled: number;
  acked: number;
  /** Seconds from start() until every journaled punch was acked (null: not yet). */
  drainS: number | null;
  resent: number;
  disconnects: number;
  ackP50Ms: number;
  ackP99Ms: number;
  ackMaxMs: number;
  /** Up to 5 kiosks not connected now, with their link state (diagnostics). */
  down: string[];
}

interface Kiosk {
  spec: FleetKioskSpec;
  journal: Journal;
  bus: KioskBus;
  link: MqttLink;
  publisher: Publisher;
  key: ReturnType<typeof loadPrivateKey>;
  up: boolean;
}

/**
 * Many kiosks in one process, each made of the kiosk's real parts — SQLite journal (WAL,
 * synchronous=FULL), MqttLink (persistent session, jittered reconnect backoff) and Publisher
 * (window of 500, ack-driven, re-send with backoff) — so a reconnect storm or a hub restart meets
 * exactly the behaviour of the field. Used by `hadir bench ingest --storm/--peak` (in a child
 * process, so the hub's memory and event loop are measured alone) and by the hub fault test.
 * Ack latency is measured per punch from its first publish to the hub's ack.
 */
export class Fleet {
  private readonly kiosks: Kiosk[] = [];
  private readonly clock = new SystemClock();
  private readonly firstSent = new Map<string, number>();
  private readonly latencies: number[] = [];
  private t0 = 0;
  private connectAllAt: number | null = null;
  private drainedAt: number | null = null;
  private everUp = 0;
  private journaled = 0;
  private acked = 0;
  private disconnects = 0;

  constructor(private readonly spec: FleetSpec) {
    for (const k of spec.kiosks) {
      const dir = join(spec.dir, k.id);
      mkdirSync(dir, { recursive: true });
      const journal = Journal.open(dir);
      this.journaled += journal.stats().undelivered;
      const bus = new EventEmitter() as KioskBus;
      bus.setMaxListeners(50);
      const log = rootLogger.child({ kiosk: k.id }, { level: 'error' });
      const link = new MqttLink({
        deviceId: k.id, url: spec.url, username: k.id, password: k.password, prefix: spec.prefix, appVersion: 'fleet', bootId: 'fleet-boot', log, bus,
        ...(spec.reconnectPeriodMs ? { reconnectPeriodMs: spec.reconnectPeriodMs } : {}),
      });
      const timed: PunchLink = {
        get connected() {
          return link.connected;
        },
        publishPunch: (json) => {
          const id = /"id":"([^"]+)"/.exec(json)?.[1];
          if (id && !this.firstSent.has(id)) this.firstSent.set(id, performance.now());
          return link.publishPunch(json);
        },
        on: (kind, h) => link.on(kind, h),
      };
      const publisher = new Publisher({ journal, link: timed, bus, log });
      const kiosk: Kiosk = { spec: k, journal, bus, link, publisher, key: loadPrivateKey(k.privateKeyPem), up: false };
      bus.on('mqtt:connected', () => {
        if (!kiosk.up) {
          kiosk.up = true;
          if (++this.everUp === this.kiosks.length) this.connectAllAt ??= performance.now();
        }
      });
      bus.on('mqtt:disconnected', () => void this.disconnects++);
      bus.on('punch:delivered', ({ ids }) => {
        const now = performance.now();
        for (const id of ids) {
          const t = this.firstSent.get(id);
          if (t === undefined) continue; // a repeated ack
          this.firstSent.delete(id);
          this.latencies.push(now - t);
          this.acked++;
        }
        if (this.acked >= this.journaled && this.drainedAt === null && this.t0) this.drainedAt = now;
      });
      this.kiosks.push(kiosk);
    }
  }

  /** Journals `n` punches on every kiosk before it connects (the backlog of an outage). Commits without fsync: set-up only. */
  journalBacklog(n: number): void {
    for (let i = 0; i < this.kiosks.length; i++) {
      const k = this.kiosks[i]!;
      k.journal.db.pragma('synchronous = OFF');
      const tx = k.journal.db.transaction(() => {
        for (let j = 0; j < n; j++) this.append(i, false);
      });
      tx();
      k.journal.db.pragma('synchronous = FULL');
    }
  }

  /**
   * Journals given punches (employee and capture time, in journal order) on each kiosk before it
   * connects: a kiosk that was offline delivers them later. The same input on every run (the fault
   * test compares two hubs' attendance). Commits without fsync: set-up only.
   */
  journalPlanned(plan: PlannedPunch[][]): void {
    plan.forEach((list, i) => {
      const k = this.kiosks[i]!;
      k.journal.db.pragma('synchronous = OFF');
      k.journal.db.transaction(() => {
        for (const p of list) this.append(i, false, p);
      })();
      k.journal.db.pragma('synchronous = FULL');
    });
  }

  /** One live punch at kiosk i (journaled with fsync, then published like a real one). */
  punch(i: number): void {
    this.append(i, true);
  }

  private append(i: number, live: boolean, planned?: PlannedPunch): void {
    const k = this.kiosks[i]!;
    const nip = planned?.nip ?? `19850312201001${String(1000 + Math.floor(Math.random() * 9000))}`;
    const s = this.clock.stamp();
    const stamp = { ...s, synced: true, source: 'chrony' as const, offsetMs: 0.2, ...(planned ? { capturedAt: new Date(planned.atMs).toISOString() } : {}) };
    // the UUIDv7 time is the capture time, as on a kiosk (the hub checks they agree)
    const id = planned ? newIdAt(planned.atMs) : undefined;
    const r = k.journal.append(nip, () => null, (head) => buildPunch({ deviceId: k.spec.id, head, stamp, identification: { nip, method: 'face', score: 0.8, liveness: 0.95 }, id }, k.key), new Date().toISOString());
    if (r.kind !== 'recorded') return;
    this.journaled++;
    this.drainedAt = null;
    if (live) k.bus.emit('punch:journaled', { id: r.punch.id, seq: r.punch.seq, nip, capturedAt: r.punch.capturedAt });
  }

  /** Every kiosk connects now (all at once: the reconnect storm), or spread over `spreadMs`. */
  start(spreadMs = 0): void {
    this.t0 = performance.now();
    this.kiosks.forEach((k, i) => {
      const go = () => (k.link.start(), k.publisher.start());
      if (spreadMs > 0) setTimeout(go, (spreadMs * i) / this.kiosks.length);
      else go();
    });
  }

  /** Counts and ack latencies since start() (latencies: of punches acked since the last resetLatencies()). */
  stats(): FleetStats {
    const l = [...this.latencies].sort((a, b) => a - b);
    const q = (p: number) => (l.length ? Number(l[Math.min(l.length - 1, Math.floor(p * l.length))]!.toFixed(1)) : 0);
    const s = (t: number | null) => (t === null ? null : Number(((t - this.t0) / 1000).toFixed(3)));
    return {
      kiosks: this.kiosks.length,
      connected: this.kiosks.filter((k) => k.link.connected).length,
      connectAllS: s(this.connectAllAt),
      journaled: this.journaled,
      acked: this.acked,
      drainS: s(this.drainedAt),
      resent: this.kiosks.reduce((a, k) => a + k.publisher.counters.resent, 0),
      disconnects: this.disconnects,
      ackP50Ms: q(0.5),
      ackP99Ms: q(0.99),
      ackMaxMs: l.length ? Number(l[l.length - 1]!.toFixed(1)) : 0,
      down: this.kiosks.filter((k) => !k.link.connected).slice(0, 5).map((k) => `${k.spec.id}: ${k.link.state().detail ?? '?'} (in flight ${k.publisher.inFlightCount}, undelivered ${k.journal.stats().undelivered})`),
    };
  }

  resetLatencies(): void {
    this.latencies.length = 0;
  }

  /** Undelivered punches left in all journals (0 = everything acked). */
  undelivered(): number {
    return this.kiosks.reduce((a, k) => a + k.journal.stats().undelivered, 0);
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.kiosks.map(async (k) => {
        k.publisher.stop();
        await k.link.stop();
        k.journal.close();
      }),
    );
  }
}
