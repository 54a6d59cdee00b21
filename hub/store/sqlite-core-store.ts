import type { SqliteDb } from './sqlite.js';
import type {
  CoreStore, DeviceBatchOutcome, DeviceRecord, EnrolTokenRecord, IngestBatchResult, IngestItem, PunchConflict, PunchFilter, PunchRow,
  RecoverResult, RejectionRecord, SeqGap, SiteRecord, UserRecord, ApiTokenInfo,
} from './core-store.js';
import { RECOVERED_NOTE } from './core-store.js';
import { GENESIS_HASH, punchHash, type Punch } from '../../protocol/index.js';
import { MAX_REJECTIONS, PUNCH_ROW_COLS, punchColumns, punchRow, settleUnstored, toDevice, toEnrolToken, toPunch, toUser } from './core-rows.js';
import type { Role } from '../module-contract.js';

type Row = Record<string, unknown>;

/**
 * SQLite implementation of the core store. All statements are prepared once; a whole ingest
 * batch is one transaction (WAL, synchronous=FULL: one fsync per batch, not per punch).
 */
export class SqliteCoreStore implements CoreStore {
  private readonly s;

  constructor(readonly db: SqliteDb) {
    const p = (sql: string) => db.prepare(sql);
    this.s = {
      device: p('SELECT * FROM devices WHERE id = ?'),
      devices: p('SELECT * FROM devices ORDER BY id'),
      devicesOfOpd: p(`SELECT d.* FROM devices d JOIN sites s ON s.code = d.site_code JOIN units u ON u.code = s.unit_code
                       WHERE u.opd_code = ? ORDER BY d.id`),
      insertDevice: p('INSERT INTO devices (id, site_code, created_at) VALUES (?, ?, ?)'),
      enrolled: p('UPDATE devices SET public_key_pem = ?, mqtt_secret_hash = ?, enrolled_at = ?, broker_password_hash = ? WHERE id = ?'),
      upgradeSecret: p('UPDATE devices SET mqtt_secret_hash = ? WHERE id = ? AND mqtt_secret_hash = ?'),
      status: p('UPDATE devices SET online = ?, status_at = ?, last_seen_at = max(coalesce(last_seen_at, \'\'), ?) WHERE id = ?'),
      health: p('UPDATE devices SET backlog = ?, backlog_oldest_at = ?, last_seen_at = max(coalesce(last_seen_at, \'\'), ?) WHERE id = ?'),
      disable: p('UPDATE devices SET disabled_at = coalesce(disabled_at, ?), disabled_reason = ?, disabled_by = ? WHERE id = ?'),
      enable: p('UPDATE devices SET disabled_at = NULL, disabled_reason = NULL, disabled_by = NULL WHERE id = ?'),
      disabledIds: p('SELECT id FROM devices WHERE disabled_at IS NOT NULL ORDER BY id').pluck(),
      gapsAll: p('SELECT * FROM seq_gaps ORDER BY device_id, from_seq'),
      gapsDev: p('SELECT * FROM seq_gaps WHERE device_id = ? ORDER BY from_seq'),
      openGapsDev: p('SELECT * FROM seq_gaps WHERE device_id = ? AND closed_at IS NULL ORDER BY from_seq'),
      openGapsAll: p('SELECT * FROM seq_gaps WHERE closed_at IS NULL ORDER BY device_id, from_seq'),
      site: p(`SELECT s.code, s.name, s.unit_code, u.opd_code FROM sites s JOIN units u ON u.code = s.unit_code WHERE s.code = ?`),
      staffOfUnit: p('SELECT nip, name FROM staff WHERE unit_code = ? AND active = 1 ORDER BY nip'),
      insertToken: p('INSERT INTO enrol_tokens (token_hash, device_id, site_code, created_at, expires_at) VALUES (?, ?, ?, ?, ?)'),
      token: p('SELECT * FROM enrol_tokens WHERE token_hash = ?'),
      useToken: p('UPDATE enrol_tokens SET used_at = ? WHERE token_hash = ? AND used_at IS NULL'),
      // positional (punchRow, then seq): the one statement run per ingested punch
      insertPunch: p(`INSERT OR IGNORE INTO punches (${PUNCH_ROW_COLS.join(', ')}, seq) VALUES (${PUNCH_ROW_COLS.map(() => '?').join(', ')}, ?)`),
      hashAt: p('SELECT hash FROM punches WHERE device_id = ? AND seq = ?').pluck(),
      nextOf: p('SELECT id, prev_hash, chain_break FROM punches WHERE device_id = ? AND seq = ?'),
      markBreak: p('UPDATE punches SET chain_break = 1 WHERE id = ?'),
      chainBreakCounts: p('SELECT device_id, count(*) AS n FROM punches WHERE chain_break = 1 GROUP BY device_id'),
      pruneRejections: p('DELETE FROM rejections WHERE id <= (SELECT max(id) FROM rejections) - ?'),
      punchById: p('SELECT id, device_id, seq, sig FROM punches WHERE id = ?'),
      seqExists: p('SELECT 1 FROM punches WHERE device_id = ? AND seq = ?').pluck(),
      insertPhoto: p('INSERT OR IGNORE INTO punch_photos (punch_id, jpeg) VALUES (?, ?)'),
      seqState: p('SELECT contiguous_seq, max_seq FROM devices WHERE id = ?'),
      setSeq: p('UPDATE devices SET contiguous_seq = ?, max_seq = ?, last_seen_at = max(coalesce(last_seen_at, \'\'), ?) WHERE id = ?'),
      insertGap: p('INSERT OR IGNORE INTO seq_gaps (device_id, from_seq, to_seq, detected_at) VALUES (?, ?, ?, ?)'),
      countRange: p('SELECT count(*) FROM punches WHERE device_id = ? AND seq BETWEEN ? AND ?').pluck(),
      closeGap: p('UPDATE seq_gaps SET closed_at = ? WHERE device_id = ? AND from_seq = ?'),
      insertConflict: p('INSERT OR IGNORE INTO punch_conflicts (id, device_id, seq, site_code, punch, received_at) VALUES (?, ?, ?, ?, ?, ?)'),
      conflicts: p(`SELECT c.*, p.id AS stored_id, p.imported_by AS stored_by FROM punch_conflicts c LEFT JOIN punches p ON p.id = c.id
                    WHERE c.device_id = ? ORDER BY c.seq, c.received_at, c.id`),
      insertRecovered: p(`INSERT OR IGNORE INTO punches (id, device_id, seq, nip, method, captured_at, site_code, clock_synced, clock_source,
                        clock_offset_ms, clock_error_ms, boot_id, mono_ms, score, liveness, prev_hash, sig, has_photo, received_at, imported_by, note, review_status, review_reason, hash)
                      VALUES (@id, @device_id, NULL, @nip, @method, @captured_at, @site_code, @clock_synced, @clock_source,
                        @clock_offset_ms, @clock_error_ms, @boot_id, @mono_ms, @score, @liveness, @prev_hash, @sig, @has_photo, @received_at, @imported_by, @note, @review_status, @review_reason, @hash)`),
      insertRejection: p('INSERT INTO rejections (at, device_id, topic, code, reason, punch_id) VALUES (?, ?, ?, ?, ?, ?)'),
      insertUser: p('INSERT INTO users (username, display_name, role, opd_code, created_at) VALUES (?, ?, ?, ?, ?)'),
      user: p('SELECT * FROM users WHERE username = ?'),
      insertApiToken: p('INSERT INTO api_tokens (token_hash, username, label, created_at) VALUES (?, ?, ?, ?)'),
      userByToken: p(`SELECT u.*, t.label AS token_label, t.created_at AS token_created_at, t.last_used_at
                      FROM api_tokens t JOIN users u ON u.username = t.username WHERE t.token_hash = ?`),
      deleteToken: p('DELETE FROM api_tokens WHERE token_hash = ?'),
      touchToken: p('UPDATE api_tokens SET last_used_at = ? WHERE token_hash = ?'),
      opd: p('SELECT 1 FROM opd WHERE code = ?').pluck(),
    };
  }

