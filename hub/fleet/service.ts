import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../lib/write-atomic.js';
import type { Async } from '../store/async.js';
import type { SqliteDb } from '../store/sqlite.js';
import { camelRecord } from '../store/rows.js';
import { UserError } from '../../lib/errors.js';
import { iso, type Clock } from '../../lib/clock.js';
import { compareVersions, fileDigest, keyFingerprint, releasePublicKey, verifyBundle, BundleError, type ReleaseManifest } from '../../lib/release-bundle.js';
import {
  DEFAULT_BLACKOUTS, DEFAULT_STAGES, DEFAULT_WINDOW, assignStages, describeStage, installAllowed, parseSpan, parseSpans, parseStages, progress,
  type RolloutState, type Stage, type TargetState,
} from './rollout.js';
import type { UpdateOffer, UpdateReport } from '../../protocol/index.js';

/**
 * Where rollouts are audited. The hub's audit log (hub/audit, another module: `AuditLog.record({actor,
 * actorKind, action, target, after})`) plugs in here; until then the default writes one log line per
 * event. Every operator action (release added, rollout started/paused/resumed/aborted, a site's
 * window) and every automatic decision (stage reached, halted, completed, a kiosk's success or
 * failure) goes through record(), after the change is committed.
 */
export interface FleetAuditEvent {
  action: string;
  actor: string;
  actorKind: 'user' | 'cli' | 'device' | 'system';
  target: string;
  detail: Record<string, unknown>;
}
export interface FleetAudit {
  record(e: FleetAuditEvent): void;
}

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

const ACTIVE = "('running', 'paused', 'halted')";
const DEFAULT_UTC_OFFSET_MIN = 420; // WIB

export interface FleetServiceOptions {
  dataDir: string;
  hubVersion: string;
  audit: FleetAudit;
  /** The hub's clock (rollout, offer and version stamps; install windows). */
  clock: Clock;
  operatorKind?: 'user' | 'cli';
}

export class FleetService {
  constructor(
    private readonly db: SqliteDb,
    private readonly o: FleetServiceOptions,
  ) {}

  private audit(e: Omit<FleetAuditEvent, 'actorKind'>, kind?: FleetAuditEvent['actorKind']): void {
    const actorKind = kind ?? (e.actor === 'hub' ? 'system' : (this.o.operatorKind ?? 'user'));
    this.o.audit.record({ ...e, actorKind });
  }

  // ---------------------------------------------------------------- releases

  /** The release public key the hub checks bundles with (<data>/release-key.pub, set by the first `release add --pub`). */
  trustedKeyPath(): string {
    return join(this.o.dataDir, 'release-key.pub');
  }

