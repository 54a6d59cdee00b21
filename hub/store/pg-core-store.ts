import type pg from 'pg';
import type {
  ApiTokenInfo, CoreStore, DeviceBatchOutcome, EnrolTokenRecord, IngestBatchResult, IngestItem, PunchConflict, PunchFilter, RecoverResult,
  RejectionRecord, SeqGap, SiteRecord,
} from './core-store.js';
import { RECOVERED_NOTE } from './core-store.js';
import { GENESIS_HASH, punchHash, type Punch } from '../../protocol/index.js';
import type { Role } from '../module-contract.js';
import { MAX_REJECTIONS, PUNCH_ROW_COLS, punchColumns, punchRow, settleUnstored, toDevice, toEnrolToken, toPunch, toUser } from './core-rows.js';
import { inTransaction, pgWhere } from './pg.js';
import { nextMonth } from '../attendance/time.js';

type Row = Record<string, unknown>;
type Q = Pick<pg.PoolClient, 'query'>;

const PUNCH_COLS = [
  'id', 'device_id', 'seq', 'nip', 'method', 'captured_at', 'site_code', 'clock_synced', 'clock_source', 'clock_offset_ms', 'clock_error_ms', 'boot_id', 'mono_ms',
  'score', 'liveness', 'prev_hash', 'sig', 'has_photo', 'received_at', 'review_status', 'review_reason', 'hash', 'chain_break', 'imported_by', 'note',
] as const;
const INSERT_PUNCH = `INSERT INTO punches (${PUNCH_COLS.join(', ')}) VALUES (${PUNCH_COLS.map((_, i) => `$${i + 1}`).join(', ')})`;
/** Column types for the set-based insert (one array parameter per column). */
const PUNCH_TYPES: Record<(typeof PUNCH_COLS)[number], string> = {
  id: 'text', device_id: 'text', seq: 'bigint', nip: 'text', method: 'text', captured_at: 'text', site_code: 'text', clock_synced: 'integer', clock_source: 'text',
  clock_offset_ms: 'float8', clock_error_ms: 'float8', boot_id: 'text', mono_ms: 'float8', score: 'float8', liveness: 'float8', prev_hash: 'text', sig: 'text',
  has_photo: 'integer', received_at: 'text', review_status: 'text', review_reason: 'text', hash: 'text', chain_break: 'integer', imported_by: 'text', note: 'text',
};
/** Ingest's set-based insert: the columns of punchRow, then seq (one array parameter per column). */
const INGEST_COLS = [...PUNCH_ROW_COLS, 'seq'] as const;
const INSERT_PUNCHES = `INSERT INTO punches (${INGEST_COLS.join(', ')}) SELECT * FROM unnest(${INGEST_COLS.map((k, i) => `$${i + 1}::${PUNCH_TYPES[k]}[]`).join(', ')})`;

/** Month partitions of punches: captured_at is ISO text, so a month is the range ['YYYY-MM', next month). */
const PARTITION_LOCK = 0x68616470; // 'hadp'

/**
 * PostgreSQL implementation of the core store (HADIR_DB_URL=postgres://…), on a pg Pool.
 * Exactly once: a punch's key goes into punch_keys ON CONFLICT DO NOTHING, and its body into the
 * month partition of punches only when the key was new. A batch is one transaction that first
 * locks its devices' rows (FOR UPDATE, in id order), so hub workers storing punches of the same
 * device one after the other keep its seq state exact.
 */
export class PgCoreStore implements CoreStore {
  private readonly partitions = new Set<string>();

  constructor(readonly pool: pg.Pool) {}

  private async one(sql: string, args: unknown[] = []): Promise<Row | undefined> {
    return (await this.pool.query(sql, args)).rows[0] as Row | undefined;
  }
  private async all(sql: string, args: unknown[] = []): Promise<Row[]> {
    return (await this.pool.query(sql, args)).rows as Row[];
  }
  private async changes(sql: string, args: unknown[] = [], q: Q = this.pool): Promise<number> {
    return (await q.query(sql, args)).rowCount ?? 0;
  }

