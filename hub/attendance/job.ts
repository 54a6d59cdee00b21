import type { Logger } from '../../lib/logger.js';
import { iso, type Clock } from '../../lib/clock.js';
import type { AttendanceRepository } from './repository.js';
import { leaderOf, type Leadership } from '../leader.js';

/** A read waits at most this long for derivation; then it answers with the last derived state and meta.pending_derivation > 0. */
export const READ_WAIT_MS = 5_000;

/**
 * The hub's background derivation job — the only place the hub derives attendance. One pass at a
 * time: drain the queue (whole months on worker threads, processDirtyAsync), then complete the
 * months readers asked for. Requests never derive; a read asks for a pass and waits for it at most
 * `readWaitMs`, then reads whatever is derived (docs/attendance.md "Reads and derivation").
 * One job per attendance repository (the attendance and staff modules share it, with the hub's clock).
 */
export class AttendanceJob {
  private readonly wantedMonths = new Set<string>();
  private chain: Promise<void> = Promise.resolve();
  private queued: Promise<void> | null = null;
  readonly derived = new Set<(r: { months: number; employees: number; changed: number }) => void>();

  constructor(
    private readonly repo: AttendanceRepository,
    private readonly log: Logger,
    private readonly clock: Clock,
    /** Several hub workers: only the leader derives (hub/leader.ts); a follower's reads answer with what is derived. */
    private readonly leader: Leadership = leaderOf({}),
  ) {}

  private stopped = false;

  private async pass(): Promise<void> {
    if (this.stopped) return;
    await this.leader.whenLeader('attendance', () => this.derivePass());
  }

  private async derivePass(): Promise<void> {
    const now = () => iso(this.clock);
    try {
      const r = await this.repo.derive(now());
      for (const f of this.derived) f(r);
      if (r.months) this.log.debug(r, 'attendance re-derived');
      for (const m of [...this.wantedMonths]) {
        this.wantedMonths.delete(m);
        await this.repo.prepareMonth(m, now());
      }
    } catch (e) {
      this.log.error({ err: e }, 'attendance re-derivation failed; it stays queued and is retried');
    }
  }

  /** A pass that starts after every write made so far (coalesced with one already waiting to start). */
  run(): Promise<void> {
    if (this.queued) return this.queued;
    const p = this.chain.then(() => {
      this.queued = null;
      return this.pass();
    });
    this.queued = this.chain = p;
    return p;
  }

  /**
   * Waits (at most waitMs; `null`: for the whole pass, as a one-shot command does, with no job running
   * beside it) for a pass that also completes `month` (if it has started by `today`).
   */
  async caughtUp(month: string, today: string, waitMs: number | null = READ_WAIT_MS): Promise<void> {
    if (month <= today.slice(0, 7)) this.wantedMonths.add(month);
    if (waitMs === null) return this.run();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.run(), new Promise<void>((res) => (timer = setTimeout(res, waitMs)))]);
    clearTimeout(timer);
  }

  /** No pass starts any more; resolves when the one under way (if any) has finished, before the store closes. */
  stop(): Promise<void> {
    this.stopped = true;
    return this.chain;
  }
}

const jobs = new WeakMap<AttendanceRepository, AttendanceJob>();
export function attendanceJob(repo: AttendanceRepository, log: Logger, clock: Clock, leader?: Leadership): AttendanceJob {
  let j = jobs.get(repo);
  if (!j) jobs.set(repo, (j = new AttendanceJob(repo, log, clock, leader)));
  return j;
}
