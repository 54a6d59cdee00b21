import type pg from 'pg';
import { inTransaction, numbered } from '../store/pg.js';
import type { Row } from '../store/rows.js';
import type { FleetDevice, RolloutState, TargetState } from './rollout.js';
import {
  ACTIVE_STATES, FLEET_SQL, configOffset, fleetArgs, toFailure, toFleetDevice, toRelease, toRollout, toTarget,
  type ActiveRollout, type FailureRow, type FleetStore, type NewRollout, type NewTarget, type Progress, type ReleaseRow, type ReportWrite, type RolloutRow, type TargetRow,
} from './store.js';

type Q = Pick<pg.ClientBase, 'query'>;

/**
 * Fleet storage on PostgreSQL (pg-migrations/500_fleet.sql): SqliteFleetStore's lookups and writes.
 * Where several hub workers could race, the database decides: a rollout's advance takes its row
 * lock (`FOR UPDATE`) before reading the targets, a report locks its target row, and a partial
 * unique index allows one active rollout however many workers start one at once.
 */
export class PgFleetStore implements FleetStore {
  constructor(private readonly pool: pg.Pool) {}
  private async rows(sql: string, args: unknown[] = [], q: Q = this.pool): Promise<Row[]> {
    return (await q.query(numbered(sql), args)).rows as Row[];
  }
  private async one(sql: string, args: unknown[] = [], q: Q = this.pool): Promise<Row | undefined> {
    return (await this.rows(sql, args, q))[0];
  }

  async release(version: string, arch: string): Promise<ReleaseRow | null> {
    const r = await this.one('SELECT * FROM fleet_releases WHERE version = ? AND arch = ?', [version, arch]);
    return r ? toRelease(r) : null;
  }
  async releases(): Promise<ReleaseRow[]> {
    return (await this.rows('SELECT * FROM fleet_releases ORDER BY added_at DESC, arch COLLATE "C"')).map(toRelease);
  }
  async insertRelease(r: ReleaseRow): Promise<boolean> {
    return ((await this.pool.query(numbered(FLEET_SQL.insertRelease), fleetArgs.release(r))).rowCount ?? 0) === 1;
  }
  async releaseBundles(version: string): Promise<{ arch: string; size: number; sha256: string }[]> {
    return (await this.rows('SELECT arch, size, sha256 FROM fleet_releases WHERE version = ? ORDER BY arch COLLATE "C"', [version])) as never;
  }

  async rollout(id?: number): Promise<RolloutRow | null> {
    const r = id === undefined ? await this.one('SELECT * FROM fleet_rollouts ORDER BY id DESC LIMIT 1') : await this.one('SELECT * FROM fleet_rollouts WHERE id = ?', [id]);
    return r ? toRollout(r) : null;
  }
  async latestIn(states: readonly RolloutState[], q: Q = this.pool): Promise<RolloutRow | null> {
    const r = await this.one('SELECT * FROM fleet_rollouts WHERE state = ANY(?) ORDER BY id DESC LIMIT 1', [states], q);
    return r ? toRollout(r) : null;
  }
  async rollouts(limit: number): Promise<RolloutRow[]> {
    return (await this.rows('SELECT * FROM fleet_rollouts ORDER BY id DESC LIMIT ?', [limit])).map(toRollout);
  }

  async fleetDevices(): Promise<FleetDevice[]> {
    return (await this.rows(FLEET_SQL.fleetDevices)).map(toFleetDevice);
  }
  async deviceVersions(): Promise<Map<string, string>> {
    return new Map((await this.rows('SELECT device_id, version FROM fleet_device_versions')).map((r) => [r.device_id as string, r.version as string]));
  }

  async createRollout(r: NewRollout, targets: NewTarget[]): Promise<{ id: number } | { active: ActiveRollout }> {
    const active = async (q: Q) => {
      const a = await this.latestIn(ACTIVE_STATES, q);
      return a ? { active: { id: a.id, version: a.version, state: a.state } } : null;
    };
    try {
      return await inTransaction(this.pool, async (c) => {
        const busy = await active(c);
        if (busy) return busy;
        const row = await this.one(
          `INSERT INTO fleet_rollouts (version, state, stages, stage, install_window, blackouts, max_failures, created_at, created_by, updated_at)
           VALUES (?, 'running', ?, 0, ?, ?, ?, ?, ?, ?) RETURNING id`,
          [r.version, JSON.stringify(r.stages), r.installWindow, r.blackouts, r.maxFailures, r.at, r.by, r.at],
          c,
        );
        const id = Number(row!.id);
        for (const t of targets) await c.query(numbered(FLEET_SQL.insertTarget), fleetArgs.target(id, t, r.at));
        return { id };
      });
    } catch (e) {
      // another worker started one between our check and our insert (fleet_rollouts_one_active)
      if ((e as { code?: string }).code === '23505') {
        const busy = await active(this.pool);
        if (busy) return busy;
      }
      throw e;
    }
  }

