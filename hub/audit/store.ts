import type { SqliteDb } from '../store/sqlite.js';
import { AUDIT_GENESIS, entryHash, type ActorKind, type AuditEntry } from './chain.js';
import { inTransaction, pgWhere } from '../store/pg.js';

/** What an appender supplies; the repository assigns id, prevHash and hash atomically. */
export type AuditDraft = Omit<AuditEntry, 'id' | 'prevHash' | 'hash'>;

export interface AuditFilter {
  from?: string;
  to?: string;
  actor?: string;
  /** Prefix match: `device.` finds every device action. */
  action?: string;
  target?: string;
  /** Only entries concerning this OPD (OPD admins). */
  opdCode?: string;
  limit?: number;
  offset?: number;
}

/**
 * Storage of the audit log behind one small interface (SQLite now; the PostgreSQL store
 * implements the same four methods: append under a lock or SERIALIZABLE, a sequence for ids).
 */
export interface AuditRepository {
  /** Appends one entry as the chain's next link: id = highest id ever + 1, prevHash = last entry's hash. */
  append(d: AuditDraft): Promise<AuditEntry>;
  /** Newest first. */
  list(f: AuditFilter): Promise<{ items: AuditEntry[]; total: number }>;
  /** Every entry in id order (verify, export), read in pages. */
  scan(pageSize?: number): AsyncIterable<AuditEntry>;
  /** The highest id ever assigned (a deleted last entry leaves it above the last stored id). */
  highWater(): Promise<number>;
}

type Row = {
  id: number; at: string; actor: string; actor_kind: string; role: string | null; source: string | null; action: string; target: string | null;
  opd_code: string | null; before: string | null; after: string | null; status: number | null; prev_hash: string; hash: string;
};
const toEntry = (r: Row): AuditEntry => ({
  id: r.id, at: r.at, actor: r.actor, actorKind: r.actor_kind as ActorKind, role: r.role, source: r.source, action: r.action, target: r.target,
  opdCode: r.opd_code, before: r.before, after: r.after, status: r.status, prevHash: r.prev_hash, hash: r.hash,
});

export class SqliteAuditRepository implements AuditRepository {
  private readonly s;
  private readonly appendTx;

  constructor(private readonly db: SqliteDb) {
    this.s = {
      last: db.prepare<[], { id: number; hash: string }>('SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1'),
      seq: db.prepare<[], number>("SELECT seq FROM sqlite_sequence WHERE name = 'audit_log'").pluck(),
      insert: db.prepare(`INSERT INTO audit_log (id, at, actor, actor_kind, role, source, action, target, opd_code, before, after, status, prev_hash, hash)
                          VALUES (@id, @at, @actor, @actorKind, @role, @source, @action, @target, @opdCode, @before, @after, @status, @prevHash, @hash)`),
      page: db.prepare<[number, number], Row>('SELECT * FROM audit_log WHERE id > ? ORDER BY id LIMIT ?'),
    };
    // IMMEDIATE: the hub and a CLI process appending at once serialise on the write lock, so two
    // entries never claim the same predecessor.
    this.appendTx = db.transaction((d: AuditDraft): AuditEntry => {
      const last = this.s.last.get();
      const high = Math.max(this.s.seq.get() ?? 0, last?.id ?? 0);
      const e = { ...d, id: high + 1, prevHash: last?.hash ?? AUDIT_GENESIS };
      const full: AuditEntry = { ...e, hash: entryHash(e) };
      this.s.insert.run(full);
      return full;
    });
  }

  async append(d: AuditDraft): Promise<AuditEntry> {
    return this.appendTx.immediate(d);
  }

