import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { GENESIS_HASH, punchHash, type Punch } from '../protocol/index.js';
import { journalSchemaVersion, readJournalMigrations, type JournalMigration } from '../lib/journal-schema.js';
import type { JournalStats } from './extension-api.js';

/**
 * The kiosk's punch journal: one SQLite file (WAL, synchronous=FULL), so a punch is on disk
 * before the person is told "recorded" and survives power loss. Seq is assigned inside the same
 * transaction that inserts the row, so seq is gapless and never duplicated.
 *
 * Every method is synchronous (better-sqlite3): within one process nothing can interleave inside
 * a transaction, and `BEGIN IMMEDIATE` keeps a second process (`hadir kiosk journal`) a reader.
 */

export interface JournalRow {
  seq: number;
  id: string;
  nip: string;
  capturedAt: string;
  journaledAt: string;
  deliveredAt: string | null;
  rejectedReason: string | null;
}

/** One line of `hadir kiosk journal`. */
export interface JournalListingRow {
  seq: number;
  id: string;
  nip: string;
  method: string;
  capturedAt: string;
  clockSynced: boolean;
  clockSource: string;
  score: number;
  journaledAt: string;
  delivered: boolean;
  deliveredAt: string | null;
  rejectedReason: string | null;
}

export interface ChainHead {
  /** Seq of the last punch (when the journal is empty: its base seq, else 0). */
  seq: number;
  /** punchHash of the last punch (GENESIS_HASH when empty: a new chain, also after a base). */
  hash: string;
}

export type AppendResult =
  | { kind: 'recorded'; punch: Punch }
  | { kind: 'already'; firstAt: string };

