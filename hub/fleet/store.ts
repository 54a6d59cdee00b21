import type { SqliteDb } from '../store/sqlite.js';
import type { Async } from '../store/async.js';
import { camelRecord, type Row } from '../store/rows.js';
import type { ReleaseManifest } from '../../lib/release-bundle.js';
import type { FleetDevice, RolloutState, Stage, TargetState } from './rollout.js';

/**
 * Fleet storage: the lookups and writes of hub/fleet/service.ts, on SQLite (this file, tables of
 * migrations/500_fleet.sql) and on PostgreSQL (pg-store.ts, pg-migrations/500_fleet.sql). The
 * rules — stages, install windows, when a rollout advances, halts or ends — are rollout.ts's
 * pure functions, called by the service or handed to the store where a decision must be taken
 * inside the store's transaction (`advance`, `applyReport`).
 */

export interface RolloutRow {
  id: number;
  version: string;
  state: RolloutState;
  stages: Stage[];
  stage: number;
  installWindow: string;
  blackouts: string;
  maxFailures: number;
  reason: string | null;
  createdAt: string;
  createdBy: string | null;
  updatedAt: string;
}

export interface TargetRow {
  deviceId: string;
  siteCode: string;
  stage: number;
  state: TargetState;
  fromVersion: string | null;
  reason: string | null;
  offeredAt: string | null;
  confirmedAt: string | null;
  timings: Record<string, number> | null;
  updatedAt: string;
  /** What the kiosk last said it runs. */
  version: string | null;
  online: boolean;
}

export interface ReleaseRow {
  version: string;
  arch: string;
  file: string;
  size: number;
  sha256: string;
  manifest: Omit<ReleaseManifest, 'files' | 'links'> & { fileCount: number };
  keyId: string;
  addedAt: string;
  addedBy: string | null;
}

export interface FailureRow {
  rolloutId: number;
  deviceId: string;
  version: string;
  phase: string;
  reason: string;
  at: string;
}

export interface NewRollout {
  version: string;
  stages: Stage[];
  installWindow: string;
  blackouts: string;
  maxFailures: number;
  at: string;
  by: string;
}
export interface NewTarget {
  deviceId: string;
  stage: number;
  /** The version the kiosk runs: already the release's → confirmed at once. */
  fromVersion: string | null;
  already: boolean;
}
export type ActiveRollout = { id: number; version: string; state: string };
export type Progress = { state: RolloutState; stage: number; reason: string | null };
export interface ReportWrite {
  rolloutId: number;
  deviceId: string;
  version: string;
  phase: string;
  state: TargetState;
  reason: string | null;
  timings: Record<string, number> | null;
  fromVersion: string | null;
  at: string;
}

/** Rollouts still being worked on: at most one at a time. */
export const ACTIVE_STATES: readonly RolloutState[] = ['running', 'paused', 'halted'];
export const ALREADY_ON_VERSION = 'sudah versi ini / already on this version';

/** SQL both stores run as is (`?` placeholders; PostgreSQL numbers them). */
export const FLEET_SQL = {
  fleetDevices: `SELECT d.id, d.site_code, u.opd_code FROM devices d
      LEFT JOIN sites s ON s.code = d.site_code LEFT JOIN units u ON u.code = s.unit_code
     WHERE d.public_key_pem IS NOT NULL AND d.disabled_at IS NULL`,
  insertTarget: 'INSERT INTO fleet_targets (rollout_id, device_id, stage, state, from_version, reason, confirmed_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
  targets: `SELECT t.device_id, d.site_code, t.stage, t.state, t.from_version, t.reason, t.offered_at, t.confirmed_at, t.timings, t.updated_at, v.version, COALESCE(v.online, 0) AS online
      FROM fleet_targets t JOIN devices d ON d.id = t.device_id LEFT JOIN fleet_device_versions v ON v.device_id = t.device_id
     WHERE t.rollout_id = ? ORDER BY t.stage, t.device_id`,
  failures: (o: { rolloutId?: number; deviceId?: string }) =>
    `SELECT rollout_id, device_id, version, phase, reason, at FROM fleet_failures WHERE 1 = 1 ${o.rolloutId !== undefined ? 'AND rollout_id = ?' : ''} ${o.deviceId !== undefined ? 'AND device_id = ?' : ''} ORDER BY id`,
  progress: 'UPDATE fleet_rollouts SET state = ?, stage = ?, reason = COALESCE(?, reason), updated_at = ? WHERE id = ?',
  transition: (n: number, maxFailures: boolean) =>
    `UPDATE fleet_rollouts SET state = ?, reason = ?, updated_at = ?${maxFailures ? ', max_failures = ?' : ''} WHERE id = ? AND state IN (${Array(n).fill('?').join(', ')})`,
  report: `UPDATE fleet_targets SET state = ?, reason = ?, timings = COALESCE(?, timings), from_version = COALESCE(?, from_version),
          confirmed_at = CASE WHEN ? = 'confirmed' THEN ? ELSE confirmed_at END, updated_at = ? WHERE rollout_id = ? AND device_id = ?`,
  failure: 'INSERT INTO fleet_failures (rollout_id, device_id, version, phase, reason, at) VALUES (?, ?, ?, ?, ?, ?)',
  deviceVersion: 'INSERT INTO fleet_device_versions (device_id, version, online, at) VALUES (?, ?, ?, ?) ON CONFLICT (device_id) DO UPDATE SET version = excluded.version, online = excluded.online, at = excluded.at',
  siteWindow: 'INSERT INTO fleet_site_windows (site_code, install_window) VALUES (?, ?) ON CONFLICT (site_code) DO UPDATE SET install_window = excluded.install_window',
  insertRelease: 'INSERT INTO fleet_releases (version, arch, file, size, sha256, manifest, key_id, added_at, added_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (version, arch) DO NOTHING',
} as const;