  /** Creates the month partitions these capture times need (once per process; concurrent workers serialised by an advisory lock). */
  private async ensurePartitions(capturedAts: Iterable<string>): Promise<void> {
    const months = new Set<string>();
    for (const t of capturedAts) {
      const m = t.slice(0, 7);
      if (/^20\d\d-(0[1-9]|1[0-2])$/.test(m) && !this.partitions.has(m)) months.add(m);
    }
    if (!months.size) return;
    await inTransaction(this.pool, async (c) => {
      await c.query('SELECT pg_advisory_xact_lock($1)', [PARTITION_LOCK]);
      for (const m of months) {
        const name = `punches_${m.replace('-', '_')}`;
        const exists = await c.query('SELECT 1 FROM pg_class WHERE relname = $1', [name]);
        if (!exists.rowCount) {
          // rows of that month already in the default partition (none in practice) move into the new one
          await c.query(`CREATE TABLE ${name} (LIKE punches INCLUDING DEFAULTS)`);
          await c.query(`WITH moved AS (DELETE FROM punches_other WHERE captured_at >= $1 AND captured_at < $2 RETURNING *) INSERT INTO ${name} SELECT * FROM moved`, [m, nextMonth(m)]);
          await c.query(`ALTER TABLE punches ATTACH PARTITION ${name} FOR VALUES FROM ('${m}') TO ('${nextMonth(m)}')`);
        }
      }
    });
    for (const m of months) this.partitions.add(m);
  }

  // ---------------------------------------------------------------- devices
  async getDevice(id: string) {
    const r = await this.one('SELECT * FROM devices WHERE id = $1', [id]);
    return r ? toDevice(r) : null;
  }
  async listDevices(opts: { opdCode?: string } = {}) {
    const rows = opts.opdCode
      ? await this.all('SELECT d.* FROM devices d JOIN sites s ON s.code = d.site_code JOIN units u ON u.code = s.unit_code WHERE u.opd_code = $1 ORDER BY d.id', [opts.opdCode])
      : await this.all('SELECT * FROM devices ORDER BY id');
    return rows.map(toDevice);
  }
  async insertDevice(d: { id: string; siteCode: string; createdAt: string }) {
    await this.pool.query('INSERT INTO devices (id, site_code, created_at) VALUES ($1, $2, $3)', [d.id, d.siteCode, d.createdAt]);
  }
  async setDeviceEnrolled(id: string, pem: string, secretHash: string, at: string, brokerHash: string | null = null) {
    await this.pool.query('UPDATE devices SET public_key_pem = $1, mqtt_secret_hash = $2, enrolled_at = $3, broker_password_hash = $4 WHERE id = $5', [pem, secretHash, at, brokerHash, id]);
  }
  async upgradeDeviceSecretHash(id: string, from: string, to: string) {
    return (await this.changes('UPDATE devices SET mqtt_secret_hash = $1 WHERE id = $2 AND mqtt_secret_hash = $3', [to, id, from])) > 0;
  }
  private static readonly STATUS = `UPDATE devices SET online = $1, status_at = $2, last_seen_at = greatest(coalesce(last_seen_at, ''), $2) WHERE id = $3`;
  async setDeviceStatus(id: string, online: boolean, at: string) {
    return (await this.changes(PgCoreStore.STATUS, [online ? 1 : 0, at, id])) > 0;
  }
  async setDeviceStatuses(rows: readonly { id: string; online: boolean; at: string }[]) {
    return inTransaction(this.pool, async (c) => {
      const out: string[] = [];
      for (const r of rows) if ((await this.changes(PgCoreStore.STATUS, [r.online ? 1 : 0, r.at, r.id], c)) > 0) out.push(r.id);
      return out;
    });
  }
  async setDeviceHealth(id: string, backlog: number, oldestAt: string | null, at: string) {
    return (await this.changes(`UPDATE devices SET backlog = $1, backlog_oldest_at = $2, last_seen_at = greatest(coalesce(last_seen_at, ''), $3) WHERE id = $4`, [backlog, oldestAt, at, id])) > 0;
  }
  async disableDevice(id: string, d: { at: string; reason: string; by: string }) {
    if (!(await this.changes('UPDATE devices SET disabled_at = coalesce(disabled_at, $1), disabled_reason = $2, disabled_by = $3 WHERE id = $4', [d.at, d.reason, d.by, id]))) return null;
    return this.getDevice(id);
  }
  async enableDevice(id: string) {
    if (!(await this.changes('UPDATE devices SET disabled_at = NULL, disabled_reason = NULL, disabled_by = NULL WHERE id = $1', [id]))) return null;
    return this.getDevice(id);
  }
  async disabledDeviceIds() {
    return (await this.all('SELECT id FROM devices WHERE disabled_at IS NOT NULL ORDER BY id')).map((r) => r.id as string);
  }
  async chainBreakCounts() {
    return new Map((await this.all('SELECT device_id, count(*) AS n FROM punches WHERE chain_break = 1 GROUP BY device_id')).map((r) => [r.device_id as string, r.n as number]));
  }
  async seqGaps(deviceId?: string, openOnly = false): Promise<SeqGap[]> {
    const w = [deviceId ? 'device_id = $1' : '', openOnly ? 'closed_at IS NULL' : ''].filter(Boolean);
    const rows = await this.all(`SELECT * FROM seq_gaps ${w.length ? `WHERE ${w.join(' AND ')}` : ''} ORDER BY device_id, from_seq`, deviceId ? [deviceId] : []);
    return rows.map((r) => ({ deviceId: r.device_id as string, fromSeq: r.from_seq as number, toSeq: r.to_seq as number, detectedAt: r.detected_at as string, closedAt: (r.closed_at as string) ?? null }));
  }
  async getSite(code: string): Promise<SiteRecord | null> {
    const r = await this.one('SELECT s.code, s.name, s.unit_code, u.opd_code FROM sites s JOIN units u ON u.code = s.unit_code WHERE s.code = $1', [code]);
    return r ? { code: r.code as string, name: r.name as string, unitCode: r.unit_code as string, opdCode: r.opd_code as string } : null;
  }
  async activeStaffOfUnit(unitCode: string) {
    return (await this.all('SELECT nip, name FROM staff WHERE unit_code = $1 AND active = 1 ORDER BY nip', [unitCode])) as { nip: string; name: string }[];
  }

