import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KioskContext, KioskEvents, KioskExtension } from '../extension-api.js';
import type { ClockConfig } from './config.js';
import { HubTimeEstimator, httpExchange } from './hub-time.js';
import { probeClock } from './probe.js';
import { monotonicMs, readBootId, TrustedClock, type ReconstructedStamp } from './service.js';
import type { ClockState } from './state.js';
import type { Clock } from '../../lib/clock.js';

/** File (in the data dir) where reconstructed true times of unsynced punches are appended, one JSON per line. */
export const RECONSTRUCTIONS_FILE = 'clock-reconstructions.jsonl';

export interface ClockExtensionDeps {
  probe?: () => Promise<ClockState>;
  bootId?: string;
  now?: Clock;
  mono?: () => number;
  /** The hub exchange (tests); default GET {hubUrl}/api/v1/kiosk/time. */
  hubExchange?: () => Promise<{ t2: number; t3: number }>;
}

/**
 * Trusted time: installs a TrustedClock (chrony → timesyncd → system) as the kiosk's ClockService,
 * polls it, watches for clock jumps, and when the clock first syncs in a boot, reconstructs the
 * true time of the punches stamped before — logged and written to clock-reconstructions.jsonl.
 * The signed punches themselves are never changed; the hub makes the same reconstruction as a
 * suggestion for the admin's review.
 */
export class ClockExtension implements KioskExtension {
  readonly name = 'clock';
  clock: TrustedClock | null = null;
  private timers: NodeJS.Timeout[] = [];
  /** Unsynced punches journaled in this boot, by capturedAt → punch id/seq (to name them in the reconstruction). */
  private unsyncedPunches = new Map<string, { id: string; seq: number; nip: string }>();
  private readonly cfg: ClockConfig;
  private readonly onJournaled = (p: KioskEvents['punch:journaled'][0]) => {
    if (this.clock && !this.clock.status().synced) {
      this.unsyncedPunches.set(p.capturedAt, { id: p.id, seq: p.seq, nip: p.nip });
      if (this.unsyncedPunches.size > 10_000) this.unsyncedPunches.delete(this.unsyncedPunches.keys().next().value!);
    }
  };

  constructor(private readonly ctx: KioskContext, private readonly deps: ClockExtensionDeps = {}) {
    this.cfg = ctx.config.clock;
  }

  async start(): Promise<void> {
    if (!this.cfg.enabled) {
      this.ctx.log.info('trusted clock disabled in config (clock.enabled=false): punches use the core clock');
      return;
    }
    const log = this.ctx.log.child({ component: 'clock' });
    const daemon = this.deps.probe ?? (() => probeClock(this.cfg));
    const clock = new TrustedClock({
      bootId: this.deps.bootId ?? readBootId(),
      probe: this.cfg.hub.enabled ? () => this.probeWithHub(daemon, log) : daemon,
      jumpThresholdMs: this.cfg.jumpThresholdMs,
      now: this.deps.now ?? this.ctx.now,
      ...(this.deps.mono ? { mono: this.deps.mono } : {}),
    });
    this.clock = clock;
    let last: ClockState | null = null;
    clock.on('state', (s) => {
      // Log transitions only (synced ↔ unsynced, daemon change), not every poll.
      if (!last || last.synced !== s.synced || last.source !== s.source) log.info({ clock: s }, s.detail);
      last = s;
    });
    clock.on('jump', (j) => {
      const msg = j.kind === 'sync_step' ? 'clock stepped at first sync (expected after boot)' : 'CLOCK JUMP: the wall clock was stepped while synchronised (tampering or bad NTP?)';
      (j.kind === 'sync_step' ? log.info.bind(log) : log.warn.bind(log))({ deltaMs: Math.round(j.deltaMs), kind: j.kind }, msg);
    });
    clock.on('reconstructed', (list) => this.recordReconstructions(list, log));
    this.ctx.bus.on('punch:journaled', this.onJournaled);
    await this.refresh(log);
    this.ctx.setClock(clock);
    this.timers.push(setInterval(() => void this.refresh(log), this.cfg.pollS * 1000).unref());
    this.timers.push(setInterval(() => clock.tick(), 1000).unref());
    clock.tick();
  }

