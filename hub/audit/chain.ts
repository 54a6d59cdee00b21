import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';

/**
 * The audit log's hash chain, pure: no I/O. Each entry's hash covers its own fields and the
 * previous entry's hash, so changing any stored field, deleting an entry or reordering entries
 * breaks the chain at that entry. The first entry's prevHash is GENESIS.
 */
export const AUDIT_GENESIS = '0'.repeat(64);

export type ActorKind = 'user' | 'device' | 'cli' | 'system';

/** An entry as stored (before/after are JSON text, exactly as hashed). */
export interface AuditEntry {
  id: number;
  at: string;
  actor: string;
  actorKind: ActorKind;
  role: string | null;
  source: string | null;
  action: string;
  target: string | null;
  opdCode: string | null;
  before: string | null;
  after: string | null;
  status: number | null;
  prevHash: string;
  hash: string;
}

export function entryHash(e: Omit<AuditEntry, 'hash'>): string {
  const fields = {
    id: e.id, at: e.at, actor: e.actor, actorKind: e.actorKind, role: e.role, source: e.source, action: e.action,
    target: e.target, opdCode: e.opdCode, before: e.before, after: e.after, status: e.status, prevHash: e.prevHash,
  };
  return createHash('sha256').update(canonicalize(fields)!).digest('hex');
}

export interface ChainProblem {
  /** The entry id concerned (for a deletion: the first missing id). */
  id: number;
  kind: 'altered' | 'deleted' | 'relinked';
  detail: string;
}

export interface ChainReport {
  ok: boolean;
  entries: number;
  /** Hash of the last entry (write it down / export it: it anchors everything before it). */
  head: string;
  lastId: number;
  problems: ChainProblem[];
}

/**
 * Walks entries in id order (push one at a time: a long log is never held in memory). Names: an
 * entry whose stored fields no longer give its hash (altered), ids missing between entries or
 * after the last one (deleted; `highWater` is the highest id ever assigned), and an entry whose
 * prevHash is not the previous entry's hash (relinked — what a deletion or a rewritten
 * predecessor leaves behind).
 */
export class ChainVerifier {
  private readonly problems: ChainProblem[] = [];
  private prev: AuditEntry | null = null;
  private n = 0;

  push(e: AuditEntry): void {
    const prev = this.prev;
    this.n++;
    const expectId: number = prev ? prev.id + 1 : 1;
    if (e.id > expectId) {
      this.problems.push({ id: expectId, kind: 'deleted', detail: e.id - expectId === 1 ? `entry ${expectId} is missing (deleted)` : `entries ${expectId}–${e.id - 1} are missing (deleted)` });
    }
    if (e.prevHash !== (prev ? prev.hash : AUDIT_GENESIS)) {
      this.problems.push({ id: e.id, kind: 'relinked', detail: `entry ${e.id}: prev_hash does not match ${prev ? `entry ${prev.id}` : 'the start of the log'}` });
    }
    const { hash, ...rest } = e;
    if (entryHash(rest) !== hash) {
      this.problems.push({ id: e.id, kind: 'altered', detail: `entry ${e.id} (${e.at} ${e.actor} ${e.action}) was altered: its content does not match its hash` });
    }
    this.prev = e;
  }

  finish(highWater: number): ChainReport {
    const lastId = this.prev?.id ?? 0;
    const problems = [...this.problems];
    if (highWater > lastId) {
      problems.push({ id: lastId + 1, kind: 'deleted', detail: highWater - lastId === 1 ? `entry ${lastId + 1} is missing (deleted from the end)` : `entries ${lastId + 1}–${highWater} are missing (deleted from the end)` });
    }
    return { ok: problems.length === 0, entries: this.n, head: this.prev?.hash ?? AUDIT_GENESIS, lastId, problems };
  }
}

export function verifyChain(entries: Iterable<AuditEntry>, highWater: number): ChainReport {
  const v = new ChainVerifier();
  for (const e of entries) v.push(e);
  return v.finish(highWater);
}
