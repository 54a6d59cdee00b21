import type { Health } from '../../protocol/index.js';
import type { SqliteDb } from '../store/sqlite.js';
import type { Async } from '../store/async.js';
import { camelRecord } from '../store/rows.js';
import { DEFAULT_RULES, alertRulesSchema, type AlertCondition, type AlertKind, type AlertRules } from './rules.js';

/**
 * SQL of the health module on SQLite (tables in migration 200_health.sql). The module reaches it
 * through HealthRepository (async); `hadir alerts` and `hadir kiosk status` use it directly.
 * Devices themselves (which exist, their OPD, online state) come from the CoreStore.
 */

export interface AlertRow {
  id: number;
  deviceId: string;
  kind: AlertKind;
  severity: string;
  detail: string;
  raisedAt: string;
  updatedAt: string;
  clearedAt: string | null;
  ackedBy: string | null;
  ackedAt: string | null;
}
export interface CommandRow {
  id: string;
  deviceId: string;
  cmd: string;
  args: unknown;
  sentAt: string;
  sentBy: string | null;
  resultAt: string | null;
  ok: boolean | null;
  result: unknown;
  error: string | null;
}

export const alertRow = (r: Record<string, unknown>): AlertRow =>
  camelRecord<AlertRow>(r, ['id', 'device_id', 'kind', 'severity', 'detail', 'raised_at', 'updated_at', 'cleared_at', 'acked_by', 'acked_at']);
const parseJson = (s: unknown) => (typeof s === 'string' ? JSON.parse(s) : null);
export const commandRow = (r: Record<string, unknown>): CommandRow => ({
  id: r.id as string,
  deviceId: r.device_id as string,
  cmd: r.cmd as string,
  args: parseJson(r.args),
  sentAt: r.sent_at as string,
  sentBy: (r.sent_by as string) ?? null,
  resultAt: (r.result_at as string) ?? null,
  ok: r.ok === null || r.ok === undefined ? null : r.ok === 1,
  result: parseJson(r.result),
  error: (r.error as string) ?? null,
});

export class HealthStore {
  constructor(private readonly db: SqliteDb) {}

  insertHealth(deviceId: string, h: Health, receivedAt: string, estOffsetMs: number | null): number {
    const r = this.db
      .prepare(
        `INSERT INTO device_health (device_id, at, received_at, boot_id, mono_ms, clock_synced, clock_source, clock_offset_ms, est_offset_ms, cpu_temp_c, disk_free_pct, undelivered, body)
         VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)`,
      )
      .run(deviceId, h.at, receivedAt, h.bootId, h.monoMs, h.clock ? (h.clock.synced ? 1 : 0) : null, h.clock?.source ?? null, h.clock?.offsetMs ?? null, estOffsetMs, h.system?.cpuTempC ?? null, h.system?.diskFreePct ?? null, h.backlog.undelivered, JSON.stringify(h));
    return Number(r.lastInsertRowid);
  }

  latest(deviceId: string): { id: number; body: Health; receivedAt: string; estOffsetMs: number | null } | null {
    const r = this.db.prepare('SELECT id, body, received_at, est_offset_ms FROM device_health WHERE device_id = ? ORDER BY id DESC LIMIT 1').get(deviceId) as Record<string, unknown> | undefined;
    return r ? { id: r.id as number, body: JSON.parse(r.body as string) as Health, receivedAt: r.received_at as string, estOffsetMs: (r.est_offset_ms as number) ?? null } : null;
  }

  /** Recent rows of one device, oldest first. */
  recent(deviceId: string, limit: number): { id: number; at: string; receivedAt: string; undelivered: number; synced: boolean | null; bootId: string }[] {
    const rows = this.db
      .prepare('SELECT id, at, received_at, undelivered, clock_synced, boot_id FROM device_health WHERE device_id = ? ORDER BY id DESC LIMIT ?')
      .all(deviceId, limit) as Record<string, unknown>[];
    return rows.reverse().map((r) => ({ id: r.id as number, at: r.at as string, receivedAt: r.received_at as string, undelivered: r.undelivered as number, synced: r.clock_synced === null ? null : r.clock_synced === 1, bootId: r.boot_id as string }));
  }

  history(deviceId: string, from: string | undefined, to: string | undefined, limit: number): { receivedAt: string; estOffsetMs: number | null; body: Health }[] {
    const rows = this.db
      .prepare(`SELECT received_at, est_offset_ms, body FROM device_health WHERE device_id = ? AND received_at >= ? AND received_at <= ? ORDER BY id DESC LIMIT ?`)
      .all(deviceId, from ?? '', to ?? '9999', limit) as Record<string, unknown>[];
    return rows.map((r) => ({ receivedAt: r.received_at as string, estOffsetMs: (r.est_offset_ms as number) ?? null, body: JSON.parse(r.body as string) as Health }));
  }