  async targetStates(rolloutId: number, q: Q = this.pool): Promise<{ stage: number; state: TargetState }[]> {
    return (await this.rows('SELECT stage, state FROM fleet_targets WHERE rollout_id = ?', [rolloutId], q)) as never;
  }
  async target(rolloutId: number, deviceId: string): Promise<{ stage: number; state: TargetState } | null> {
    return ((await this.one('SELECT stage, state FROM fleet_targets WHERE rollout_id = ? AND device_id = ?', [rolloutId, deviceId])) as never) ?? null;
  }

  async transition(id: number, from: readonly RolloutState[], to: RolloutState, reason: string | null, at: string, maxFailures?: number): Promise<boolean> {
    const r = await this.pool.query(numbered(FLEET_SQL.transition(from.length, maxFailures !== undefined)), fleetArgs.transition(id, from, to, reason, at, maxFailures));
    return r.rowCount === 1;
  }

  async advance(id: number, decide: (r: RolloutRow, targets: { stage: number; state: TargetState }[]) => Progress | null, at: string): Promise<{ rollout: RolloutRow; next: Progress } | null> {
    return inTransaction(this.pool, async (c) => {
      // the rollout's row lock first: advances of one rollout run one after another, each reading every target committed before it
      const row = await this.one('SELECT * FROM fleet_rollouts WHERE id = ? FOR UPDATE', [id], c);
      if (!row) return null;
      const r = toRollout(row);
      const next = decide(r, await this.targetStates(id, c));
      if (!next) return null;
      await c.query(numbered(FLEET_SQL.progress), [next.state, next.stage, next.reason, at, id]);
      return { rollout: r, next };
    });
  }

  async targets(rolloutId: number): Promise<TargetRow[]> {
    return (await this.rows(FLEET_SQL.targets.replace('ORDER BY t.stage, t.device_id', 'ORDER BY t.stage, t.device_id COLLATE "C"'), [rolloutId])).map(toTarget);
  }
  async failures(o: { rolloutId?: number; deviceId?: string }): Promise<FailureRow[]> {
    return (await this.rows(FLEET_SQL.failures(o), fleetArgs.failures(o))).map(toFailure);
  }

  async setDeviceVersion(deviceId: string, version: string, online: boolean, at: string): Promise<void> {
    await this.pool.query(numbered(FLEET_SQL.deviceVersion), [deviceId, version, online ? 1 : 0, at]);
  }
  async setDeviceOnline(deviceId: string, online: boolean, at: string): Promise<void> {
    await this.pool.query('UPDATE fleet_device_versions SET online = $1, at = $2 WHERE device_id = $3', [online ? 1 : 0, at, deviceId]);
  }
  async seen(deviceId: string): Promise<{ version: string; online: boolean; at: string } | null> {
    const r = await this.one('SELECT version, online, at FROM fleet_device_versions WHERE device_id = ?', [deviceId]);
    return r ? { version: r.version as string, online: r.online === 1, at: r.at as string } : null;
  }

  async siteExists(code: string): Promise<boolean> {
    return !!(await this.one('SELECT 1 FROM sites WHERE code = ?', [code]));
  }
  async siteOffsetMin(code: string): Promise<number | null> {
    const own = await this.one('SELECT utc_offset_min FROM sites WHERE code = ?', [code]);
    if (typeof own?.utc_offset_min === 'number') return own.utc_offset_min;
    return configOffset((await this.one("SELECT value FROM att_config WHERE key = 'tz_offset_min'"))?.value);
  }
  async siteWindow(code: string): Promise<string | null> {
    return ((await this.one('SELECT install_window FROM fleet_site_windows WHERE site_code = ?', [code]))?.install_window as string | undefined) ?? null;
  }
  async setSiteWindow(code: string, window: string | null): Promise<void> {
    if (window === null) await this.pool.query('DELETE FROM fleet_site_windows WHERE site_code = $1', [code]);
    else await this.pool.query(numbered(FLEET_SQL.siteWindow), [code, window]);
  }

  async markOffered(rolloutId: number, deviceId: string, at: string): Promise<void> {
    await this.pool.query('UPDATE fleet_targets SET offered_at = COALESCE(offered_at, $1) WHERE rollout_id = $2 AND device_id = $3', [at, rolloutId, deviceId]);
  }

  async applyReport(w: ReportWrite, accept: (current: TargetState) => boolean): Promise<'unknown' | 'refused' | 'stored'> {
    return inTransaction(this.pool, async (c) => {
      const t = await this.one('SELECT state FROM fleet_targets WHERE rollout_id = ? AND device_id = ? FOR UPDATE', [w.rolloutId, w.deviceId], c);
      if (!t) return 'unknown';
      if (!accept(t.state as TargetState)) return 'refused';
      await c.query(numbered(FLEET_SQL.report), fleetArgs.report(w));
      if (w.state === 'failed') await c.query(numbered(FLEET_SQL.failure), fleetArgs.failure(w));
      return 'stored';
    });
  }
}