  async addRelease(file: string, by: string, pubPem?: string): Promise<ReleaseRow> {
    if (!existsSync(file)) throw new UserError(`${file} does not exist`, 'give the path of a bundle made by `hadir release build`');
    const keyPath = this.trustedKeyPath();
    const trusted = existsSync(keyPath) ? readFileSync(keyPath, 'utf8') : null;
    if (pubPem && trusted && keyFingerprint(pubPem) !== keyFingerprint(trusted)) {
      throw new UserError(`--pub is not the release key this hub trusts (${keyFingerprint(trusted)})`, `replace ${keyPath} by hand if the release key really changed (kiosks must get the new key too)`);
    }
    const pem = trusted ?? pubPem;
    if (!pem) throw new UserError('this hub has no release public key yet', 'pass --pub release-key.pub (from `hadir release keygen`) the first time');
    let manifest: ReleaseManifest;
    try {
      manifest = (await verifyBundle(file, { publicKey: releasePublicKey(pem) })).manifest;
    } catch (e) {
      if (e instanceof BundleError) throw new UserError(`bundle ${file} refused: ${e.message}`, 'rebuild it with `hadir release build` and sign it with the release key');
      throw e;
    }
    if (compareVersions(manifest.minHubVersion, this.o.hubVersion) > 0) {
      throw new UserError(`release ${manifest.version} needs hub ${manifest.minHubVersion}, this hub is ${this.o.hubVersion}`, 'update the hub first');
    }
    const digest = await fileDigest(file);
    const existing = this.release(manifest.version, manifest.arch);
    if (existing) {
      if (existing.sha256 === digest.sha256) return existing;
      throw new UserError(`release ${manifest.version} for ${manifest.arch} is already stored with other content`, 'give the new build a new version');
    }
    const dir = join(this.o.dataDir, 'releases');
    mkdirSync(dir, { recursive: true });
    const dest = join(dir, `hadir-${manifest.version}-${manifest.arch}.tar.gz`);
    copyFileSync(file, `${dest}.part`);
    renameSync(`${dest}.part`, dest);
    if (!trusted) {
      mkdirSync(this.o.dataDir, { recursive: true });
      writeFileAtomic(keyPath, pem);
    }
    const { files, links, ...meta } = manifest;
    void links;
    const at = iso(this.o.clock);
    this.db
      .prepare('INSERT INTO fleet_releases (version, arch, file, size, sha256, manifest, key_id, added_at, added_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run(manifest.version, manifest.arch, dest, digest.size, digest.sha256, JSON.stringify({ ...meta, fileCount: Object.keys(files).length }), keyFingerprint(pem), at, by);
    this.audit({ action: 'release.add', actor: by, target: `${manifest.version}/${manifest.arch}`, detail: { sha256: digest.sha256, size: digest.size, keyId: keyFingerprint(pem) } });
    return this.release(manifest.version, manifest.arch)!;
  }

  release(version: string, arch: string): ReleaseRow | null {
    const r = this.db.prepare('SELECT * FROM fleet_releases WHERE version = ? AND arch = ?').get(version, arch) as Record<string, unknown> | undefined;
    return r ? toRelease(r) : null;
  }

  releases(): ReleaseRow[] {
    return (this.db.prepare('SELECT * FROM fleet_releases ORDER BY added_at DESC, arch').all() as Record<string, unknown>[]).map(toRelease);
  }

  // ---------------------------------------------------------------- rollouts

  startRollout(o: { version: string; stages?: string; window?: string; blackouts?: string; maxFailures?: number; by: string }): RolloutRow {
    const stages = parseStages(o.stages ?? DEFAULT_STAGES);
    const window = o.window ?? DEFAULT_WINDOW;
    const blackouts = o.blackouts ?? DEFAULT_BLACKOUTS;
    parseSpan(window);
    parseSpans(blackouts);
    const maxFailures = o.maxFailures ?? 1;
    if (!Number.isInteger(maxFailures) || maxFailures < 0) throw new UserError(`--max-failures ${maxFailures} is not a whole number >= 0`, 'e.g. --max-failures 1');
    if (!this.db.prepare('SELECT 1 FROM fleet_releases WHERE version = ?').get(o.version)) {
      throw new UserError(`release ${o.version} is not stored at the hub`, 'add it first: `hadir release add hadir-release-….tar.gz`');
    }
    const active = this.db.prepare(`SELECT id, version, state FROM fleet_rollouts WHERE state IN ${ACTIVE}`).get() as { id: number; version: string; state: string } | undefined;
    if (active) throw new UserError(`rollout ${active.id} (${active.version}) is still ${active.state}`, `finish or abort it first: \`hadir fleet abort ${active.id}\``);
    const devices = this.db
      .prepare(
        `SELECT d.id, d.site_code AS siteCode, u.opd_code AS opdCode FROM devices d
           LEFT JOIN sites s ON s.code = d.site_code LEFT JOIN units u ON u.code = s.unit_code
          WHERE d.public_key_pem IS NOT NULL AND d.disabled_at IS NULL`,
      )
      .all() as { id: string; siteCode: string; opdCode: string | null }[];
    if (devices.length === 0) throw new UserError('no enrolled, enabled kiosks to update', 'register kiosks first (`hadir device add`)');
    for (const s of stages) {
      if (s.kind === 'sites' && !devices.some((d) => s.sites.includes(d.siteCode))) throw new UserError(`stage ${describeStage(s)} matches no kiosk`, 'check the site codes (`hadir device list`)');
      if (s.kind === 'opd' && !devices.some((d) => d.opdCode === s.opd)) throw new UserError(`stage ${describeStage(s)} matches no kiosk`, 'check the OPD code');
    }
    const plan = assignStages(devices, stages);
    const at = iso(this.o.clock);
    const versions = new Map((this.db.prepare('SELECT device_id, version FROM fleet_device_versions').all() as { device_id: string; version: string }[]).map((r) => [r.device_id, r.version]));
    const id = this.db.transaction(() => {
      const rid = Number(
        this.db
          .prepare('INSERT INTO fleet_rollouts (version, state, stages, stage, install_window, blackouts, max_failures, created_at, created_by, updated_at) VALUES (?, ?, ?, 0, ?, ?, ?, ?, ?, ?)')
          .run(o.version, 'running', JSON.stringify(stages), window, blackouts, maxFailures, at, o.by, at).lastInsertRowid,
      );
      const ins = this.db.prepare('INSERT INTO fleet_targets (rollout_id, device_id, stage, state, from_version, reason, confirmed_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
      for (const [deviceId, stage] of plan) {
        const already = versions.get(deviceId) === o.version;
        ins.run(rid, deviceId, stage, already ? 'confirmed' : 'pending', versions.get(deviceId) ?? null, already ? 'sudah versi ini / already on this version' : null, already ? at : null, at);
      }
      return rid;
    })();
    this.audit({ action: 'rollout.start', actor: o.by, target: `rollout:${id}`, detail: { version: o.version, stages: stages.map(describeStage), window, blackouts, maxFailures, kiosks: plan.size } });
    this.advance(id);
    return this.rollout(id)!;
  }

  rollout(id?: number): RolloutRow | null {
    const r = (id === undefined
      ? this.db.prepare('SELECT * FROM fleet_rollouts ORDER BY id DESC LIMIT 1').get()
      : this.db.prepare('SELECT * FROM fleet_rollouts WHERE id = ?').get(id)) as Record<string, unknown> | undefined;
    return r ? toRollout(r) : null;
  }

  rollouts(limit = 50): RolloutRow[] {
    return (this.db.prepare('SELECT * FROM fleet_rollouts ORDER BY id DESC LIMIT ?').all(limit) as Record<string, unknown>[]).map(toRollout);
  }

  private requireRollout(id: number | undefined): RolloutRow {
    const r = id === undefined ? (this.db.prepare(`SELECT * FROM fleet_rollouts WHERE state IN ${ACTIVE} ORDER BY id DESC LIMIT 1`).get() as Record<string, unknown> | undefined) : this.db.prepare('SELECT * FROM fleet_rollouts WHERE id = ?').get(id) as Record<string, unknown> | undefined;
    if (!r) throw new UserError(id === undefined ? 'no active rollout' : `rollout ${id} does not exist`, 'see `hadir fleet status`', 404);
    return toRollout(r);
  }

  private setState(id: number, state: RolloutState, reason: string | null): void {
    this.db.prepare('UPDATE fleet_rollouts SET state = ?, reason = ?, updated_at = ? WHERE id = ?').run(state, reason, iso(this.o.clock), id);
  }

  pause(id: number | undefined, by: string): RolloutRow {
    const r = this.requireRollout(id);
    if (r.state !== 'running') throw new UserError(`rollout ${r.id} is ${r.state}, not running`, 'only a running rollout can be paused', 409);
    this.setState(r.id, 'paused', `dijeda oleh / paused by ${by}`);
    this.audit({ action: 'rollout.pause', actor: by, target: `rollout:${r.id}`, detail: {} });
    return this.rollout(r.id)!;
  }

  resume(id: number | undefined, by: string, maxFailures?: number): RolloutRow {
    const r = this.requireRollout(id);
    if (r.state !== 'paused' && r.state !== 'halted') throw new UserError(`rollout ${r.id} is ${r.state}`, 'only a paused or halted rollout can be resumed', 409);
    // Refused, changing nothing, when the failures already counted would halt it again at once.
    const targets = this.db.prepare('SELECT stage, state FROM fleet_targets WHERE rollout_id = ?').all(r.id) as { stage: number; state: TargetState }[];
    const would = progress({ ...r, state: 'running', maxFailures: maxFailures ?? r.maxFailures }, targets);
    if (would.state === 'halted') throw new UserError(`rollout ${r.id} would halt again at once: ${would.reason}`, 'resume with a higher --max-failures, or abort it', 409);
    if (maxFailures !== undefined) this.db.prepare('UPDATE fleet_rollouts SET max_failures = ? WHERE id = ?').run(maxFailures, r.id);
    this.setState(r.id, 'running', null);
    this.audit({ action: 'rollout.resume', actor: by, target: `rollout:${r.id}`, detail: { maxFailures: maxFailures ?? r.maxFailures } });
    this.advance(r.id);
    return this.rollout(r.id)!;
  }

  abort(id: number | undefined, by: string, reason?: string): RolloutRow {
    const r = this.requireRollout(id);
    if (r.state === 'aborted' || r.state === 'completed') throw new UserError(`rollout ${r.id} is already ${r.state}`, 'nothing to abort', 409);
    this.setState(r.id, 'aborted', reason ?? `dibatalkan oleh / aborted by ${by}`);
    this.audit({ action: 'rollout.abort', actor: by, target: `rollout:${r.id}`, detail: { reason: reason ?? null } });
    return this.rollout(r.id)!;
  }

  /** Re-evaluates stage, halt and completion after anything changed. */
  private advance(id: number): void {
    const r = this.rollout(id)!;
    const targets = this.db.prepare('SELECT stage, state FROM fleet_targets WHERE rollout_id = ?').all(id) as { stage: number; state: TargetState }[];
    const p = progress(r, targets);
    if (p.state === r.state && p.stage === r.stage) return;
    this.db.prepare('UPDATE fleet_rollouts SET state = ?, stage = ?, reason = COALESCE(?, reason), updated_at = ? WHERE id = ?').run(p.state, p.stage, p.reason, iso(this.o.clock), id);
    if (p.state === 'halted') this.audit({ action: 'rollout.halt', actor: 'hub', target: `rollout:${id}`, detail: { reason: p.reason } });
    else if (p.state === 'completed') this.audit({ action: 'rollout.complete', actor: 'hub', target: `rollout:${id}`, detail: {} });
    else this.audit({ action: 'rollout.stage', actor: 'hub', target: `rollout:${id}`, detail: { stage: p.stage, of: r.stages.length, name: describeStage(r.stages[p.stage]!) } });
  }

  targets(id: number): TargetRow[] {
    return (
      this.db
        .prepare(
          `SELECT t.device_id AS deviceId, d.site_code AS siteCode, t.stage, t.state, t.from_version AS fromVersion, t.reason, t.offered_at AS offeredAt,
                  t.confirmed_at AS confirmedAt, t.timings, t.updated_at AS updatedAt, v.version, COALESCE(v.online, 0) AS online
             FROM fleet_targets t JOIN devices d ON d.id = t.device_id LEFT JOIN fleet_device_versions v ON v.device_id = t.device_id
            WHERE t.rollout_id = ? ORDER BY t.stage, t.device_id`,
        )
        .all(id) as (Omit<TargetRow, 'timings' | 'online'> & { timings: string | null; online: number })[]
    ).map((t) => ({ ...t, online: t.online === 1, timings: t.timings ? (JSON.parse(t.timings) as Record<string, number>) : null }));
  }

  failures(opts: { rolloutId?: number; deviceId?: string } = {}): { rolloutId: number; deviceId: string; version: string; phase: string; reason: string; at: string }[] {
    return this.db
      .prepare(
        `SELECT rollout_id AS rolloutId, device_id AS deviceId, version, phase, reason, at FROM fleet_failures
          WHERE (@r IS NULL OR rollout_id = @r) AND (@d IS NULL OR device_id = @d) ORDER BY id`,
      )
      .all({ r: opts.rolloutId ?? null, d: opts.deviceId ?? null }) as never;
  }

  // ---------------------------------------------------------------- kiosk side

  setDeviceVersion(deviceId: string, version: string, online: boolean): void {
    this.db
      .prepare('INSERT INTO fleet_device_versions (device_id, version, online, at) VALUES (?, ?, ?, ?) ON CONFLICT (device_id) DO UPDATE SET version = excluded.version, online = excluded.online, at = excluded.at')
      .run(deviceId, version, online ? 1 : 0, iso(this.o.clock));
  }

  setDeviceOnline(deviceId: string, online: boolean): void {
    this.db.prepare('UPDATE fleet_device_versions SET online = ?, at = ? WHERE device_id = ?').run(online ? 1 : 0, iso(this.o.clock), deviceId);
  }

  seen(deviceId: string): { version: string; online: boolean; at: string } | null {
    const r = this.db.prepare('SELECT version, online, at FROM fleet_device_versions WHERE device_id = ?').get(deviceId) as { version: string; online: number; at: string } | undefined;
    return r ? { version: r.version, online: r.online === 1, at: r.at } : null;
  }

  private siteOffsetMin(siteCode: string): number {
    const r = this.db.prepare('SELECT utc_offset_min FROM sites WHERE code = ?').pluck().get(siteCode) as number | null | undefined;
    if (typeof r === 'number') return r;
    const dflt = this.db.prepare("SELECT value FROM att_config WHERE key = 'tz_offset_min'").pluck().get() as string | undefined;
    return dflt !== undefined && Number.isFinite(Number(dflt)) ? Number(dflt) : DEFAULT_UTC_OFFSET_MIN;
  }

  setSiteWindow(siteCode: string, window: string | null, by: string): void {
    if (!this.db.prepare('SELECT 1 FROM sites WHERE code = ?').get(siteCode)) throw new UserError(`site ${siteCode} does not exist`, 'use a site code from `hadir import org`');
    if (window === null) this.db.prepare('DELETE FROM fleet_site_windows WHERE site_code = ?').run(siteCode);
    else {
      parseSpan(window);
      this.db.prepare('INSERT INTO fleet_site_windows (site_code, install_window) VALUES (?, ?) ON CONFLICT (site_code) DO UPDATE SET install_window = excluded.install_window').run(siteCode, window);
    }
    this.audit({ action: 'fleet.window', actor: by, target: `site:${siteCode}`, detail: { window } });
  }

  /** What a kiosk should do now: nothing, or fetch (and, inside its window, install) a release. */
  offerFor(deviceId: string, siteCode: string): UpdateOffer | null {
    const r = this.db.prepare("SELECT * FROM fleet_rollouts WHERE state = 'running' ORDER BY id DESC LIMIT 1").get() as Record<string, unknown> | undefined;
    if (!r) return null;
    const ro = toRollout(r);
    const t = this.db.prepare('SELECT stage, state FROM fleet_targets WHERE rollout_id = ? AND device_id = ?').get(ro.id, deviceId) as { stage: number; state: TargetState } | undefined;
    if (!t || t.stage > ro.stage || t.state === 'confirmed' || t.state === 'failed') return null;
    const bundles = Object.fromEntries(this.db.prepare('SELECT arch, size, sha256 FROM fleet_releases WHERE version = ?').all(ro.version).map((b) => {
      const x = b as { arch: string; size: number; sha256: string };
      return [x.arch, { size: x.size, sha256: x.sha256, url: `/api/v1/kiosk/releases/${encodeURIComponent(ro.version)}/${x.arch}` }];
    }));
    const site = this.db.prepare('SELECT install_window FROM fleet_site_windows WHERE site_code = ?').pluck().get(siteCode) as string | undefined;
    const window = site ?? ro.installWindow;
    const now = new Date(this.o.clock());
    const installNow = installAllowed(now.getTime(), this.siteOffsetMin(siteCode), parseSpan(window), parseSpans(ro.blackouts));
    this.db.prepare('UPDATE fleet_targets SET offered_at = COALESCE(offered_at, ?) WHERE rollout_id = ? AND device_id = ?').run(now.toISOString(), ro.id, deviceId);
    return { rolloutId: ro.id, version: ro.version, bundles, installNow, installWindow: window, blackouts: ro.blackouts };
  }

  /** A kiosk's progress or failure. Unknown or finished rollouts are answered but change nothing. */
  report(deviceId: string, rep: UpdateReport): { accepted: boolean } {
    const t = this.db.prepare('SELECT state FROM fleet_targets WHERE rollout_id = ? AND device_id = ?').get(rep.rolloutId, deviceId) as { state: TargetState } | undefined;
    if (!t) return { accepted: false };
    const at = iso(this.o.clock);
    const state: TargetState = rep.phase === 'refused' || rep.phase === 'rolled_back' ? 'failed' : rep.phase;
    if (t.state === 'confirmed' && state !== 'confirmed') return { accepted: false }; // a late message after the confirmation
    this.db.transaction(() => {
      this.db
        .prepare(
          `UPDATE fleet_targets SET state = ?, reason = ?, timings = COALESCE(?, timings), from_version = COALESCE(?, from_version),
                  confirmed_at = CASE WHEN ? = 'confirmed' THEN ? ELSE confirmed_at END, updated_at = ? WHERE rollout_id = ? AND device_id = ?`,
        )
        .run(state, rep.reason ?? null, rep.timings ? JSON.stringify(rep.timings) : null, rep.fromVersion ?? null, state, at, at, rep.rolloutId, deviceId);
      if (state === 'failed') {
        this.db.prepare('INSERT INTO fleet_failures (rollout_id, device_id, version, phase, reason, at) VALUES (?, ?, ?, ?, ?, ?)').run(rep.rolloutId, deviceId, rep.version, rep.phase, rep.reason ?? '(no reason given)', at);
      }
    })();
    if (state === 'failed') this.audit({ action: 'kiosk.update_failed', actor: deviceId, target: `rollout:${rep.rolloutId}`, detail: { version: rep.version, phase: rep.phase, reason: rep.reason } }, 'device');
    if (state === 'confirmed') this.audit({ action: 'kiosk.updated', actor: deviceId, target: `rollout:${rep.rolloutId}`, detail: { version: rep.version, timings: rep.timings ?? null } }, 'device');
    this.advance(rep.rolloutId);
    return { accepted: true };
  }

  /** Per-device summary for GET /api/v1/devices and the dashboard's terminal page. */
  describe(deviceIds: string[]): Map<string, Record<string, unknown>> {
    const ro = this.rollout();
    const targets = ro ? new Map(this.targets(ro.id).map((t) => [t.deviceId, t])) : new Map<string, TargetRow>();
    const out = new Map<string, Record<string, unknown>>();
    for (const id of deviceIds) {
      const seen = this.seen(id);
      const t = targets.get(id);
      const fails = this.failures({ deviceId: id }).slice(-5);
      out.set(id, {
        fleet: {
          version: seen?.version ?? null,
          rollout: ro && t ? { id: ro.id, version: ro.version, state: ro.state, stage: t.stage, stageName: describeStage(ro.stages[t.stage]!), currentStage: ro.stage, deviceState: t.state, reason: t.reason } : null,
          failures: fails,
        },
      });
    }
    return out;
  }

  releaseFile(version: string, arch: string): { path: string; size: number; sha256: string } | null {
    const r = this.release(version, arch);
    return r && existsSync(r.file) ? { path: r.file, size: r.size, sha256: r.sha256 } : null;
  }
}

function toRollout(r: Record<string, unknown>): RolloutRow {
  return {
    id: r.id as number,
    version: r.version as string,
    state: r.state as RolloutState,
    stages: JSON.parse(r.stages as string) as Stage[],
    stage: r.stage as number,
    installWindow: r.install_window as string,
    blackouts: r.blackouts as string,
    maxFailures: r.max_failures as number,
    reason: (r.reason as string | null) ?? null,
    createdAt: r.created_at as string,
    createdBy: (r.created_by as string | null) ?? null,
    updatedAt: r.updated_at as string,
  };
}

function toRelease(r: Record<string, unknown>): ReleaseRow {
  return {
    ...camelRecord<Omit<ReleaseRow, 'manifest'>>(r, ['version', 'arch', 'file', 'size', 'sha256', 'key_id', 'added_at', 'added_by']),
    manifest: JSON.parse(r.manifest as string) as ReleaseRow['manifest'],
  };
}

/**
 * Fleet rollouts as the hub module uses them, async. On SQLite it is FleetService through asyncOver
 * (its SQL and its rollout rules are not yet apart: a PostgreSQL fleet store starts by splitting them).
 */
export type FleetRepository = Async<FleetService>;