  async getDevice(id: string) {
    const r = this.s.device.get(id) as Row | undefined;
    return r ? toDevice(r) : null;
  }
  async listDevices(opts: { opdCode?: string } = {}) {
    const rows = (opts.opdCode ? this.s.devicesOfOpd.all(opts.opdCode) : this.s.devices.all()) as Row[];
    return rows.map(toDevice);
  }
  async insertDevice(d: { id: string; siteCode: string; createdAt: string }) {
    this.s.insertDevice.run(d.id, d.siteCode, d.createdAt);
  }
  async setDeviceEnrolled(id: string, pem: string, secretHash: string, at: string, brokerHash: string | null = null) {
    this.s.enrolled.run(pem, secretHash, at, brokerHash, id);
  }
  async upgradeDeviceSecretHash(id: string, from: string, to: string) {
    return this.s.upgradeSecret.run(to, id, from).changes > 0;
  }
  async setDeviceStatus(id: string, online: boolean, at: string) {
    return this.s.status.run(online ? 1 : 0, at, at, id).changes > 0;
  }
  async setDeviceStatuses(rows: readonly { id: string; online: boolean; at: string }[]) {
    return this.db.transaction(() => rows.filter((r) => this.s.status.run(r.online ? 1 : 0, r.at, r.at, r.id).changes > 0).map((r) => r.id))();
  }
  async setDeviceHealth(id: string, backlog: number, oldestAt: string | null, at: string) {
    return this.s.health.run(backlog, oldestAt, at, id).changes > 0;
  }
  async disableDevice(id: string, d: { at: string; reason: string; by: string }) {
    if (this.s.disable.run(d.at, d.reason, d.by, id).changes === 0) return null;
    return this.getDevice(id);
  }
  async enableDevice(id: string) {
    if (this.s.enable.run(id).changes === 0) return null;
    return this.getDevice(id);
  }
  async disabledDeviceIds() {
    return this.s.disabledIds.all() as string[];
  }
  async chainBreakCounts() {
    return new Map((this.s.chainBreakCounts.all() as { device_id: string; n: number }[]).map((r) => [r.device_id, r.n]));
  }
  async seqGaps(deviceId?: string, openOnly = false): Promise<SeqGap[]> {
    const st = deviceId ? (openOnly ? this.s.openGapsDev : this.s.gapsDev) : openOnly ? this.s.openGapsAll : this.s.gapsAll;
    const rows = (deviceId ? st.all(deviceId) : st.all()) as Row[];
    return rows.map((r) => ({
      deviceId: r.device_id as string,
      fromSeq: r.from_seq as number,
      toSeq: r.to_seq as number,
      detectedAt: r.detected_at as string,
      closedAt: (r.closed_at as string) ?? null,
    }));
  }
  async getSite(code: string): Promise<SiteRecord | null> {
    const r = this.s.site.get(code) as Row | undefined;
    return r ? { code: r.code as string, name: r.name as string, unitCode: r.unit_code as string, opdCode: r.opd_code as string } : null;
  }
  async activeStaffOfUnit(unitCode: string) {
    return this.s.staffOfUnit.all(unitCode) as { nip: string; name: string }[];
  }
  async insertEnrolToken(t: Omit<EnrolTokenRecord, 'usedAt'>) {
    this.s.insertToken.run(t.tokenHash, t.deviceId, t.siteCode, t.createdAt, t.expiresAt);
  }
  async getEnrolToken(hash: string): Promise<EnrolTokenRecord | null> {
    const r = this.s.token.get(hash) as Row | undefined;
    return r ? toEnrolToken(r) : null;
  }
  async useEnrolToken(hash: string, at: string) {
    return this.s.useToken.run(at, hash).changes === 1;
  }