  // ---------------------------------------------------------------- enrolment tokens
  async insertEnrolToken(t: Omit<EnrolTokenRecord, 'usedAt'>) {
    await this.pool.query('INSERT INTO enrol_tokens (token_hash, device_id, site_code, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)', [t.tokenHash, t.deviceId, t.siteCode, t.createdAt, t.expiresAt]);
  }
  async getEnrolToken(hash: string): Promise<EnrolTokenRecord | null> {
    const r = await this.one('SELECT * FROM enrol_tokens WHERE token_hash = $1', [hash]);
    return r ? toEnrolToken(r) : null;
  }
  async useEnrolToken(hash: string, at: string) {
    return (await this.changes('UPDATE enrol_tokens SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL', [at, hash])) === 1;
  }

  // ---------------------------------------------------------------- ingest
  /** Stores a punch once: its key first (ON CONFLICT DO NOTHING), then its body. False: the id or (device, seq) was taken. */
  private async insertPunch(c: Q, cols: Record<(typeof PUNCH_COLS)[number], unknown>): Promise<boolean> {
    const k = await c.query('INSERT INTO punch_keys (id, device_id, seq, captured_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING', [cols.id, cols.device_id, cols.seq, cols.captured_at]);
    if (k.rowCount !== 1) return false;
    await c.query(INSERT_PUNCH, PUNCH_COLS.map((k) => cols[k]));
    return true;
  }