/** Argument lists of the shared statements. */
export const fleetArgs = {
  target: (rid: number, t: NewTarget, at: string) => [rid, t.deviceId, t.stage, t.already ? 'confirmed' : 'pending', t.fromVersion, t.already ? ALREADY_ON_VERSION : null, t.already ? at : null, at],
  release: (r: ReleaseRow) => [r.version, r.arch, r.file, r.size, r.sha256, JSON.stringify(r.manifest), r.keyId, r.addedAt, r.addedBy],
  failures: (o: { rolloutId?: number; deviceId?: string }) => [o.rolloutId, o.deviceId].filter((x) => x !== undefined),
  transition: (id: number, from: readonly RolloutState[], to: RolloutState, reason: string | null, at: string, maxFailures?: number) =>
    [to, reason, at, ...(maxFailures === undefined ? [] : [maxFailures]), id, ...from],
  report: (w: ReportWrite) => [w.state, w.reason, w.timings ? JSON.stringify(w.timings) : null, w.fromVersion, w.state, w.at, w.at, w.rolloutId, w.deviceId],
  failure: (w: ReportWrite) => [w.rolloutId, w.deviceId, w.version, w.phase, w.reason ?? '(no reason given)', w.at],
};

export function toRollout(r: Row): RolloutRow {
  return {
    ...camelRecord<Omit<RolloutRow, 'stages'>>(r, ['id', 'version', 'state', 'stage', 'install_window', 'blackouts', 'max_failures', 'reason', 'created_at', 'created_by', 'updated_at']),
    id: Number(r.id),
    stages: JSON.parse(r.stages as string) as Stage[],
  };
}

export function toRelease(r: Row): ReleaseRow {
  return {
    ...camelRecord<Omit<ReleaseRow, 'manifest'>>(r, ['version', 'arch', 'file', 'size', 'sha256', 'key_id', 'added_at', 'added_by']),
    size: Number(r.size),
    manifest: JSON.parse(r.manifest as string) as ReleaseRow['manifest'],
  };
}

export function toTarget(r: Row): TargetRow {
  return {
    ...camelRecord<Omit<TargetRow, 'timings' | 'online'>>(r, ['device_id', 'site_code', 'stage', 'state', 'from_version', 'reason', 'offered_at', 'confirmed_at', 'updated_at', 'version']),
    timings: r.timings ? (JSON.parse(r.timings as string) as Record<string, number>) : null,
    online: Number(r.online) === 1,
  };
}

export const toFailure = (r: Row): FailureRow => ({ ...camelRecord<FailureRow>(r, ['rollout_id', 'device_id', 'version', 'phase', 'reason', 'at']), rolloutId: Number(r.rollout_id) });
export const toFleetDevice = (r: Row): FleetDevice => ({ id: r.id as string, siteCode: r.site_code as string, opdCode: (r.opd_code as string | null) ?? null });
/** The regency's offset from att_config (text), or null. */
export const configOffset = (v: unknown): number | null => (v !== undefined && v !== null && Number.isFinite(Number(v)) ? Number(v) : null);