  /**
   * Bounds the history: rows older than `olderThan` go (the latest row of each device stays);
   * rows older than `thinBefore` are thinned to the first of each device's 15-minute slots
   * (60 s detail for the last day, 15 min for the rest: ~100 rows a day per kiosk).
   */
  pruneHistory(olderThan: string, thinBefore: string): number {
    return this.db.transaction(() => {
      let n = this.db.prepare('DELETE FROM device_health WHERE received_at < ? AND id NOT IN (SELECT max(id) FROM device_health GROUP BY device_id)').run(olderThan).changes;
      n += this.db
        .prepare(
          `DELETE FROM device_health WHERE received_at < ? AND id NOT IN (
             SELECT min(id) FROM device_health WHERE received_at < ?
             GROUP BY device_id, substr(received_at, 1, 14), CAST(substr(received_at, 15, 2) AS INTEGER) / 15)
           AND id NOT IN (SELECT max(id) FROM device_health GROUP BY device_id)`,
        )
        .run(thinBefore, thinBefore).changes;
      return n;
    })();
  }

  /** Enrolled, enabled devices with their OPD (the CLI's `hadir kiosk status`; the module asks the CoreStore). */
  devices(): { id: string; siteCode: string; online: boolean; statusAt: string | null; enrolledAt: string | null; opdCode: string | null }[] {
    const rows = this.db
      .prepare(
        `SELECT d.id, d.site_code, d.online, d.status_at, d.enrolled_at, u.opd_code FROM devices d
         LEFT JOIN sites s ON s.code = d.site_code LEFT JOIN units u ON u.code = s.unit_code
         WHERE d.disabled_at IS NULL AND d.enrolled_at IS NOT NULL ORDER BY d.id`,
      )
      .all() as Record<string, unknown>[];
    return rows.map((r) => ({ id: r.id as string, siteCode: r.site_code as string, online: r.online === 1, statusAt: (r.status_at as string) ?? null, enrolledAt: (r.enrolled_at as string) ?? null, opdCode: (r.opd_code as string) ?? null }));
  }

  // --- rules
  rules(): AlertRules {
    const r = this.db.prepare('SELECT rules FROM health_alert_rules WHERE id = 1').get() as { rules: string } | undefined;
    if (!r) return DEFAULT_RULES;
    const p = alertRulesSchema.safeParse(JSON.parse(r.rules));
    return p.success ? p.data : DEFAULT_RULES;
  }
  setRules(rules: AlertRules, by: string, at: string): void {
    this.db.prepare('INSERT INTO health_alert_rules (id, rules, updated_at, updated_by) VALUES (1,?,?,?) ON CONFLICT(id) DO UPDATE SET rules = excluded.rules, updated_at = excluded.updated_at, updated_by = excluded.updated_by').run(JSON.stringify(rules), at, by);
  }

  // --- alerts
  openAlerts(deviceId?: string): AlertRow[] {
    const rows = deviceId
      ? this.db.prepare('SELECT * FROM health_alerts WHERE cleared_at IS NULL AND device_id = ? ORDER BY id').all(deviceId)
      : this.db.prepare('SELECT * FROM health_alerts WHERE cleared_at IS NULL ORDER BY id').all();
    return (rows as Record<string, unknown>[]).map(alertRow);
  }
  listAlerts(f: { open?: boolean; deviceId?: string; limit: number }): AlertRow[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (f.open) where.push('cleared_at IS NULL');
    if (f.deviceId) (where.push('device_id = ?'), args.push(f.deviceId));
    const sql = `SELECT * FROM health_alerts ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY id DESC LIMIT ?`;
    return (this.db.prepare(sql).all(...args, f.limit) as Record<string, unknown>[]).map(alertRow);
  }
  alert(id: number): AlertRow | null {
    const r = this.db.prepare('SELECT * FROM health_alerts WHERE id = ?').get(id) as Record<string, unknown> | undefined;
    return r ? alertRow(r) : null;
  }
  ackAlert(id: number, by: string, at: string): boolean {
    return this.db.prepare('UPDATE health_alerts SET acked_by = ?, acked_at = ? WHERE id = ? AND acked_at IS NULL').run(by, at, id).changes === 1;
  }

  /** Applies the evaluated conditions of one device: raise new, update detail, clear the rest. Returns changes. */
  syncAlerts(deviceId: string, conditions: AlertCondition[], at: string): { raised: AlertCondition[]; cleared: AlertRow[] } {
    return this.db.transaction(() => {
      const open = new Map(this.openAlerts(deviceId).map((a) => [a.kind, a]));
      const raised: AlertCondition[] = [];
      for (const c of conditions) {
        const cur = open.get(c.kind);
        if (cur) {
          if (cur.detail !== c.detail || cur.severity !== c.severity) this.db.prepare('UPDATE health_alerts SET detail = ?, severity = ?, updated_at = ? WHERE id = ?').run(c.detail, c.severity, at, cur.id);
          open.delete(c.kind);
        } else {
          this.db.prepare('INSERT INTO health_alerts (device_id, kind, severity, detail, raised_at, updated_at) VALUES (?,?,?,?,?,?)').run(deviceId, c.kind, c.severity, c.detail, at, at);
          raised.push(c);
        }
      }
      const cleared = [...open.values()];
      for (const a of cleared) this.db.prepare('UPDATE health_alerts SET cleared_at = ?, updated_at = ? WHERE id = ?').run(at, at, a.id);
      return { raised, cleared };
    })();
  }