/**
 * Version 1, the baseline every journal has. It is run on every open and stays idempotent
 * (IF NOT EXISTS) because version-1 journals exist in the field with and without the later-added
 * \`meta\` table; any other change is a numbered migration in journal-migrations.json, applied on a
 * new journal at once and on an existing one only by migrateForward() (after the updater has seen
 * the new release healthy). Never edit this string to change the schema: add a migration.
 */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS punches (
  seq             INTEGER PRIMARY KEY,
  id              TEXT NOT NULL UNIQUE,
  nip             TEXT NOT NULL,
  captured_at     TEXT NOT NULL,
  hash            TEXT NOT NULL,          -- punchHash(json): the next punch's prevHash
  json            TEXT NOT NULL,          -- the signed punch exactly as published
  journaled_at    TEXT NOT NULL,
  delivered_at    TEXT,                   -- set only by the hub's application ack
  rejected_reason TEXT                    -- the hub refused it for good (bad signature, …)
);
CREATE INDEX IF NOT EXISTS punches_nip ON punches (nip, seq);
CREATE INDEX IF NOT EXISTS punches_pending ON punches (seq) WHERE delivered_at IS NULL AND rejected_reason IS NULL;
-- Added later: journals in the field get it in place (IF NOT EXISTS) the next time the kiosk opens them.
-- base_seq: the seq the hub had already stored when this (empty) journal was started (see setBase).
CREATE TABLE IF NOT EXISTS meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
`;

/**
 * Journal schema versions (meta 'schema_version'; a journal without it is version 1). Migrations
 * live in journal-migrations.json, read through lib/journal-schema.ts like the release builder
 * reads them for the manifest.
 */
const MIGRATIONS = readJournalMigrations(fileURLToPath(new URL('..', import.meta.url)));
export const JOURNAL_SCHEMA_VERSION = journalSchemaVersion(MIGRATIONS);

export class Journal {
  readonly db: Database.Database;
  private readonly stmts;
  /** Prepared only when the meta table exists (a read-only view of a journal older than it has none). */
  private readonly baseStmt: Database.Statement | null;

  /** Migrations this code knows (journal-migrations.json; tests pass their own). */
  private readonly migrations: readonly JournalMigration[];

  constructor(readonly path: string, opts: { readonly?: boolean; migrations?: readonly JournalMigration[] } = {}) {
    this.migrations = opts.migrations ?? MIGRATIONS;
    if (!opts.readonly) mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path, { readonly: !!opts.readonly, fileMustExist: !!opts.readonly });
    this.db.pragma('busy_timeout = 5000');
    if (!opts.readonly) {
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = FULL');
      const fresh = !hasTable(this.db, 'punches');
      this.db.exec(SCHEMA);
      // A new journal starts at the newest schema; an existing one keeps its version until migrateForward().
      if (fresh) for (const m of this.migrations) this.db.exec(m.sql);
      this.db.prepare("INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ?)").run(String(fresh ? journalSchemaVersion(this.migrations) : 1));
    }
    const db = this.db;
    this.stmts = {
      head: db.prepare('SELECT seq, hash FROM punches ORDER BY seq DESC LIMIT 1'),
      lastForNip: db.prepare('SELECT captured_at FROM punches WHERE nip = ? ORDER BY seq DESC LIMIT 1').pluck(),
      insert: db.prepare(
        'INSERT INTO punches (seq, id, nip, captured_at, hash, json, journaled_at) VALUES (@seq, @id, @nip, @capturedAt, @hash, @json, @journaledAt)',
      ),
      pending: db.prepare(
        'SELECT seq, id, json FROM punches WHERE delivered_at IS NULL AND rejected_reason IS NULL AND seq > ? ORDER BY seq LIMIT ?',
      ),
      markDelivered: db.prepare('UPDATE punches SET delivered_at = ? WHERE id = ? AND delivered_at IS NULL'),
      markRejected: db.prepare('UPDATE punches SET rejected_reason = ? WHERE id = ? AND delivered_at IS NULL'),
      stats: db.prepare(
        `SELECT (SELECT COUNT(*) FROM punches WHERE delivered_at IS NULL AND rejected_reason IS NULL) AS undelivered,
                (SELECT MIN(captured_at) FROM punches WHERE delivered_at IS NULL AND rejected_reason IS NULL) AS oldest,
                (SELECT COALESCE(MAX(seq), 0) FROM punches) AS lastSeq,
                (SELECT COUNT(*) FROM punches WHERE rejected_reason IS NOT NULL) AS rejected`,
      ),
      all: db.prepare(
        'SELECT seq, id, nip, captured_at AS capturedAt, journaled_at AS journaledAt, delivered_at AS deliveredAt, rejected_reason AS rejectedReason, json FROM punches ORDER BY seq',
      ),
      listing: db.prepare(
        `SELECT seq, id, nip, json_extract(json, '$.method') AS method, captured_at AS capturedAt,
                json_extract(json, '$.clock.synced') AS clockSynced, json_extract(json, '$.clock.source') AS clockSource,
                json_extract(json, '$.match.score') AS score, journaled_at AS journaledAt, delivered_at AS deliveredAt,
                rejected_reason AS rejectedReason
           FROM punches ORDER BY seq`,
      ),
      prune: db.prepare(
        'DELETE FROM punches WHERE delivered_at IS NOT NULL AND delivered_at < ? AND seq < (SELECT MAX(seq) FROM punches)',
      ),
      anyPunch: db.prepare('SELECT 1 FROM punches LIMIT 1').pluck(),
      rejectedSince: db.prepare('SELECT COUNT(*) FROM punches WHERE rejected_reason IS NOT NULL AND journaled_at >= ?').pluck(),
    };
    this.baseStmt = hasTable(db, 'meta') ? db.prepare("SELECT value FROM meta WHERE key = 'base_seq'").pluck() : null;
  }

  /** Opens (creating if needed) the journal file `journal.db` in the kiosk's data dir. */
  static open(dataDir: string): Journal {
    return new Journal(join(dataDir, 'journal.db'));
  }

  /** Read-only view for `hadir kiosk journal` while the kiosk runs (WAL lets readers in). */
  static openReadonly(dataDir: string): Journal {
    return new Journal(join(dataDir, 'journal.db'), { readonly: true });
  }

  head(): ChainHead {
    const r = this.stmts.head.get() as { seq: number; hash: string } | undefined;
    return r ?? { seq: this.baseSeq() ?? 0, hash: GENESIS_HASH };
  }

  /**
   * The seq this journal continues after, or null when it was never based. Set once, on an empty
   * journal, from what the hub has already stored for this device (a wiped or replaced journal
   * would otherwise restart at seq 1 and every punch would collide with a stored one).
   */
  baseSeq(): number | null {
    const v = this.baseStmt?.get() as string | undefined;
    return v === undefined ? null : Number(v);
  }

  /** True while the journal holds no punch and was never based: the kiosk should ask the hub. */
  needsBase(): boolean {
    return this.baseSeq() === null && !this.stmts.anyPunch.get();
  }

  /**
   * Records the base: the first punch gets seq base+1 and prevHash GENESIS_HASH (a visible chain
   * restart). Only while the journal is still empty and unbased (checked in the same IMMEDIATE
   * transaction); returns false, changing nothing, otherwise.
   */
  setBase(base: number): boolean {
    if (!Number.isSafeInteger(base) || base < 0) throw new Error(`base seq must be a non-negative integer, got ${base}`);
    const tx = this.db.transaction((): boolean => {
      if (!this.needsBase()) return false;
      this.db.prepare("INSERT INTO meta (key, value) VALUES ('base_seq', ?)").run(String(base));
      return true;
    });
    return tx.immediate();
  }

  /** capturedAt of this person's latest punch (the dedup window is judged from the journal). */
  lastCapturedAt(nip: string): string | null {
    return (this.stmts.lastForNip.get(nip) as string | undefined) ?? null;
  }

  /**
   * Appends one punch in one IMMEDIATE transaction: `decide` sees this person's latest punch and
   * may refuse (dedup); `build` gets the chain head and returns the signed punch for seq+1.
   * Commit (fsync) happens before this returns — only then may the caller say "recorded".
   */
  append(
    nip: string,
    decide: (lastCapturedAt: string | null) => { already: string } | null,
    build: (head: ChainHead) => Punch,
    journaledAt: string,
  ): AppendResult {
    const tx = this.db.transaction((): AppendResult => {
      const d = decide(this.lastCapturedAt(nip));
      if (d) return { kind: 'already', firstAt: d.already };
      const head = this.head();
      const punch = build(head);
      if (punch.seq !== head.seq + 1) throw new Error(`punch seq ${punch.seq} does not follow ${head.seq}`);
      if (punch.prevHash !== head.hash) throw new Error('punch prevHash does not match the chain head');
      this.stmts.insert.run({
        seq: punch.seq,
        id: punch.id,
        nip: punch.nip,
        capturedAt: punch.capturedAt,
        hash: punchHash(punch),
        json: JSON.stringify(punch),
        journaledAt,
      });
      return { kind: 'recorded', punch };
    });
    return tx.immediate();
  }

  /** Undelivered, not rejected punches with seq > afterSeq, in seq order. */
  pending(afterSeq: number, limit: number): Punch[] {
    return this.pendingRaw(afterSeq, limit).map((r) => JSON.parse(r.json) as Punch);
  }

  /** Same, as the stored JSON text (the publisher sends it as is: no parse/serialise per punch). */
  pendingRaw(afterSeq: number, limit: number): { seq: number; id: string; json: string }[] {
    return this.stmts.pending.all(afterSeq, limit) as { seq: number; id: string; json: string }[];
  }

  /** Marks punches delivered (the hub's application ack). Returns how many changed. */
  markDelivered(ids: readonly string[], at: string): number {
    if (ids.length === 0) return 0;
    return this.db.transaction(() => {
      let n = 0;
      for (const id of ids) n += this.stmts.markDelivered.run(at, id).changes;
      return n;
    })();
  }

  /** Records the hub's permanent refusal; the punch stays for audit and is no longer sent. */
  markRejected(entries: readonly { id: string; reason: string }[]): number {
    if (entries.length === 0) return 0;
    return this.db.transaction(() => {
      let n = 0;
      for (const e of entries) n += this.stmts.markRejected.run(e.reason, e.id).changes;
      return n;
    })();
  }

  stats(): JournalStats {
    const r = this.stmts.stats.get() as { undelivered: number; oldest: string | null; lastSeq: number; rejected: number };
    return { undelivered: r.undelivered, oldestUndeliveredAt: r.oldest, lastSeq: Math.max(r.lastSeq, this.baseSeq() ?? 0), rejected: r.rejected };
  }

  /** Punches journaled since `iso` that the hub refused for good (the health state looks back a week). */
  rejectedSince(iso: string): number {
    return this.stmts.rejectedSince.get(iso) as number;
  }

  /** Every journaled punch with its delivery state, in seq order. */
  rows(): (JournalRow & { punch: Punch })[] {
    return (this.stmts.all.all() as (JournalRow & { json: string })[]).map(({ json, ...r }) => ({ ...r, punch: JSON.parse(json) as Punch }));
  }

  /**
   * Every punch as a listing row, streamed in seq order (fields read by SQLite's JSON functions, so
   * 90 days of punches with photos never sit in memory at once).
   */
  *listing(): Generator<JournalListingRow> {
    for (const r of this.stmts.listing.iterate() as IterableIterator<Omit<JournalListingRow, 'delivered' | 'clockSynced'> & { clockSynced: number }>) {
      yield { ...r, clockSynced: r.clockSynced === 1, delivered: r.deliveredAt !== null };
    }
  }

  /**
   * Drops delivered punches delivered before `before` (retention). The newest punch always stays:
   * it is the chain head the next punch's seq and prevHash come from.
   */
  prune(before: string): number {
    return this.stmts.prune.run(before).changes;
  }

  /** The journal's schema version (1 = the baseline of kiosk/journal.ts). */
  schemaVersion(): number {
    const v = hasTable(this.db, 'meta') ? (this.db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").pluck().get() as string | undefined) : undefined;
    return v === undefined ? 1 : Number(v);
  }

  /**
   * Applies the migrations this code knows beyond the journal's version, each in its own IMMEDIATE
   * transaction with the version bump (a power cut leaves version n or n+1, never half of one).
   * Forward only: a journal newer than this code is left alone. Returns the versions applied.
   */
  migrateForward(): number[] {
    const applied: number[] = [];
    for (let v = this.schemaVersion(); v < journalSchemaVersion(this.migrations); v++) {
      const m = this.migrations[v - 1]!;
      this.db.transaction(() => {
        this.db.exec(m.sql);
        this.db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)").run(String(v + 1));
      }).immediate();
      applied.push(v + 1);
    }
    return applied;
  }

  /** `PRAGMA integrity_check` — "ok" when the file is sound. */
  integrityCheck(): string {
    return (this.db.pragma('integrity_check', { simple: false }) as { integrity_check: string }[]).map((r) => r.integrity_check).join('; ');
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

/** True when the file has the table (a journal without punches is a new one; an old read-only one may lack meta). */
function hasTable(db: Database.Database, name: string): boolean {
  return !!db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").pluck().get(name);
}