/** Fleet storage on SQLite (synchronous; the service reaches it through FleetStore). */
export class SqliteFleetStore {
  constructor(private readonly db: SqliteDb) {}

  release(version: string, arch: string): ReleaseRow | null {
    const r = this.db.prepare('SELECT * FROM fleet_releases WHERE version = ? AND arch = ?').get(version, arch) as Row | undefined;
    return r ? toRelease(r) : null;
  }
  releases(): ReleaseRow[] {
    return (this.db.prepare('SELECT * FROM fleet_releases ORDER BY added_at DESC, arch').all() as Row[]).map(toRelease);
  }
  /** Stores a release; false when (version, arch) is already there. */
  insertRelease(r: ReleaseRow): boolean {
    return this.db.prepare(FLEET_SQL.insertRelease).run(...fleetArgs.release(r)).changes === 1;
  }
  releaseBundles(version: string): { arch: string; size: number; sha256: string }[] {
    return this.db.prepare('SELECT arch, size, sha256 FROM fleet_releases WHERE version = ? ORDER BY arch').all(version) as never;
  }

  /** The given rollout, or the latest. */
  rollout(id?: number): RolloutRow | null {
    const r = (id === undefined ? this.db.prepare('SELECT * FROM fleet_rollouts ORDER BY id DESC LIMIT 1').get() : this.db.prepare('SELECT * FROM fleet_rollouts WHERE id = ?').get(id)) as Row | undefined;
    return r ? toRollout(r) : null;
  }
  /** The latest rollout in one of these states. */
  latestIn(states: readonly RolloutState[]): RolloutRow | null {
    const r = this.db.prepare(`SELECT * FROM fleet_rollouts WHERE state IN (${states.map(() => '?').join(', ')}) ORDER BY id DESC LIMIT 1`).get(...states) as Row | undefined;
    return r ? toRollout(r) : null;
  }
  rollouts(limit: number): RolloutRow[] {
    return (this.db.prepare('SELECT * FROM fleet_rollouts ORDER BY id DESC LIMIT ?').all(limit) as Row[]).map(toRollout);
  }

  /** Enrolled, enabled kiosks with their site's OPD. */
  fleetDevices(): FleetDevice[] {
    return (this.db.prepare(FLEET_SQL.fleetDevices).all() as Row[]).map(toFleetDevice);
  }
  deviceVersions(): Map<string, string> {
    return new Map((this.db.prepare('SELECT device_id, version FROM fleet_device_versions').all() as { device_id: string; version: string }[]).map((r) => [r.device_id, r.version]));
  }

  /** A new running rollout with its targets, in one transaction; refused (the active one returned) while another is active. */
  createRollout(r: NewRollout, targets: NewTarget[]): { id: number } | { active: ActiveRollout } {
    return this.db.transaction(() => {
      const active = this.latestIn(ACTIVE_STATES);
      if (active) return { active: { id: active.id, version: active.version, state: active.state } };
      const id = Number(
        this.db
          .prepare('INSERT INTO fleet_rollouts (version, state, stages, stage, install_window, blackouts, max_failures, created_at, created_by, updated_at) VALUES (?, ?, ?, 0, ?, ?, ?, ?, ?, ?)')
          .run(r.version, 'running', JSON.stringify(r.stages), r.installWindow, r.blackouts, r.maxFailures, r.at, r.by, r.at).lastInsertRowid,
      );
      const ins = this.db.prepare(FLEET_SQL.insertTarget);
      for (const t of targets) ins.run(...fleetArgs.target(id, t, r.at));
      return { id };
    }).immediate();
  }

  targetStates(rolloutId: number): { stage: number; state: TargetState }[] {
    return this.db.prepare('SELECT stage, state FROM fleet_targets WHERE rollout_id = ?').all(rolloutId) as never;
  }
  target(rolloutId: number, deviceId: string): { stage: number; state: TargetState } | null {
    return (this.db.prepare('SELECT stage, state FROM fleet_targets WHERE rollout_id = ? AND device_id = ?').get(rolloutId, deviceId) as { stage: number; state: TargetState } | undefined) ?? null;
  }

  /** Moves a rollout that is in one of `from` to `to`; false when it is in none of them (changed meanwhile). */
  transition(id: number, from: readonly RolloutState[], to: RolloutState, reason: string | null, at: string, maxFailures?: number): boolean {
    return this.db.prepare(FLEET_SQL.transition(from.length, maxFailures !== undefined)).run(...fleetArgs.transition(id, from, to, reason, at, maxFailures)).changes === 1;
  }