  async ingestBatch(items: IngestItem[], rejections: RejectionRecord[]): Promise<IngestBatchResult> {
    await this.ensurePartitions(items.map((i) => i.punch.capturedAt));
    // Two workers handed the same re-sent punches in crossing batches can deadlock on each other's
    // keys; PostgreSQL aborts one, which is simply run again (nothing of it was written or acked).
    for (let attempt = 1; ; attempt++) {
      const rej = [...rejections];
      try {
        const r = await inTransaction(this.pool, (c) => this.ingestIn(c, items, rej));
        rejections.splice(0, rejections.length, ...rej);
        return r;
      } catch (e) {
        const code = (e as { code?: string }).code;
        if (attempt >= 3 || (code !== '40P01' && code !== '40001')) throw e;
      }
    }
  }

  /**
   * One batch, set-based: a handful of statements whatever its size (the row-by-row version made
   * 4–6 round trips per punch). First, without any device lock, the heavy part: every candidate
   * key with one `INSERT … SELECT FROM unnest(…) ON CONFLICT DO NOTHING RETURNING id` (the keys'
   * unique indexes make each punch exactly once), the bodies and photos of the new ones, and what
   * the others collided with (duplicate, replay_conflict, seq_conflict). Then the batch's devices
   * are locked (FOR UPDATE, in id order) for the short part that needs one worker at a time per
   * device: the hash-chain check against the neighbours now visible, gaps, contiguous seq and the
   * device rows. Under the lock every batch of the same device committed before is visible, so
   * hub workers storing punches of one kiosk at once keep its seq state and chain checks exact —
   * the outcome is that of storing the batches one after another, as the SQLite store does.
   */
  private async ingestIn(c: pg.PoolClient, items: IngestItem[], rejections: RejectionRecord[]): Promise<IngestBatchResult> {
    const stored: IngestBatchResult['stored'] = [];
    const chainBreaks: IngestBatchResult['chainBreaks'] = [];
    let duplicates = 0;
    // Per device in seq order (a batch carrying 7,6,5 opens no gap at 5..6); equal seqs keep arrival order.
    const sorted = [...items].sort((a, b) => (a.punch.deviceId < b.punch.deviceId ? -1 : a.punch.deviceId > b.punch.deviceId ? 1 : a.punch.seq - b.punch.seq));
    const seqKey = (d: string, seq: number) => `${d}\u0000${seq}`;

    // 1. Candidates: the first of each id and of each (device, seq) in the batch; the rest can only collide.
    const hashes = sorted.map((it) => it.hash ?? punchHash(it.punch));
    const seenId = new Set<string>();
    const seenSeq = new Set<string>();
    const cand: number[] = [];
    sorted.forEach((it, i) => {
      const p = it.punch, k = seqKey(p.deviceId, p.seq);
      if (seenId.has(p.id) || seenSeq.has(k)) return;
      seenId.add(p.id);
      seenSeq.add(k);
      cand.push(i);
    });
    // keys in id order: two transactions waiting on each other's keys wait in one order
    const byId = [...cand].sort((a, b) => (sorted[a]!.punch.id < sorted[b]!.punch.id ? -1 : 1));
    const col = <T>(idx: number[], f: (i: number) => T) => idx.map(f);
    const inserted = new Set(
      (
        await c.query(
          'INSERT INTO punch_keys (id, device_id, seq, captured_at) SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[]) ON CONFLICT DO NOTHING RETURNING id',
          [col(byId, (i) => sorted[i]!.punch.id), col(byId, (i) => sorted[i]!.punch.deviceId), col(byId, (i) => sorted[i]!.punch.seq), col(byId, (i) => sorted[i]!.punch.capturedAt)],
        )
      ).rows.map((r: Row) => r.id as string),
    );
    const newIdx = cand.filter((i) => inserted.has(sorted[i]!.punch.id));
    const newSet = new Set(newIdx);
    const isNew = (i: number) => newSet.has(i);
    const newAt = new Map<string, number>(newIdx.map((i) => [seqKey(sorted[i]!.punch.deviceId, sorted[i]!.punch.seq), i]));

    // 2. The bodies (and photos) of the new keys, into their month partitions (chain breaks are flagged in step 5).
    if (newIdx.length) {
      const cols: unknown[][] = INGEST_COLS.map(() => []);
      for (const i of newIdx) {
        const it = sorted[i]!;
        const row = punchRow(it.punch, it.siteCode, it.receivedAt, it.reviewReason ?? null, hashes[i]!, 0);
        row.push(it.punch.seq);
        for (let k = 0; k < row.length; k++) cols[k]!.push(row[k]);
      }
      await c.query(INSERT_PUNCHES, cols);
      const photos = newIdx.filter((i) => sorted[i]!.punch.photo);
      if (photos.length) {
        await c.query('INSERT INTO punch_photos (punch_id, jpeg) SELECT * FROM unnest($1::text[], $2::bytea[]) ON CONFLICT DO NOTHING', [
          photos.map((i) => sorted[i]!.punch.id),
          photos.map((i) => Buffer.from(sorted[i]!.punch.photo!, 'base64')),
        ]);
      }
    }

    // 3. What the others collided with (read after step 2, so a repeat within this batch sees its first).
    const others = sorted.map((_, i) => i).filter((i) => !isNew(i));
    const existing = new Map<string, Row>();
    if (others.length) {
      for (const r of (await c.query('SELECT id, device_id, seq, sig FROM punches WHERE id = ANY($1)', [[...new Set(others.map((i) => sorted[i]!.punch.id))]])).rows as Row[]) existing.set(r.id as string, r);
    }

    // 4. One worker at a time per device from here to the commit.
    const ids = [...new Set(items.map((i) => i.punch.deviceId))].sort();
    const state = new Map((await c.query('SELECT id, contiguous_seq, max_seq FROM devices WHERE id = ANY($1) ORDER BY id FOR UPDATE', [ids])).rows.map((r: Row) => [r.id as string, r]));

    // 5. Hash chain: prevHash must be the hash of the punch stored at seq − 1 (new in this batch or
    // stored before); unknown while seq − 1 is missing — then checked from the other side when it comes.
    const storedAt = new Map<string, Row>();
    const want = newIdx.flatMap((i) => {
      const p = sorted[i]!.punch;
      return [...(p.seq > 1 ? [[p.deviceId, p.seq - 1] as const] : []), [p.deviceId, p.seq + 1] as const];
    });
    if (want.length) {
      const rows = (
        await c.query('SELECT p.id, p.device_id, p.seq, p.hash, p.prev_hash, p.chain_break FROM punches p JOIN unnest($1::text[], $2::bigint[]) AS w(device_id, seq) ON p.device_id = w.device_id AND p.seq = w.seq', [
          want.map((w) => w[0]),
          want.map((w) => w[1]),
        ])
      ).rows as Row[];
      for (const r of rows) storedAt.set(seqKey(r.device_id as string, r.seq as number), r);
    }
    const breaks = new Set<number>();
    const laterBreaks = new Map<number, Row>();
    for (const i of newIdx) {
      const p = sorted[i]!.punch;
      const prevKnown = p.seq === 1 ? GENESIS_HASH : (storedAt.get(seqKey(p.deviceId, p.seq - 1))?.hash as string | null | undefined);
      if (prevKnown !== undefined && prevKnown !== null && prevKnown !== p.prevHash) breaks.add(i);
      // a later punch stored before this one: does it follow this one?
      const next = storedAt.get(seqKey(p.deviceId, p.seq + 1));
      if (next && !newAt.has(seqKey(p.deviceId, p.seq + 1)) && next.prev_hash !== hashes[i] && next.chain_break === 0) laterBreaks.set(i, next);
    }
    const flag = [...[...breaks].map((i) => sorted[i]!.punch.id), ...[...laterBreaks.values()].map((r) => r.id as string)];
    if (flag.length) await c.query('UPDATE punches SET chain_break = 1 WHERE id = ANY($1)', [flag]);

    // 6. Outcomes in (device, seq) order, as one-at-a-time storing would give them.
    const devices = new Map<string, DeviceBatchOutcome & { newSeqs: number[]; lastAt: string }>();
    const conflicts: { it: IngestItem }[] = [];
    sorted.forEach((it, i) => {
      const p = it.punch;
      let out = devices.get(p.deviceId);
      if (!out) devices.set(p.deviceId, (out = { ids: [], rejected: [], contiguousSeq: 0, newSeqs: [], lastAt: it.receivedAt }));
      out.lastAt = it.receivedAt;
      if (isNew(i)) {
        if (breaks.has(i)) chainBreaks.push({ id: p.id, deviceId: p.deviceId, seq: p.seq });
        const later = laterBreaks.get(i);
        if (later) chainBreaks.push({ id: later.id as string, deviceId: p.deviceId, seq: p.seq + 1 });
        out.ids.push(p.id);
        out.newSeqs.push(p.seq);
        stored.push({ id: p.id, nip: p.nip, capturedAt: p.capturedAt });
        return;
      }
      const refusal = settleUnstored(out, it, existing.get(p.id), rejections);
      if (!refusal) duplicates++;
      else if (refusal.code === 'seq_conflict') conflicts.push({ it });
    });
    if (conflicts.length) {
      // A real, verified punch (typically a kiosk whose journal was wiped): kept whole for recovery.
      await c.query('INSERT INTO punch_conflicts (id, device_id, seq, site_code, punch, received_at) SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[]) ON CONFLICT DO NOTHING', [
        conflicts.map((x) => x.it.punch.id), conflicts.map((x) => x.it.punch.deviceId), conflicts.map((x) => x.it.punch.seq), conflicts.map((x) => x.it.siteCode),
        conflicts.map((x) => JSON.stringify(x.it.punch)), conflicts.map((x) => x.it.receivedAt),
      ]);
    }

    // 7. Seq state: new gaps, contiguous seq, gaps now filled, the device rows.
    const gaps: [string, number, number, string][] = [];
    const upd: [string, number, number, string][] = [];
    for (const [deviceId, out] of devices) {
      const st = state.get(deviceId);
      if (!st) continue;
      let max = st.max_seq as number;
      for (const seq of out.newSeqs) {
        if (seq > max + 1) gaps.push([deviceId, max + 1, seq - 1, out.lastAt]);
        if (seq > max) max = seq;
      }
      const fresh = new Set(out.newSeqs);
      let cs = st.contiguous_seq as number;
      while (cs < max && fresh.has(cs + 1)) cs++;
      if (cs < max && cs + 1 <= (st.max_seq as number)) {
        // past seqs stored before: the first one missing from the keys (one statement, however far)
        const r = (await c.query('SELECT min(s) AS m FROM generate_series($2::bigint, $3::bigint) s WHERE NOT EXISTS (SELECT 1 FROM punch_keys k WHERE k.device_id = $1 AND k.seq = s)', [deviceId, cs + 1, max])).rows[0] as Row;
        cs = r.m === null ? max : (r.m as number) - 1;
      }
      out.contiguousSeq = cs;
      upd.push([deviceId, cs, max, out.lastAt]);
    }
    if (gaps.length) {
      await c.query('INSERT INTO seq_gaps (device_id, from_seq, to_seq, detected_at) SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[]) ON CONFLICT DO NOTHING', [
        gaps.map((g) => g[0]), gaps.map((g) => g[1]), gaps.map((g) => g[2]), gaps.map((g) => g[3]),
      ]);
    }
    const closing = upd.filter(([d]) => devices.get(d)!.newSeqs.length);
    if (closing.length) {
      // A gap is closed once it lies below the contiguous seq or every seq in it is stored.
      await c.query(
        `UPDATE seq_gaps g SET closed_at = u.at FROM unnest($1::text[], $2::bigint[], $3::text[]) AS u(device_id, cs, at)
          WHERE g.device_id = u.device_id AND g.closed_at IS NULL
            AND (g.to_seq <= u.cs OR (SELECT count(*) FROM punch_keys k WHERE k.device_id = g.device_id AND k.seq BETWEEN g.from_seq AND g.to_seq) = g.to_seq - g.from_seq + 1)`,
        [closing.map((u) => u[0]), closing.map((u) => u[1]), closing.map((u) => u[3])],
      );
    }
    if (upd.length) {
      await c.query(
        `UPDATE devices d SET contiguous_seq = u.cs, max_seq = u.mx, last_seen_at = greatest(coalesce(d.last_seen_at, ''), u.at)
          FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[]) AS u(id, cs, mx, at) WHERE d.id = u.id`,
        [upd.map((u) => u[0]), upd.map((u) => u[1]), upd.map((u) => u[2]), upd.map((u) => u[3])],
      );
    }
    await this.recordIn(c, rejections);
    const result = new Map<string, DeviceBatchOutcome>();
    for (const [id, o] of devices) result.set(id, { ids: o.ids, rejected: o.rejected, contiguousSeq: o.contiguousSeq });
    return { devices: result, stored, duplicates, chainBreaks };
  }

