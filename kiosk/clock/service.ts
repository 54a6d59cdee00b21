import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import type { ComponentState } from '../../protocol/index.js';
import type { ClockService, ClockStamp } from '../types.js';
import type { ClockState } from './state.js';
import { JumpDetector, type ClockJump } from './jump.js';
import { reconstructTrueTime } from '../../clock/reconstruct.js';
import { systemClock, type Clock } from '../../lib/clock.js';

/** Monotonic ms since boot: Node's hrtime is CLOCK_MONOTONIC on Linux, comparable across processes of one boot. */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint() / 1000n) / 1000;
}

export function readBootId(path = '/proc/sys/kernel/random/boot_id'): string {
  try {
    return readFileSync(path, 'utf8').trim() || 'unknown';
  } catch {
    return 'unknown';
  }
}

export interface UnsyncedStamp {
  capturedAt: string;
  bootId: string;
  monoMs: number;
}
export interface ReconstructedStamp extends UnsyncedStamp {
  trueAt: string;
  spanMs: number;
}

export interface TrustedClockEvents {
  state: [ClockState];
  jump: [ClockJump];
  /** The clock became synced in the same boot: the true times of the stamps handed out before. */
  reconstructed: [ReconstructedStamp[]];
}

export interface TrustedClockDeps {
  bootId: string;
  probe: () => Promise<ClockState>;
  jumpThresholdMs: number;
  now?: Clock;
  mono?: () => number;
}

/** Stamps kept for reconstruction; beyond this the oldest are dropped (the hub can still reconstruct). */
const MAX_PENDING = 10_000;
/** A jump is shown in health/component state for this long. */
const JUMP_VISIBLE_MS = 60 * 60 * 1000;

/**
 * The trusted ClockService: stamp() is synchronous and cheap (the state is refreshed in the
 * background by refresh()), so a punch is never delayed by chronyc.
 */
export class TrustedClock extends EventEmitter<TrustedClockEvents> implements ClockService {
  readonly component = 'clock';
  private current: ClockState = { synced: false, source: 'system', detail: 'belum diperiksa / not probed yet' };
  private readonly jumps: JumpDetector;
  private lastJump: ClockJump | null = null;
  private pending: UnsyncedStamp[] = [];
  private readonly now: Clock;
  private readonly mono: () => number;

  constructor(private readonly deps: TrustedClockDeps) {
    super();
    this.now = deps.now ?? systemClock;
    this.mono = deps.mono ?? monotonicMs;
    this.jumps = new JumpDetector(deps.jumpThresholdMs);
  }

  get bootId(): string {
    return this.deps.bootId;
  }

  status(): ClockState & { jumpDetected: boolean; lastJump: ClockJump | null } {
    return { ...this.current, jumpDetected: this.recentJump() !== null, lastJump: this.lastJump };
  }

  stamp(): ClockStamp {
    const s = this.current;
    // chrony/timesyncd discipline the system clock itself; a hub estimate cannot (no root, and
    // stepping would confuse other software), so the kiosk corrects its own stamps by it.
    const fromHub = s.source === 'hub' && s.offsetMs !== undefined;
    const mono = this.mono();
    const stamp: ClockStamp = {
      capturedAt: new Date(Math.round(this.now() - (fromHub ? s.offsetMs! : 0))).toISOString(),
      synced: s.synced,
      source: s.source,
      ...(s.offsetMs !== undefined ? { offsetMs: s.offsetMs } : {}),
      // The bound grows with drift since the estimate was made (monotonic clock).
      ...(fromHub && s.maxErrorMs !== undefined ? { errorMs: Math.ceil(s.maxErrorMs + (Math.max(0, mono - (s.atMonoMs ?? mono)) * 100) / 1e6) } : {}),
      bootId: this.deps.bootId,
      monoMs: mono,
    };
    if (!s.synced) {
      this.pending.push({ capturedAt: stamp.capturedAt, bootId: stamp.bootId, monoMs: stamp.monoMs });
      if (this.pending.length > MAX_PENDING) this.pending.shift();
    }
    return stamp;
  }

  /** Asks the clock daemon; on the unsynced → synced transition reconstructs the pending stamps. */
  async refresh(): Promise<ClockState> {
    const next = await this.deps.probe();
    const wasSynced = this.current.synced;
    this.current = next;
    this.emit('state', next);
    if (!wasSynced && next.synced && this.pending.length > 0) {
      const ref = { bootId: this.deps.bootId, monoMs: this.mono(), wallAt: this.now(), offsetMs: next.offsetMs ?? 0 };
      const done: ReconstructedStamp[] = [];
      for (const p of this.pending) {
        const r = reconstructTrueTime(p, ref);
        if (r) done.push({ ...p, ...r });
      }
      this.pending = [];
      if (done.length) this.emit('reconstructed', done);
    }
    return next;
  }

  /** Called every second: detects wall-clock steps against the monotonic clock. */
  tick(): ClockJump | null {
    const jump = this.jumps.observe(this.now(), this.mono(), this.current.synced);
    if (jump) {
      this.lastJump = jump;
      this.emit('jump', jump);
    }
    return jump;
  }

  private recentJump(): ClockJump | null {
    const j = this.lastJump;
    return j && j.kind === 'unexplained' && this.mono() - j.atMonoMs < JUMP_VISIBLE_MS ? j : null;
  }

  state(): ComponentState {
    const j = this.recentJump();
    if (j) return { state: 'degraded', detail: `jam melompat / clock jumped ${Math.round(j.deltaMs / 1000)} s; ${this.current.detail}`.slice(0, 300) };
    if (!this.current.synced) return { state: 'degraded', detail: this.current.detail.slice(0, 300) };
    return { state: 'ok', detail: this.current.detail.slice(0, 300) };
  }
}