  async ingestBatch(items: IngestItem[], rejections: RejectionRecord[]): Promise<IngestBatchResult> {
    return this.db.transaction(() => this.ingestSync(items, rejections))();
  }

  /** One transaction: insert once per id, detect forged replays and seq conflicts, advance seq state. */
  private ingestSync(items: IngestItem[], rejections: RejectionRecord[]): IngestBatchResult {
    const s = this.s;
    const devices = new Map<string, DeviceBatchOutcome & { newSeqs: number[]; lastAt: string; maxBefore: number; hashes: Map<number, string> }>();
    const stored: IngestBatchResult['stored'] = [];
    const chainBreaks: IngestBatchResult['chainBreaks'] = [];
    let duplicates = 0;
    // Per device in seq order, so a batch carrying 7,6,5 does not open a gap at 5..6.
    const sorted = [...items].sort((a, b) => (a.punch.deviceId < b.punch.deviceId ? -1 : a.punch.deviceId > b.punch.deviceId ? 1 : a.punch.seq - b.punch.seq));
    for (const it of sorted) {
      const p = it.punch;
      let out = devices.get(p.deviceId);
      if (!out) {
        const st = s.seqState.get(p.deviceId) as { max_seq: number } | undefined;
        devices.set(p.deviceId, (out = { ids: [], rejected: [], contiguousSeq: 0, newSeqs: [], lastAt: it.receivedAt, maxBefore: st?.max_seq ?? 0, hashes: new Map() }));
      }
      out.lastAt = it.receivedAt;
      // Hash chain: prevHash must be the hash of the device's stored punch seq − 1 (GENESIS for seq 1).
      // Unknown while seq − 1 is missing: then checked from the other side when it arrives.
      const hash = it.hash ?? punchHash(p);
      const prevKnown = p.seq === 1 ? GENESIS_HASH : out.hashes.get(p.seq - 1) ?? (p.seq - 1 <= out.maxBefore ? (s.hashAt.get(p.deviceId, p.seq - 1) as string | undefined) : undefined);
      const breaks = prevKnown !== undefined && prevKnown !== null && prevKnown !== p.prevHash;
      const row = punchRow(p, it.siteCode, it.receivedAt, it.reviewReason ?? null, hash, breaks ? 1 : 0);
      row.push(p.seq);
      const res = s.insertPunch.run(row);
      if (res.changes === 1) {
        out.hashes.set(p.seq, hash);
        if (breaks) chainBreaks.push({ id: p.id, deviceId: p.deviceId, seq: p.seq });
        if (p.seq < out.maxBefore) {
          // a later punch stored before this one: does it follow this one?
          const next = s.nextOf.get(p.deviceId, p.seq + 1) as { id: string; prev_hash: string | null; chain_break: number } | undefined;
          if (next && next.prev_hash !== hash && next.chain_break === 0) {
            s.markBreak.run(next.id);
            chainBreaks.push({ id: next.id, deviceId: p.deviceId, seq: p.seq + 1 });
          }
        }
        if (p.photo) s.insertPhoto.run(p.id, Buffer.from(p.photo, 'base64'));
        out.ids.push(p.id);
        out.newSeqs.push(p.seq);
        stored.push({ id: p.id, nip: p.nip, capturedAt: p.capturedAt });
        continue;
      }
      const refusal = settleUnstored(out, it, s.punchById.get(p.id) as Row | undefined, rejections);
      if (!refusal) duplicates++;
      // A real, verified punch (typically a kiosk whose journal was wiped): keep it whole for recovery.
      else if (refusal.code === 'seq_conflict') s.insertConflict.run(p.id, p.deviceId, p.seq, it.siteCode, JSON.stringify(p), it.receivedAt);
    }
    for (const [deviceId, out] of devices) {
      const st = s.seqState.get(deviceId) as { contiguous_seq: number; max_seq: number } | undefined;
      if (!st) continue;
      let max = st.max_seq;
      for (const seq of out.newSeqs) {
        if (seq > max + 1) s.insertGap.run(deviceId, max + 1, seq - 1, out.lastAt);
        if (seq > max) max = seq;
      }
      const fresh = new Set(out.newSeqs);
      let c = st.contiguous_seq;
      while (c < max && (fresh.has(c + 1) || s.seqExists.get(deviceId, c + 1))) c++;
      if (out.newSeqs.length) {
        for (const g of s.openGapsDev.all(deviceId) as Row[]) {
          const from = g.from_seq as number, to = g.to_seq as number;
          if (to <= c || (s.countRange.get(deviceId, from, to) as number) === to - from + 1) s.closeGap.run(out.lastAt, deviceId, from);
        }
      }
      s.setSeq.run(c, max, out.lastAt, deviceId);
      out.contiguousSeq = c;
    }
    this.recordSync(rejections);
    const result = new Map<string, DeviceBatchOutcome>();
    for (const [id, o] of devices) result.set(id, { ids: o.ids, rejected: o.rejected, contiguousSeq: o.contiguousSeq });
    return { devices: result, stored, duplicates, chainBreaks };
  }