  private async recordIn(c: Q, rejections: RejectionRecord[]) {
    if (!rejections.length) return;
    await c.query(
      `INSERT INTO rejections (at, device_id, topic, code, reason, punch_id) SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[])`,
      [rejections.map((r) => r.at), rejections.map((r) => r.deviceId), rejections.map((r) => r.topic), rejections.map((r) => r.code), rejections.map((r) => r.reason), rejections.map((r) => r.punchId)],
    );
    await c.query('DELETE FROM rejections WHERE id <= (SELECT max(id) FROM rejections) - $1', [MAX_REJECTIONS]);
  }
  async recordRejections(rejections: RejectionRecord[]) {
    if (rejections.length) await inTransaction(this.pool, (c) => this.recordIn(c, rejections));
  }

  private where(f: PunchFilter): { sql: string; args: unknown[] } {
    return pgWhere([
      ['captured_at >= ?', f.from],
      ['captured_at < ?', f.to],
      ['device_id = ?', f.deviceId],
      ['nip = ?', f.nip],
      ['nip IN (SELECT nip FROM staff WHERE opd_code = ?)', f.opdCode],
    ]);
  }
  async queryPunches(f: PunchFilter) {
    const { sql, args } = this.where(f);
    const dir = f.order === 'desc' ? 'DESC' : '';
    const rows = await this.all(`SELECT * FROM punches ${sql} ORDER BY captured_at ${dir}, id ${dir} LIMIT $${args.length + 1} OFFSET $${args.length + 2}`, [...args, f.limit ?? null, f.offset ?? 0]);
    return rows.map(toPunch);
  }
  async countPunches(f: PunchFilter) {
    const { sql, args } = this.where(f);
    return (await this.one(`SELECT count(*) AS n FROM punches ${sql}`, args))!.n as number;
  }