  private hubTime: HubTimeEstimator | null = null;
  private hubNextMono = 0;

  /**
   * chrony/timesyncd first; when neither is synced (UDP 123 blocked, no daemon) the hub's time over
   * HTTP, re-measured every `hub.everyS`. Synced only while the bound is within `maxErrorMs`.
   */
  private async probeWithHub(daemon: () => Promise<ClockState>, log: KioskContext['log']): Promise<ClockState> {
    const d = await daemon();
    if (d.synced) return d;
    const mono = this.deps.mono ?? monotonicMs;
    this.hubTime ??= new HubTimeEstimator({
      exchange: this.deps.hubExchange ?? httpExchange(this.ctx.hub),
      now: this.deps.now ?? this.ctx.now,
      mono,
    });
    if (mono() >= this.hubNextMono) {
      try {
        const s = await this.hubTime.sample();
        this.hubNextMono = mono() + this.cfg.hub.everyS * 1000;
        log.debug({ offsetMs: Math.round(s.offsetMs), errorMs: Math.round(s.errorMs) }, 'hub time sampled');
      } catch (e) {
        // Retry sooner than everyS, but not on every poll of a dead link.
        this.hubNextMono = mono() + Math.min(60, this.cfg.hub.everyS) * 1000;
        log.debug({ err: (e as Error).message }, 'hub time unavailable');
      }
    }
    const h = this.hubTime.current();
    if (!h) return { ...d, detail: `${d.detail}; waktu hub belum didapat / no hub time yet`.slice(0, 300) };
    const synced = h.errorMs <= this.cfg.maxErrorMs;
    const off = Math.round(h.offsetMs);
    const err = Math.ceil(h.errorMs);
    return {
      synced,
      source: 'hub',
      offsetMs: off,
      maxErrorMs: h.errorMs,
      atMonoMs: mono(),
      detail: synced
        ? `waktu dari hub, selisih ${off} ms ± ${err} ms / time from the hub, offset ${off} ms ± ${err} ms`
        : `waktu hub kurang pasti (± ${err} ms > ${this.cfg.maxErrorMs} ms) / hub time too uncertain`,
    };
  }

  async refresh(log = this.ctx.log): Promise<void> {
    try {
      await this.clock?.refresh();
    } catch (e) {
      log.warn({ err: (e as Error).message }, 'clock probe failed');
    }
  }

  private recordReconstructions(list: ReconstructedStamp[], log: KioskContext['log']): void {
    const at = new Date((this.deps.now ?? this.ctx.now)()).toISOString();
    const lines = list.map((r) => {
      const punch = this.unsyncedPunches.get(r.capturedAt);
      return JSON.stringify({ ...(punch ? { punchId: punch.id, seq: punch.seq, nip: punch.nip } : {}), ...r, reconstructedAt: at });
    });
    const punches = list.filter((r) => this.unsyncedPunches.has(r.capturedAt)).length;
    this.unsyncedPunches.clear();
    try {
      appendFileSync(join(this.ctx.dataDir, RECONSTRUCTIONS_FILE), lines.join('\n') + '\n');
    } catch (e) {
      log.warn({ err: (e as Error).message }, 'could not write clock reconstructions');
    }
    if (punches > 0) {
      log.info({ punches, file: RECONSTRUCTIONS_FILE }, `jam tersinkron: waktu sebenarnya ${punches} presensi direkonstruksi / clock synced: true time of ${punches} punches taken before sync reconstructed`);
    }
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    this.ctx.bus.off('punch:journaled', this.onJournaled);
  }
}

export function createClockExtension(ctx: KioskContext): KioskExtension {
  return new ClockExtension(ctx);
}