  /** Refusals are kept for inspection, the newest MAX_REJECTIONS only: a flood of bad messages cannot grow the table without bound (metrics count them all). */
  private recordSync(rejections: RejectionRecord[]) {
    if (!rejections.length) return;
    for (const r of rejections) this.s.insertRejection.run(r.at, r.deviceId, r.topic, r.code, r.reason, r.punchId);
    this.s.pruneRejections.run(MAX_REJECTIONS);
  }
  async recordRejections(rejections: RejectionRecord[]) {
    if (rejections.length) this.db.transaction(() => this.recordSync(rejections))();
  }

  private where(f: PunchFilter): { sql: string; args: unknown[] } {
    const w: string[] = [];
    const args: unknown[] = [];
    if (f.from) (w.push('captured_at >= ?'), args.push(f.from));
    if (f.to) (w.push('captured_at < ?'), args.push(f.to));
    if (f.deviceId) (w.push('device_id = ?'), args.push(f.deviceId));
    if (f.nip) (w.push('nip = ?'), args.push(f.nip));
    if (f.opdCode) (w.push('nip IN (SELECT nip FROM staff WHERE opd_code = ?)'), args.push(f.opdCode));
    return { sql: w.length ? `WHERE ${w.join(' AND ')}` : '', args };
  }
  async queryPunches(f: PunchFilter) {
    const { sql, args } = this.where(f);
    const limit = f.limit ?? -1;
    const rows = this.db.prepare(`SELECT * FROM punches ${sql} ORDER BY captured_at ${f.order === 'desc' ? 'DESC' : ''}, id ${f.order === 'desc' ? 'DESC' : ''} LIMIT ? OFFSET ?`).all(...args, limit, f.offset ?? 0) as Row[];
    return rows.map(toPunch);
  }
  async countPunches(f: PunchFilter) {
    const { sql, args } = this.where(f);
    return this.db.prepare(`SELECT count(*) FROM punches ${sql}`).pluck().get(...args) as number;
  }