  // ---------------------------------------------------------------- seq_conflict recovery
  private static readonly CONFLICTS = `SELECT c.*, p.id AS stored_id, p.imported_by AS stored_by FROM punch_conflicts c LEFT JOIN punches p ON p.id = c.id
    WHERE c.device_id = $1 ORDER BY c.seq, c.received_at, c.id`;
  async punchConflicts(deviceId: string): Promise<PunchConflict[]> {
    return (await this.all(PgCoreStore.CONFLICTS, [deviceId])).map((r) => ({
      id: r.id as string, deviceId: r.device_id as string, seq: r.seq as number, siteCode: (r.site_code as string) ?? null, receivedAt: r.received_at as string,
      punch: JSON.parse(r.punch as string) as Punch, recovered: r.stored_id !== null, recoveredBy: (r.stored_by as string) ?? null,
    }));
  }
  async recoverConflicts(deviceId: string, ids: readonly string[] | null, by: string): Promise<RecoverResult> {
    const all = new Map((await this.all(PgCoreStore.CONFLICTS, [deviceId])).map((r) => [r.id as string, r]));
    const wanted = ids ? [...new Set(ids)] : [...all.keys()];
    const unknown = wanted.filter((id) => !all.has(id));
    const res: RecoverResult = { stored: [], already: [], unknown };
    if (unknown.length) return res;
    const punches = wanted.map((id) => JSON.parse(all.get(id)!.punch as string) as Punch);
    await this.ensurePartitions(punches.map((p) => p.capturedAt));
    return inTransaction(this.pool, async (c) => {
      for (const [i, id] of wanted.entries()) {
        const r = all.get(id)!;
        const p = punches[i]!;
        const cols = { ...punchColumns(p, (r.site_code as string) ?? null, r.received_at as string), seq: null, hash: punchHash(p), imported_by: by, note: RECOVERED_NOTE };
        if (!(await this.insertPunch(c, cols))) {
          res.already.push(id);
          continue;
        }
        if (p.photo) await c.query('INSERT INTO punch_photos (punch_id, jpeg) VALUES ($1, $2) ON CONFLICT DO NOTHING', [p.id, Buffer.from(p.photo, 'base64')]);
        res.stored.push(id);
      }
      return res;
    });
  }

