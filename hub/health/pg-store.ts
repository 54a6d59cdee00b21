import type pg from 'pg';
import type { Health } from '../../protocol/index.js';
import { inTransaction } from '../store/pg.js';
import { DEFAULT_RULES, alertRulesSchema, type AlertCondition, type AlertRules } from './rules.js';
import { alertRow, commandRow, type AlertRow, type CommandRow, type HealthRepository } from './store.js';

type Row = Record<string, unknown>;

/** The health module's storage on PostgreSQL (pg-migrations/200_health.sql): HealthStore's queries, in PostgreSQL. */
export class PgHealthStore implements HealthRepository {
  constructor(private readonly pool: pg.Pool) {}
  private async rows(sql: string, args: unknown[] = []): Promise<Row[]> {
    return (await this.pool.query(sql, args)).rows as Row[];
  }

  async insertHealth(deviceId: string, h: Health, receivedAt: string, estOffsetMs: number | null): Promise<number> {
    const r = await this.rows(
      `INSERT INTO device_health (device_id, at, received_at, boot_id, mono_ms, clock_synced, clock_source, clock_offset_ms, est_offset_ms, cpu_temp_c, disk_free_pct, undelivered, body)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id`,
      [deviceId, h.at, receivedAt, h.bootId, h.monoMs, h.clock ? (h.clock.synced ? 1 : 0) : null, h.clock?.source ?? null, h.clock?.offsetMs ?? null, estOffsetMs, h.system?.cpuTempC ?? null, h.system?.diskFreePct ?? null, h.backlog.undelivered, JSON.stringify(h)],
    );
    return r[0]!.id as number;
  }
  async latest(deviceId: string) {
    const [r] = await this.rows('SELECT id, body, received_at, est_offset_ms FROM device_health WHERE device_id = $1 ORDER BY id DESC LIMIT 1', [deviceId]);
    return r ? { id: r.id as number, body: JSON.parse(r.body as string) as Health, receivedAt: r.received_at as string, estOffsetMs: (r.est_offset_ms as number) ?? null } : null;
  }
  async recent(deviceId: string, limit: number) {
    const rows = await this.rows('SELECT id, at, received_at, undelivered, clock_synced, boot_id FROM device_health WHERE device_id = $1 ORDER BY id DESC LIMIT $2', [deviceId, limit]);
    return rows.reverse().map((r) => ({ id: r.id as number, at: r.at as string, receivedAt: r.received_at as string, undelivered: r.undelivered as number, synced: r.clock_synced === null ? null : r.clock_synced === 1, bootId: r.boot_id as string }));
  }
  async history(deviceId: string, from: string | undefined, to: string | undefined, limit: number) {
    const rows = await this.rows('SELECT received_at, est_offset_ms, body FROM device_health WHERE device_id = $1 AND received_at >= $2 AND received_at <= $3 ORDER BY id DESC LIMIT $4', [deviceId, from ?? '', to ?? '9999', limit]);
    return rows.map((r) => ({ receivedAt: r.received_at as string, estOffsetMs: (r.est_offset_ms as number) ?? null, body: JSON.parse(r.body as string) as Health }));
  }
  async pruneHistory(olderThan: string, thinBefore: string): Promise<number> {
    return inTransaction(this.pool, async (c) => {
      let n = (await c.query('DELETE FROM device_health WHERE received_at < $1 AND id NOT IN (SELECT max(id) FROM device_health GROUP BY device_id)', [olderThan])).rowCount ?? 0;
      n +=
        (
          await c.query(
            `DELETE FROM device_health WHERE received_at < $1 AND id NOT IN (
               SELECT min(id) FROM device_health WHERE received_at < $1
               GROUP BY device_id, substr(received_at, 1, 14), CAST(substr(received_at, 15, 2) AS INTEGER) / 15)
             AND id NOT IN (SELECT max(id) FROM device_health GROUP BY device_id)`,
            [thinBefore],
          )
        ).rowCount ?? 0;
      return n;
    });
  }

  async rules(): Promise<AlertRules> {
    const [r] = await this.rows('SELECT rules FROM health_alert_rules WHERE id = 1');
    if (!r) return DEFAULT_RULES;
    const p = alertRulesSchema.safeParse(JSON.parse(r.rules as string));
    return p.success ? p.data : DEFAULT_RULES;
  }
  async setRules(rules: AlertRules, by: string, at: string): Promise<void> {
    await this.pool.query(
      'INSERT INTO health_alert_rules (id, rules, updated_at, updated_by) VALUES (1, $1, $2, $3) ON CONFLICT (id) DO UPDATE SET rules = excluded.rules, updated_at = excluded.updated_at, updated_by = excluded.updated_by',
      [JSON.stringify(rules), at, by],
    );
  }