  async punchConflicts(deviceId: string): Promise<PunchConflict[]> {
    return (this.s.conflicts.all(deviceId) as Row[]).map((r) => ({
      id: r.id as string,
      deviceId: r.device_id as string,
      seq: r.seq as number,
      siteCode: (r.site_code as string) ?? null,
      receivedAt: r.received_at as string,
      punch: JSON.parse(r.punch as string) as Punch,
      recovered: r.stored_id !== null,
      recoveredBy: (r.stored_by as string) ?? null,
    }));
  }

  async recoverConflicts(deviceId: string, ids: readonly string[] | null, by: string): Promise<RecoverResult> {
    const s = this.s;
    return this.db.transaction((): RecoverResult => {
      const all = new Map((s.conflicts.all(deviceId) as Row[]).map((r) => [r.id as string, r]));
      const wanted = ids ? [...new Set(ids)] : [...all.keys()];
      const unknown = wanted.filter((id) => !all.has(id));
      const res: RecoverResult = { stored: [], already: [], unknown };
      if (unknown.length) return res;
      for (const id of wanted) {
        const r = all.get(id)!;
        if (s.punchById.get(id)) {
          res.already.push(id);
          continue;
        }
        const p = JSON.parse(r.punch as string) as Punch;
        s.insertRecovered.run({ ...punchColumns(p, (r.site_code as string) ?? null, r.received_at as string), hash: punchHash(p), imported_by: by, note: RECOVERED_NOTE });
        if (p.photo) s.insertPhoto.run(p.id, Buffer.from(p.photo, 'base64'));
        res.stored.push(id);
      }
      return res;
    })();
  }