  // --- commands
  insertCommand(c: { id: string; deviceId: string; cmd: string; args: unknown; sentAt: string; sentBy: string }): void {
    this.db.prepare('INSERT INTO device_commands (id, device_id, cmd, args, sent_at, sent_by) VALUES (?,?,?,?,?,?)').run(c.id, c.deviceId, c.cmd, c.args === undefined ? null : JSON.stringify(c.args), c.sentAt, c.sentBy);
  }
  /** Records a result once; false when the id is unknown, belongs to another device, or was already answered. */
  setCommandResult(deviceId: string, id: string, ok: boolean, result: unknown, error: string | undefined, at: string): boolean {
    return (
      this.db
        .prepare('UPDATE device_commands SET result_at = ?, ok = ?, result = ?, error = ? WHERE id = ? AND device_id = ? AND result_at IS NULL')
        .run(at, ok ? 1 : 0, result === undefined ? null : JSON.stringify(result), error ?? null, id, deviceId).changes === 1
    );
  }
  command(id: string): CommandRow | null {
    const r = this.db.prepare('SELECT * FROM device_commands WHERE id = ?').get(id) as Record<string, unknown> | undefined;
    return r ? commandRow(r) : null;
  }
  commands(deviceId: string, limit: number): CommandRow[] {
    return (this.db.prepare('SELECT * FROM device_commands WHERE device_id = ? ORDER BY sent_at DESC LIMIT ?').all(deviceId, limit) as Record<string, unknown>[]).map(commandRow);
  }

  // --- clock reconstruction suggestions
  /** Unsynced punches of a boot that could use a reference at monoMs (no suggestion yet, or a worse one). */
  unsyncedPunchesBefore(deviceId: string, bootId: string, monoMs: number): { id: string; monoMs: number; spanMs: number | null }[] {
    return (
      this.db
        .prepare('SELECT id, mono_ms, suggested_span_ms FROM punches WHERE device_id = ? AND boot_id = ? AND clock_synced = 0 AND mono_ms <= ?')
        .all(deviceId, bootId, monoMs) as Record<string, unknown>[]
    ).map((r) => ({ id: r.id as string, monoMs: r.mono_ms as number, spanMs: (r.suggested_span_ms as number) ?? null }));
  }
  setSuggestion(id: string, trueAt: string, spanMs: number, ref: string): void {
    this.db.prepare('UPDATE punches SET suggested_at = ?, suggested_span_ms = ?, suggested_ref = ? WHERE id = ?').run(trueAt, spanMs, ref, id);
  }
  syncedPunches(ids: string[]): { id: string; deviceId: string; bootId: string; monoMs: number; capturedAt: string; offsetMs: number | null }[] {
    if (ids.length === 0) return [];
    const rows = this.db
      .prepare(`SELECT id, device_id, boot_id, mono_ms, captured_at, clock_offset_ms FROM punches WHERE clock_synced = 1 AND boot_id IS NOT NULL AND mono_ms IS NOT NULL AND id IN (SELECT value FROM json_each(?))`)
      .all(JSON.stringify(ids)) as Record<string, unknown>[];
    return rows.map((r) => ({ id: r.id as string, deviceId: r.device_id as string, bootId: r.boot_id as string, monoMs: r.mono_ms as number, capturedAt: r.captured_at as string, offsetMs: (r.clock_offset_ms as number) ?? null }));
  }
  suggestions(f: { deviceId?: string; pendingOnly: boolean; limit: number }): Record<string, unknown>[] {
    const where = ['clock_synced = 0'];
    const args: unknown[] = [];
    if (f.pendingOnly) where.push(`review_status = 'pending'`);
    if (f.deviceId) (where.push('device_id = ?'), args.push(f.deviceId));
    return this.db
      .prepare(`SELECT id, device_id AS deviceId, nip, captured_at AS capturedAt, boot_id AS bootId, mono_ms AS monoMs, suggested_at AS suggestedAt, suggested_span_ms AS suggestedSpanMs, suggested_ref AS suggestedRef, review_status AS reviewStatus FROM punches WHERE ${where.join(' AND ')} ORDER BY captured_at DESC LIMIT ?`)
      .all(...args, f.limit) as Record<string, unknown>[];
  }
}

/** The health module's storage (SQLite: HealthStore through asyncOver; PostgreSQL implements the same). */
export type HealthRepository = Async<Omit<HealthStore, 'devices'>>;