  /**
   * Re-decides a rollout's state and stage from its targets, in one transaction (so two reports
   * at once cannot write a decision taken on the other's stale view); `decide` returns null for no change.
   */
  advance(id: number, decide: (r: RolloutRow, targets: { stage: number; state: TargetState }[]) => Progress | null, at: string): { rollout: RolloutRow; next: Progress } | null {
    return this.db.transaction(() => {
      const r = this.rollout(id);
      if (!r) return null;
      const next = decide(r, this.targetStates(id));
      if (!next) return null;
      this.db.prepare(FLEET_SQL.progress).run(next.state, next.stage, next.reason, at, id);
      return { rollout: r, next };
    }).immediate();
  }

  targets(rolloutId: number): TargetRow[] {
    return (this.db.prepare(FLEET_SQL.targets).all(rolloutId) as Row[]).map(toTarget);
  }
  failures(o: { rolloutId?: number; deviceId?: string }): FailureRow[] {
    return (this.db.prepare(FLEET_SQL.failures(o)).all(...fleetArgs.failures(o)) as Row[]).map(toFailure);
  }

  setDeviceVersion(deviceId: string, version: string, online: boolean, at: string): void {
    this.db.prepare(FLEET_SQL.deviceVersion).run(deviceId, version, online ? 1 : 0, at);
  }
  setDeviceOnline(deviceId: string, online: boolean, at: string): void {
    this.db.prepare('UPDATE fleet_device_versions SET online = ?, at = ? WHERE device_id = ?').run(online ? 1 : 0, at, deviceId);
  }
  seen(deviceId: string): { version: string; online: boolean; at: string } | null {
    const r = this.db.prepare('SELECT version, online, at FROM fleet_device_versions WHERE device_id = ?').get(deviceId) as { version: string; online: number; at: string } | undefined;
    return r ? { version: r.version, online: r.online === 1, at: r.at } : null;
  }

  siteExists(code: string): boolean {
    return !!this.db.prepare('SELECT 1 FROM sites WHERE code = ?').get(code);
  }
  /** The site's UTC offset in minutes, else the regency's (att_config), else null. */
  siteOffsetMin(code: string): number | null {
    const own = this.db.prepare('SELECT utc_offset_min FROM sites WHERE code = ?').pluck().get(code) as number | null | undefined;
    if (typeof own === 'number') return own;
    return configOffset(this.db.prepare("SELECT value FROM att_config WHERE key = 'tz_offset_min'").pluck().get());
  }
  siteWindow(code: string): string | null {
    return (this.db.prepare('SELECT install_window FROM fleet_site_windows WHERE site_code = ?').pluck().get(code) as string | undefined) ?? null;
  }
  setSiteWindow(code: string, window: string | null): void {
    if (window === null) this.db.prepare('DELETE FROM fleet_site_windows WHERE site_code = ?').run(code);
    else this.db.prepare(FLEET_SQL.siteWindow).run(code, window);
  }

  /** The first time a kiosk was offered the release. */
  markOffered(rolloutId: number, deviceId: string, at: string): void {
    this.db.prepare('UPDATE fleet_targets SET offered_at = COALESCE(offered_at, ?) WHERE rollout_id = ? AND device_id = ?').run(at, rolloutId, deviceId);
  }

  /**
   * A kiosk's report written in one transaction (the target, and a failure row for a failure) if
   * `accept(current state)` says so: 'unknown' when the kiosk is not in that rollout.
   */
  applyReport(w: ReportWrite, accept: (current: TargetState) => boolean): 'unknown' | 'refused' | 'stored' {
    return this.db.transaction(() => {
      const t = this.target(w.rolloutId, w.deviceId);
      if (!t) return 'unknown' as const;
      if (!accept(t.state)) return 'refused' as const;
      this.db.prepare(FLEET_SQL.report).run(...fleetArgs.report(w));
      if (w.state === 'failed') this.db.prepare(FLEET_SQL.failure).run(...fleetArgs.failure(w));
      return 'stored' as const;
    }).immediate();
  }
}

/** Fleet storage as the service uses it, async (SQLite: SqliteFleetStore through asyncOver; PostgreSQL: PgFleetStore). */
export type FleetStore = Async<SqliteFleetStore>;