  async insertUser(u: { username: string; name: string; role: Role; opdCode: string | null; createdAt: string }) {
    this.s.insertUser.run(u.username, u.name, u.role, u.opdCode, u.createdAt);
  }
  async getUser(username: string) {
    const r = this.s.user.get(username) as Row | undefined;
    return r ? toUser(r) : null;
  }
  async insertApiToken(t: { tokenHash: string; username: string; label: string | null; createdAt: string }) {
    this.s.insertApiToken.run(t.tokenHash, t.username, t.label, t.createdAt);
  }
  async userByTokenHash(hash: string, at: string) {
    const r = this.s.userByToken.get(hash) as Row | undefined;
    if (!r) return null;
    // Bookkeeping at most once a minute per token: no write per API request.
    const last = r.last_used_at as string | null;
    if (!last || Date.parse(at) - Date.parse(last) > 60_000) this.s.touchToken.run(at, hash);
    const token: ApiTokenInfo = { label: (r.token_label as string) ?? null, createdAt: r.token_created_at as string, lastUsedAt: last ?? null };
    return { ...toUser(r), token };
  }
  async deleteApiToken(hash: string) {
    return this.s.deleteToken.run(hash).changes > 0;
  }
  async opdExists(code: string) {
    return !!this.s.opd.get(code);
  }
  async passwordHash(username: string) {
    const r = this.db.prepare('SELECT password_hash FROM users WHERE username = ?').get(username) as { password_hash: string | null } | undefined;
    return r ? { hash: r.password_hash } : null;
  }
  async setPasswordHash(username: string, hash: string) {
    this.db.prepare('UPDATE users SET password_hash = ? WHERE username = ?').run(hash, username);
  }
  async touchApiToken(tokenHash: string, at: string) {
    this.db.prepare('UPDATE api_tokens SET last_used_at = ? WHERE token_hash = ?').run(at, tokenHash);
  }
  async deleteApiTokenLabelled(tokenHash: string, label: string) {
    return this.db.prepare('DELETE FROM api_tokens WHERE token_hash = ? AND label = ?').run(tokenHash, label).changes > 0;
  }
  async purgeApiTokens(label: string, lastUsedBefore: string, createdBefore: string) {
    return this.db.prepare('DELETE FROM api_tokens WHERE label = ? AND (coalesce(last_used_at, created_at) < ? OR created_at < ?)').run(label, lastUsedBefore, createdBefore).changes;
  }
  async listOpds(code?: string | null) {
    return (code === undefined ? this.db.prepare('SELECT code, name FROM opd ORDER BY name').all() : this.db.prepare('SELECT code, name FROM opd WHERE code = ?').all(code)) as { code: string; name: string }[];
  }
  async close() {
    if (this.db.open) this.db.close();
  }
}