  // ---------------------------------------------------------------- users, tokens, sessions
  async insertUser(u: { username: string; name: string; role: Role; opdCode: string | null; createdAt: string }) {
    await this.pool.query('INSERT INTO users (username, display_name, role, opd_code, created_at) VALUES ($1, $2, $3, $4, $5)', [u.username, u.name, u.role, u.opdCode, u.createdAt]);
  }
  async getUser(username: string) {
    const r = await this.one('SELECT * FROM users WHERE username = $1', [username]);
    return r ? toUser(r) : null;
  }
  async insertApiToken(t: { tokenHash: string; username: string; label: string | null; createdAt: string }) {
    await this.pool.query('INSERT INTO api_tokens (token_hash, username, label, created_at) VALUES ($1, $2, $3, $4)', [t.tokenHash, t.username, t.label, t.createdAt]);
  }
  async userByTokenHash(hash: string, at: string) {
    const r = await this.one(
      `SELECT u.*, t.label AS token_label, t.created_at AS token_created_at, t.last_used_at FROM api_tokens t JOIN users u ON u.username = t.username WHERE t.token_hash = $1`,
      [hash],
    );
    if (!r) return null;
    const last = r.last_used_at as string | null;
    if (!last || Date.parse(at) - Date.parse(last) > 60_000) await this.touchApiToken(hash, at);
    const token: ApiTokenInfo = { label: (r.token_label as string) ?? null, createdAt: r.token_created_at as string, lastUsedAt: last ?? null };
    return { ...toUser(r), token };
  }
  async deleteApiToken(hash: string) {
    return (await this.changes('DELETE FROM api_tokens WHERE token_hash = $1', [hash])) > 0;
  }
  async opdExists(code: string) {
    return !!(await this.one('SELECT 1 FROM opd WHERE code = $1', [code]));
  }
  async passwordHash(username: string) {
    const r = await this.one('SELECT password_hash FROM users WHERE username = $1', [username]);
    return r ? { hash: (r.password_hash as string) ?? null } : null;
  }
  async setPasswordHash(username: string, hash: string) {
    await this.pool.query('UPDATE users SET password_hash = $1 WHERE username = $2', [hash, username]);
  }
  async touchApiToken(tokenHash: string, at: string) {
    await this.pool.query('UPDATE api_tokens SET last_used_at = $1 WHERE token_hash = $2', [at, tokenHash]);
  }
  async deleteApiTokenLabelled(tokenHash: string, label: string) {
    return (await this.changes('DELETE FROM api_tokens WHERE token_hash = $1 AND label = $2', [tokenHash, label])) > 0;
  }
  async purgeApiTokens(label: string, lastUsedBefore: string, createdBefore: string) {
    return this.changes('DELETE FROM api_tokens WHERE label = $1 AND (coalesce(last_used_at, created_at) < $2 OR created_at < $3)', [label, lastUsedBefore, createdBefore]);
  }
  async listOpds(code?: string | null) {
    return (code === undefined ? await this.all('SELECT code, name FROM opd ORDER BY name') : await this.all('SELECT code, name FROM opd WHERE code = $1', [code])) as { code: string; name: string }[];
  }
  async close() {
    await this.pool.end();
  }
}