  async openAlerts(deviceId?: string): Promise<AlertRow[]> {
    const rows = deviceId ? await this.rows('SELECT * FROM health_alerts WHERE cleared_at IS NULL AND device_id = $1 ORDER BY id', [deviceId]) : await this.rows('SELECT * FROM health_alerts WHERE cleared_at IS NULL ORDER BY id');
    return rows.map(alertRow);
  }
  async listAlerts(f: { open?: boolean; deviceId?: string; limit: number }): Promise<AlertRow[]> {
    const rows = await this.rows('SELECT * FROM health_alerts WHERE (NOT $1 OR cleared_at IS NULL) AND ($2::text IS NULL OR device_id = $2) ORDER BY id DESC LIMIT $3', [!!f.open, f.deviceId ?? null, f.limit]);
    return rows.map(alertRow);
  }
  async alert(id: number): Promise<AlertRow | null> {
    const [r] = await this.rows('SELECT * FROM health_alerts WHERE id = $1', [id]);
    return r ? alertRow(r) : null;
  }
  async ackAlert(id: number, by: string, at: string): Promise<boolean> {
    return (await this.pool.query('UPDATE health_alerts SET acked_by = $1, acked_at = $2 WHERE id = $3 AND acked_at IS NULL', [by, at, id])).rowCount === 1;
  }
  /** As HealthStore.syncAlerts, in one transaction; the device's open alerts are locked so two workers evaluating it at once do not both raise one. */
  async syncAlerts(deviceId: string, conditions: AlertCondition[], at: string): Promise<{ raised: AlertCondition[]; cleared: AlertRow[] }> {
    return inTransaction(this.pool, async (c) => {
      await c.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`health:${deviceId}`]);
      const open = new Map(((await c.query('SELECT * FROM health_alerts WHERE cleared_at IS NULL AND device_id = $1 ORDER BY id', [deviceId])).rows as Row[]).map(alertRow).map((a) => [a.kind, a]));
      const raised: AlertCondition[] = [];
      for (const cond of conditions) {
        const cur = open.get(cond.kind);
        if (cur) {
          if (cur.detail !== cond.detail || cur.severity !== cond.severity) await c.query('UPDATE health_alerts SET detail = $1, severity = $2, updated_at = $3 WHERE id = $4', [cond.detail, cond.severity, at, cur.id]);
          open.delete(cond.kind);
        } else {
          await c.query('INSERT INTO health_alerts (device_id, kind, severity, detail, raised_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)', [deviceId, cond.kind, cond.severity, cond.detail, at]);
          raised.push(cond);
        }
      }
      const cleared = [...open.values()];
      for (const a of cleared) await c.query('UPDATE health_alerts SET cleared_at = $1, updated_at = $1 WHERE id = $2', [at, a.id]);
      return { raised, cleared };
    });
  }

  async insertCommand(c: { id: string; deviceId: string; cmd: string; args: unknown; sentAt: string; sentBy: string }): Promise<void> {
    await this.pool.query('INSERT INTO device_commands (id, device_id, cmd, args, sent_at, sent_by) VALUES ($1, $2, $3, $4, $5, $6)', [c.id, c.deviceId, c.cmd, c.args === undefined ? null : JSON.stringify(c.args), c.sentAt, c.sentBy]);
  }
  async setCommandResult(deviceId: string, id: string, ok: boolean, result: unknown, error: string | undefined, at: string): Promise<boolean> {
    return (
      (
        await this.pool.query('UPDATE device_commands SET result_at = $1, ok = $2, result = $3, error = $4 WHERE id = $5 AND device_id = $6 AND result_at IS NULL', [
          at, ok ? 1 : 0, result === undefined ? null : JSON.stringify(result), error ?? null, id, deviceId,
        ])
      ).rowCount === 1
    );
  }
  async command(id: string): Promise<CommandRow | null> {
    const [r] = await this.rows('SELECT * FROM device_commands WHERE id = $1', [id]);
    return r ? commandRow(r) : null;
  }
  async commands(deviceId: string, limit: number): Promise<CommandRow[]> {
    return (await this.rows('SELECT * FROM device_commands WHERE device_id = $1 ORDER BY sent_at DESC LIMIT $2', [deviceId, limit])).map(commandRow);
  }

  async unsyncedPunchesBefore(deviceId: string, bootId: string, monoMs: number) {
    const rows = await this.rows('SELECT id, mono_ms, suggested_span_ms FROM punches WHERE device_id = $1 AND boot_id = $2 AND clock_synced = 0 AND mono_ms <= $3', [deviceId, bootId, monoMs]);
    return rows.map((r) => ({ id: r.id as string, monoMs: r.mono_ms as number, spanMs: (r.suggested_span_ms as number) ?? null }));
  }
  async setSuggestion(id: string, trueAt: string, spanMs: number, ref: string): Promise<void> {
    await this.pool.query('UPDATE punches SET suggested_at = $1, suggested_span_ms = $2, suggested_ref = $3 WHERE id = $4', [trueAt, spanMs, ref, id]);
  }
  async syncedPunches(ids: string[]) {
    if (ids.length === 0) return [];
    const rows = await this.rows('SELECT id, device_id, boot_id, mono_ms, captured_at, clock_offset_ms FROM punches WHERE clock_synced = 1 AND boot_id IS NOT NULL AND mono_ms IS NOT NULL AND id = ANY($1)', [ids]);
    return rows.map((r) => ({ id: r.id as string, deviceId: r.device_id as string, bootId: r.boot_id as string, monoMs: r.mono_ms as number, capturedAt: r.captured_at as string, offsetMs: (r.clock_offset_ms as number) ?? null }));
  }
  async suggestions(f: { deviceId?: string; pendingOnly: boolean; limit: number }): Promise<Record<string, unknown>[]> {
    return this.rows(
      `SELECT id, device_id AS "deviceId", nip, captured_at AS "capturedAt", boot_id AS "bootId", mono_ms AS "monoMs", suggested_at AS "suggestedAt", suggested_span_ms AS "suggestedSpanMs",
              suggested_ref AS "suggestedRef", review_status AS "reviewStatus"
         FROM punches WHERE clock_synced = 0 AND (NOT $1 OR review_status = 'pending') AND ($2::text IS NULL OR device_id = $2) ORDER BY captured_at DESC LIMIT $3`,
      [f.pendingOnly, f.deviceId ?? null, f.limit],
    );
  }
}
