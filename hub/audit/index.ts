import type { SqliteDb } from '../store/sqlite.js';
import { iso, type Clock } from '../../lib/clock.js';
import { ChainVerifier, type ActorKind, type AuditEntry, type ChainReport } from './chain.js';
import { SqliteAuditRepository, type AuditFilter, type AuditRepository } from './store.js';

export { AUDIT_GENESIS, verifyChain, type AuditEntry, type ChainReport, type ChainProblem } from './chain.js';
export type { AuditFilter, AuditRepository } from './store.js';

/** Who did it and from where. */
export interface AuditActor {
  actor: string;
  actorKind: ActorKind;
  role?: string | null;
  /** Client address (HTTP) or host (CLI). */
  source?: string | null;
}

/** One change, as a module reports it: `audit.record({ ...actor, action: 'rollout.start', target: 'release:1.2.0', after: {...} })`. */
export interface AuditRecord extends AuditActor {
  /** Dotted name, area first: device.disable, finger.template.upload, rules.add, rollout.start … */
  action: string;
  target?: string | null;
  /** The OPD concerned: its admins see the entry. */
  opdCode?: string | null;
  before?: unknown;
  after?: unknown;
  status?: number | null;
}

/** Keys whose values never go into the log (secrets, biometric data, photos). */
const REDACT = /^(password|newPassword|token|secret|privateKeyPem|template|crops|photo|jpeg|image|sig)$/i;
const MAX_JSON = 16_000;

/** JSON text of a before/after value with secrets and biometric payloads replaced by a note. */
export function auditJson(v: unknown): string | null {
  if (v === undefined || v === null) return null;
  const s = JSON.stringify(v, (k, x) => (k && REDACT.test(k) && x !== null && x !== undefined ? `[redacted${typeof x === 'string' ? `: ${x.length} chars` : ''}]` : x));
  if (s === undefined) return null;
  return s.length > MAX_JSON ? JSON.stringify({ truncated: true, bytes: s.length, head: s.slice(0, 2000) }) : s;
}

/**
 * The hub's audit log: append-only and hash-chained (chain.ts), stored through an
 * AuditRepository. Every change an admin, technician, kiosk or the CLI makes is recorded with who,
 * when, from where, what, and before/after. Call `record` after the change succeeded.
 */
export class AuditLog {
  constructor(
    readonly repo: AuditRepository,
    private readonly clock: Clock,
  ) {}

  record(r: AuditRecord): Promise<AuditEntry> {
    return this.repo.append({
      at: iso(this.clock),
      actor: r.actor,
      actorKind: r.actorKind,
      role: r.role ?? null,
      source: r.source ?? null,
      action: r.action,
      target: r.target ?? null,
      opdCode: r.opdCode ?? null,
      before: auditJson(r.before),
      after: auditJson(r.after),
      status: r.status ?? null,
    });
  }

  list(f: AuditFilter) {
    return this.repo.list(f);
  }

  async verify(): Promise<ChainReport> {
    // read before the scan: an entry appended during the scan is simply one more, never "deleted"
    const high = await this.repo.highWater();
    const v = new ChainVerifier();
    for await (const e of this.repo.scan()) v.push(e);
    return v.finish(high);
  }
}

const repos = new WeakMap<SqliteDb, SqliteAuditRepository>();
/** The audit repository of a hub database (one per handle). */
export function auditRepository(db: SqliteDb): SqliteAuditRepository {
  let r = repos.get(db);
  if (!r) repos.set(db, (r = new SqliteAuditRepository(db)));
  return r;
}
/** The audit log of a hub database, stamping entries with `clock`. */
export function auditLog(db: SqliteDb, clock: Clock): AuditLog {
  return new AuditLog(auditRepository(db), clock);
}

/** An entry for the API/exports: before/after parsed back to JSON. */
export function auditView(e: AuditEntry) {
  const parse = (s: string | null) => {
    if (s === null) return null;
    try {
      return JSON.parse(s) as unknown;
    } catch {
      return s;
    }
  };
  return { ...e, before: parse(e.before), after: parse(e.after) };
}
