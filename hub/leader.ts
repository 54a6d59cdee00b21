import pg from 'pg';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Logger } from '../lib/logger.js';

/** The advisory lock key of the periodic jobs ('hadl'): held by the one worker that runs them. */
export const LEADER_LOCK = 0x6861646c;

/**
 * Who runs the periodic jobs (alert evaluation, retention, attendance derivation, end-of-service
 * sweep). Ingest, acks and HTTP run on every worker; these run on one at a time.
 * - SQLite: one hub process per database, always the leader.
 * - PostgreSQL: the worker holding the session-level advisory lock LEADER_LOCK on a dedicated
 *   connection (docs/hub.md "Several hub workers").
 */
export interface Leadership {
  isLeader(): boolean;
  /**
   * Runs one pass of a periodic job if this worker leads (counted in
   * `hadir_periodic_runs_total{job}`); otherwise does nothing and resolves undefined.
   */
  whenLeader<T>(job: string, fn: () => Promise<T>): Promise<T | undefined>;
  /** Called each time this worker becomes the leader (a new leader catches up at once instead of at its next tick). */
  onAcquired(fn: () => void): () => void;
  stop(): Promise<void>;
}

/** The leadership of a context that has none (a single hub; tests building a context by hand). */
export function leaderOf(ctx: { leader?: Leadership }): Leadership {
  return ctx.leader ?? SOLE;
}

class BaseLeadership implements Leadership {
  protected leading = false;
  private readonly acquired = new Set<() => void>();
  private readonly runs?: Counter<'job'>;
  protected readonly gauge?: Gauge;

  constructor(registry?: Registry) {
    if (registry) {
      this.runs = new Counter({ name: 'hadir_periodic_runs_total', help: 'Passes of periodic jobs run by this worker (only the leader runs them)', labelNames: ['job'], registers: [registry] });
      this.gauge = new Gauge({ name: 'hadir_hub_leader', help: '1 while this worker runs the periodic jobs (PostgreSQL: holds the leader advisory lock)', registers: [registry] });
    }
  }
  isLeader() {
    return this.leading;
  }
  async whenLeader<T>(job: string, fn: () => Promise<T>): Promise<T | undefined> {
    if (!this.leading) return undefined;
    this.runs?.inc({ job });
    return fn();
  }
  onAcquired(fn: () => void) {
    this.acquired.add(fn);
    return () => void this.acquired.delete(fn);
  }
  protected setLeading(v: boolean) {
    if (v === this.leading) return;
    this.leading = v;
    this.gauge?.set(v ? 1 : 0);
    if (v) for (const f of this.acquired) f();
  }
  async stop() {}
}

/** Always the leader (SQLite: the only process on its database). */
export function soleLeadership(registry?: Registry): Leadership {
  const l = new (class extends BaseLeadership {
    constructor() {
      super(registry);
      this.leading = true;
      this.gauge?.set(1);
    }
  })();
  return l;
}
const SOLE = soleLeadership();

/**
 * PostgreSQL leadership: a dedicated connection (not from the pool: a session-level lock belongs
 * to its connection) tries `pg_try_advisory_lock(LEADER_LOCK)` every `retryMs`. The holder checks
 * its connection at the same interval; when the query fails or times out it steps down at once
 * and drops the connection, so the lock is released by PostgreSQL. A worker that dies (SIGKILL,
 * power) loses its connection and with it the lock; another worker takes over at its next try,
 * i.e. within `retryMs` (plus the time PostgreSQL needs to see a connection gone: at once for a
 * dead process on a live host, TCP keep-alive for a vanished host).
 */
export class PgLeadership extends BaseLeadership {
  private client: pg.Client | null = null;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private busy = false;
  private lastError = '';

  constructor(
    private readonly url: string,
    private readonly o: { retryMs: number; log: Logger; registry?: Registry; key?: number },
  ) {
    super(o.registry);
    this.gauge?.set(0);
  }

  /** First attempt now (so a lone worker leads from the start), then every retryMs. */
  async start(): Promise<this> {
    await this.tick();
    this.timer = setInterval(() => void this.tick(), this.o.retryMs);
    this.timer.unref();
    return this;
  }

  private drop(reason: string) {
    const c = this.client;
    this.client = null;
    if (this.leading) this.o.log.warn({ reason }, 'leader: lost the periodic-jobs lock; another worker takes over');
    this.setLeading(false);
    if (c) void c.end().catch(() => {});
  }

  private async tick(): Promise<void> {
    if (this.busy || this.stopped) return;
    this.busy = true;
    try {
      if (!this.client) {
        const c = new pg.Client({ connectionString: this.url, keepAlive: true, query_timeout: Math.max(2000, this.o.retryMs * 2), application_name: 'hadir-hub-leader' });
        c.on('error', (e) => this.drop(e.message));
        await c.connect();
        if (this.stopped) return void c.end().catch(() => {});
        this.client = c;
      }
      if (this.leading) {
        await this.client.query('SELECT 1');
      } else {
        const r = await this.client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [this.o.key ?? LEADER_LOCK]);
        if (r.rows[0]?.ok && !this.stopped) {
          this.o.log.info('leader: this worker now runs the periodic jobs (alerts, retention, attendance derivation)');
          this.setLeading(true);
        }
      }
      this.lastError = '';
    } catch (e) {
      const msg = (e as Error).message;
      if (msg !== this.lastError) this.o.log.warn({ err: msg }, 'leader: lock connection failed; retrying');
      this.lastError = msg;
      this.drop(msg);
    } finally {
      this.busy = false;
    }
  }

  override async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const c = this.client;
    this.client = null;
    this.setLeading(false);
    // Ending the session releases the lock: another worker takes over at its next try.
    if (c) await c.end().catch(() => {});
  }
}