  async list(f: AuditFilter): Promise<{ items: AuditEntry[]; total: number }> {
    const w: string[] = [];
    const a: Record<string, unknown> = {};
    if (f.from) (w.push('at >= @from'), (a.from = f.from));
    if (f.to) (w.push('at < @to'), (a.to = f.to));
    if (f.actor) (w.push('actor = @actor'), (a.actor = f.actor));
    if (f.action) (w.push("action LIKE @action ESCAPE '\\'"), (a.action = `${f.action.replace(/[\\%_]/g, (c) => `\\${c}`)}%`));
    if (f.target) (w.push('target = @target'), (a.target = f.target));
    if (f.opdCode) (w.push('opd_code = @opd'), (a.opd = f.opdCode));
    const where = w.length ? `WHERE ${w.join(' AND ')}` : '';
    const items = this.db.prepare<Record<string, unknown>, Row>(`SELECT * FROM audit_log ${where} ORDER BY id DESC LIMIT @limit OFFSET @offset`)
      .all({ ...a, limit: f.limit ?? 100, offset: f.offset ?? 0 }).map(toEntry);
    const total = this.db.prepare<Record<string, unknown>, number>(`SELECT count(*) FROM audit_log ${where}`).pluck().get(a) ?? 0;
    return { items, total };
  }

  async *scan(pageSize = 5000): AsyncIterable<AuditEntry> {
    let after = 0;
    for (;;) {
      const rows = this.s.page.all(after, pageSize);
      for (const r of rows) yield toEntry(r);
      if (rows.length < pageSize) return;
      after = rows[rows.length - 1]!.id;
    }
  }

  async highWater(): Promise<number> {
    return Math.max(this.s.seq.get() ?? 0, this.s.last.get()?.id ?? 0);
  }
}

/**
 * The audit log on PostgreSQL. Appends serialise on the audit_high row (SELECT … FOR UPDATE): two
 * hub workers never give two entries the same predecessor.
 */
export class PgAuditRepository implements AuditRepository {
  constructor(private readonly pool: import('pg').Pool) {}

  async append(d: AuditDraft): Promise<AuditEntry> {
    return inTransaction(this.pool, async (c) => {
      const high = (await c.query('SELECT high FROM audit_high WHERE one = 1 FOR UPDATE')).rows[0].high as number;
      const last = (await c.query('SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1')).rows[0] as { id: number; hash: string } | undefined;
      const e = { ...d, id: Math.max(high, last?.id ?? 0) + 1, prevHash: last?.hash ?? AUDIT_GENESIS };
      const full: AuditEntry = { ...e, hash: entryHash(e) };
      await c.query(
        `INSERT INTO audit_log (id, at, actor, actor_kind, role, source, action, target, opd_code, before, after, status, prev_hash, hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
        [full.id, full.at, full.actor, full.actorKind, full.role, full.source, full.action, full.target, full.opdCode, full.before, full.after, full.status, full.prevHash, full.hash],
      );
      await c.query('UPDATE audit_high SET high = $1 WHERE one = 1', [full.id]);
      return full;
    });
  }

  async list(f: AuditFilter): Promise<{ items: AuditEntry[]; total: number }> {
    const { sql: where, args: a } = pgWhere([
      ['at >= ?', f.from],
      ['at < ?', f.to],
      ['actor = ?', f.actor],
      ["action LIKE ? ESCAPE '\\'", f.action && `${f.action.replace(/[\\%_]/g, (c) => `\\${c}`)}%`],
      ['target = ?', f.target],
      ['opd_code = ?', f.opdCode],
    ]);
    const items = (await this.pool.query(`SELECT * FROM audit_log ${where} ORDER BY id DESC LIMIT $${a.length + 1} OFFSET $${a.length + 2}`, [...a, f.limit ?? 100, f.offset ?? 0])).rows.map((r: Row) => toEntry(r));
    const total = (await this.pool.query(`SELECT count(*) AS n FROM audit_log ${where}`, a)).rows[0].n as number;
    return { items, total };
  }

  async *scan(pageSize = 5000): AsyncIterable<AuditEntry> {
    let after = 0;
    for (;;) {
      const rows = (await this.pool.query('SELECT * FROM audit_log WHERE id > $1 ORDER BY id LIMIT $2', [after, pageSize])).rows as Row[];
      for (const r of rows) yield toEntry(r);
      if (rows.length < pageSize) return;
      after = rows[rows.length - 1]!.id;
    }
  }

  async highWater(): Promise<number> {
    const high = (await this.pool.query('SELECT high FROM audit_high WHERE one = 1')).rows[0].high as number;
    const last = (await this.pool.query('SELECT max(id) AS m FROM audit_log')).rows[0].m as number | null;
    return Math.max(high, last ?? 0);
  }
}
