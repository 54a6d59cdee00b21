import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { basename, join } from 'node:path';
import { writeFileAtomic } from '../../lib/write-atomic.js';
import { UserError } from '../../lib/errors.js';
import { iso, type Clock } from '../../lib/clock.js';
import { compareVersions, fileDigest, keyFingerprint, releasePublicKey, verifyBundle, BundleError, type ReleaseManifest } from '../../lib/release-bundle.js';
import {
  DEFAULT_BLACKOUTS, DEFAULT_STAGES, DEFAULT_WINDOW, assignStages, describeStage, installAllowed, parseSpan, parseSpans, parseStages, progress,
  type RolloutState, type TargetState,
} from './rollout.js';
import { ACTIVE_STATES, type FailureRow, type FleetStore, type ReleaseRow, type RolloutRow, type TargetRow } from './store.js';
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

export type { FailureRow, ReleaseRow, RolloutRow, TargetRow } from './store.js';

const DEFAULT_UTC_OFFSET_MIN = 420; // WIB

export interface FleetServiceOptions {
  dataDir: string;
  hubVersion: string;
  audit: FleetAudit;
  /** The hub's clock (rollout, offer and version stamps; install windows). */
  clock: Clock;
  operatorKind?: 'user' | 'cli';
}

/**
 * Fleet updates on either store: the rules (rollout.ts) and the audit trail here, every lookup and
 * write through FleetStore (SQLite or PostgreSQL). Rollouts advance, halt and complete when
 * something changes — a kiosk's report, a start, a resume — not on a timer: each advance is one
 * store transaction, so any hub worker can take any report.
 */
export class FleetService {
  constructor(
    private readonly store: FleetStore,
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
    const same = async () => {
      const existing = await this.store.release(manifest.version, manifest.arch);
      if (existing && existing.sha256 !== digest.sha256) throw new UserError(`release ${manifest.version} for ${manifest.arch} is already stored with other content`, 'give the new build a new version');
      return existing;
    };
    const existing = await same();
    // the file goes into this data dir also when the database has the release already: another
    // hub worker's data dir (each serves bundles from its own), or a re-add after a lost file
    const dir = join(this.o.dataDir, 'releases');
    mkdirSync(dir, { recursive: true });
    const dest = join(dir, releaseFileName(manifest.version, manifest.arch));
    copyFileSync(file, `${dest}.part`);
    renameSync(`${dest}.part`, dest);
    if (!trusted) {
      mkdirSync(this.o.dataDir, { recursive: true });
      writeFileAtomic(keyPath, pem);
    }
    if (existing) return existing;
    const { files, links, ...meta } = manifest;
    void links;
    const row: ReleaseRow = {
      version: manifest.version, arch: manifest.arch, file: dest, size: digest.size, sha256: digest.sha256,
      manifest: { ...meta, fileCount: Object.keys(files).length }, keyId: keyFingerprint(pem), addedAt: iso(this.o.clock), addedBy: by,
    };
    // stored meanwhile by another command or worker: the same bundle is fine, another one is refused
    if (!(await this.store.insertRelease(row))) return (await same())!;
    this.audit({ action: 'release.add', actor: by, target: `${manifest.version}/${manifest.arch}`, detail: { sha256: digest.sha256, size: digest.size, keyId: row.keyId } });
    return (await this.store.release(manifest.version, manifest.arch))!;
  }

  release(version: string, arch: string): Promise<ReleaseRow | null> {
    return this.store.release(version, arch);
  }

  releases(): Promise<ReleaseRow[]> {
    return this.store.releases();
  }

  /**
   * The bundle file this hub process serves: by its name in this process's own <data>/releases
   * (each worker's data dir, or a restored one), else where `release add` put it.
   */
  async releaseFile(version: string, arch: string): Promise<{ path: string; size: number; sha256: string } | null> {
    const r = await this.store.release(version, arch);
    if (!r) return null;
    const path = [join(this.o.dataDir, 'releases', basename(r.file)), r.file].find((p) => existsSync(p));
    return path ? { path, size: r.size, sha256: r.sha256 } : null;
  }

  // ---------------------------------------------------------------- rollouts

  async startRollout(o: { version: string; stages?: string; window?: string; blackouts?: string; maxFailures?: number; by: string }): Promise<RolloutRow> {
    const stages = parseStages(o.stages ?? DEFAULT_STAGES);
    const window = o.window ?? DEFAULT_WINDOW;
    const blackouts = o.blackouts ?? DEFAULT_BLACKOUTS;
    parseSpan(window);
    parseSpans(blackouts);
    const maxFailures = o.maxFailures ?? 1;
    if (!Number.isInteger(maxFailures) || maxFailures < 0) throw new UserError(`--max-failures ${maxFailures} is not a whole number >= 0`, 'e.g. --max-failures 1');
    if (!(await this.store.releaseBundles(o.version)).length) {
      throw new UserError(`release ${o.version} is not stored at the hub`, 'add it first: `hadir release add hadir-release-….tar.gz`');
    }
    const refuseActive = (a: { id: number; version: string; state: string }) =>
      new UserError(`rollout ${a.id} (${a.version}) is still ${a.state}`, `finish or abort it first: \`hadir fleet abort ${a.id}\``);
    const active = await this.store.latestIn(ACTIVE_STATES);
    if (active) throw refuseActive(active);
    const devices = await this.store.fleetDevices();
    if (devices.length === 0) throw new UserError('no enrolled, enabled kiosks to update', 'register kiosks first (`hadir device add`)');
    for (const s of stages) {
      if (s.kind === 'sites' && !devices.some((d) => s.sites.includes(d.siteCode))) throw new UserError(`stage ${describeStage(s)} matches no kiosk`, 'check the site codes (`hadir device list`)');
      if (s.kind === 'opd' && !devices.some((d) => d.opdCode === s.opd)) throw new UserError(`stage ${describeStage(s)} matches no kiosk`, 'check the OPD code');
    }
    const plan = assignStages(devices, stages);
    const versions = await this.store.deviceVersions();
    const targets = [...plan].map(([deviceId, stage]) => ({ deviceId, stage, fromVersion: versions.get(deviceId) ?? null, already: versions.get(deviceId) === o.version }));
    const made = await this.store.createRollout({ version: o.version, stages, installWindow: window, blackouts, maxFailures, at: iso(this.o.clock), by: o.by }, targets);
    if ('active' in made) throw refuseActive(made.active);
    const id = made.id;
    this.audit({ action: 'rollout.start', actor: o.by, target: `rollout:${id}`, detail: { version: o.version, stages: stages.map(describeStage), window, blackouts, maxFailures, kiosks: plan.size } });
    await this.advance(id);
    return (await this.store.rollout(id))!;
  }

  /** The given rollout, or the latest. */
  rollout(id?: number): Promise<RolloutRow | null> {
    return this.store.rollout(id);
  }

  rollouts(limit = 50): Promise<RolloutRow[]> {
    return this.store.rollouts(limit);
  }

  private async requireRollout(id: number | undefined): Promise<RolloutRow> {
    const r = id === undefined ? await this.store.latestIn(ACTIVE_STATES) : await this.store.rollout(id);
    if (!r) throw new UserError(id === undefined ? 'no active rollout' : `rollout ${id} does not exist`, 'see `hadir fleet status`', 404);
    return r;
  }

  /** Moves the rollout on from the state it was read in; someone else changing it meanwhile is a conflict, not overwritten. */
  private async transition(r: RolloutRow, to: RolloutState, reason: string | null, maxFailures?: number): Promise<void> {
    if (!(await this.store.transition(r.id, [r.state], to, reason, iso(this.o.clock), maxFailures))) {
      const now = await this.store.rollout(r.id);
      throw new UserError(`rollout ${r.id} changed meanwhile (now ${now?.state ?? 'gone'})`, 'see `hadir fleet status` and try again', 409);
    }
  }

  async pause(id: number | undefined, by: string): Promise<RolloutRow> {
    const r = await this.requireRollout(id);
    if (r.state !== 'running') throw new UserError(`rollout ${r.id} is ${r.state}, not running`, 'only a running rollout can be paused', 409);
    await this.transition(r, 'paused', `dijeda oleh / paused by ${by}`);
    this.audit({ action: 'rollout.pause', actor: by, target: `rollout:${r.id}`, detail: {} });
    return (await this.store.rollout(r.id))!;
  }

  async resume(id: number | undefined, by: string, maxFailures?: number): Promise<RolloutRow> {
    const r = await this.requireRollout(id);
    if (r.state !== 'paused' && r.state !== 'halted') throw new UserError(`rollout ${r.id} is ${r.state}`, 'only a paused or halted rollout can be resumed', 409);
    // Refused, changing nothing, when the failures already counted would halt it again at once.
    const would = progress({ ...r, state: 'running', maxFailures: maxFailures ?? r.maxFailures }, await this.store.targetStates(r.id));
    if (would.state === 'halted') throw new UserError(`rollout ${r.id} would halt again at once: ${would.reason}`, 'resume with a higher --max-failures, or abort it', 409);
    await this.transition(r, 'running', null, maxFailures);
    this.audit({ action: 'rollout.resume', actor: by, target: `rollout:${r.id}`, detail: { maxFailures: maxFailures ?? r.maxFailures } });
    await this.advance(r.id);
    return (await this.store.rollout(r.id))!;
  }

  async abort(id: number | undefined, by: string, reason?: string): Promise<RolloutRow> {
    const r = await this.requireRollout(id);
    if (r.state === 'aborted' || r.state === 'completed') throw new UserError(`rollout ${r.id} is already ${r.state}`, 'nothing to abort', 409);
    await this.transition(r, 'aborted', reason ?? `dibatalkan oleh / aborted by ${by}`);
    this.audit({ action: 'rollout.abort', actor: by, target: `rollout:${r.id}`, detail: { reason: reason ?? null } });
    return (await this.store.rollout(r.id))!;
  }

  /** Re-evaluates stage, halt and completion after anything changed (rollout.ts progress, inside the store's transaction). */
  private async advance(id: number): Promise<void> {
    const done = await this.store.advance(
      id,
      (r, targets) => {
        const p = progress(r, targets);
        return p.state === r.state && p.stage === r.stage ? null : p;
      },
      iso(this.o.clock),
    );
    if (!done) return;
    const { rollout: r, next: p } = done;
    if (p.state === 'halted') this.audit({ action: 'rollout.halt', actor: 'hub', target: `rollout:${id}`, detail: { reason: p.reason } });
    else if (p.state === 'completed') this.audit({ action: 'rollout.complete', actor: 'hub', target: `rollout:${id}`, detail: {} });
    else this.audit({ action: 'rollout.stage', actor: 'hub', target: `rollout:${id}`, detail: { stage: p.stage, of: r.stages.length, name: describeStage(r.stages[p.stage]!) } });
  }

  targets(id: number): Promise<TargetRow[]> {
    return this.store.targets(id);
  }

  failures(opts: { rolloutId?: number; deviceId?: string } = {}): Promise<FailureRow[]> {
    return this.store.failures(opts);
  }

  /** The latest (or given) rollout with its stage names, every kiosk's state and every failure (API and `hadir fleet status`). */
  async status(id?: number): Promise<{ rollout: RolloutRow & { stageNames: string[] }; targets: TargetRow[]; failures: FailureRow[] } | null> {
    const ro = await this.store.rollout(id);
    if (!ro) return null;
    return { rollout: { ...ro, stageNames: ro.stages.map(describeStage) }, targets: await this.store.targets(ro.id), failures: await this.store.failures({ rolloutId: ro.id }) };
  }

  // ---------------------------------------------------------------- kiosk side

  setDeviceVersion(deviceId: string, version: string, online: boolean): Promise<void> {
    return this.store.setDeviceVersion(deviceId, version, online, iso(this.o.clock));
  }

  setDeviceOnline(deviceId: string, online: boolean): Promise<void> {
    return this.store.setDeviceOnline(deviceId, online, iso(this.o.clock));
  }

  seen(deviceId: string): Promise<{ version: string; online: boolean; at: string } | null> {
    return this.store.seen(deviceId);
  }

  async setSiteWindow(siteCode: string, window: string | null, by: string): Promise<void> {
    if (!(await this.store.siteExists(siteCode))) throw new UserError(`site ${siteCode} does not exist`, 'use a site code from `hadir import org`');
    if (window !== null) parseSpan(window);
    await this.store.setSiteWindow(siteCode, window);
    this.audit({ action: 'fleet.window', actor: by, target: `site:${siteCode}`, detail: { window } });
  }

  /** What a kiosk should do now: nothing, or fetch (and, inside its window, install) a release. */
  async offerFor(deviceId: string, siteCode: string): Promise<UpdateOffer | null> {
    const ro = await this.store.latestIn(['running']);
    if (!ro) return null;
    const t = await this.store.target(ro.id, deviceId);
    if (!t || t.stage > ro.stage || t.state === 'confirmed' || t.state === 'failed') return null;
    const bundles = Object.fromEntries(
      (await this.store.releaseBundles(ro.version)).map((x) => [x.arch, { size: x.size, sha256: x.sha256, url: `/api/v1/kiosk/releases/${encodeURIComponent(ro.version)}/${x.arch}` }]),
    );
    const window = (await this.store.siteWindow(siteCode)) ?? ro.installWindow;
    const now = new Date(this.o.clock());
    const offset = (await this.store.siteOffsetMin(siteCode)) ?? DEFAULT_UTC_OFFSET_MIN;
    const installNow = installAllowed(now.getTime(), offset, parseSpan(window), parseSpans(ro.blackouts));
    await this.store.markOffered(ro.id, deviceId, now.toISOString());
    return { rolloutId: ro.id, version: ro.version, bundles, installNow, installWindow: window, blackouts: ro.blackouts };
  }

  /** A kiosk's progress or failure. Unknown or finished rollouts are answered but change nothing. */
  async report(deviceId: string, rep: UpdateReport): Promise<{ accepted: boolean }> {
    const state: TargetState = rep.phase === 'refused' || rep.phase === 'rolled_back' ? 'failed' : rep.phase;
    const w = {
      rolloutId: rep.rolloutId, deviceId, version: rep.version, phase: rep.phase, state, reason: rep.reason ?? null,
      timings: rep.timings ?? null, fromVersion: rep.fromVersion ?? null, at: iso(this.o.clock),
    };
    // a late message after the confirmation changes nothing
    const r = await this.store.applyReport(w, (current) => !(current === 'confirmed' && state !== 'confirmed'));
    if (r !== 'stored') return { accepted: false };
    if (state === 'failed') this.audit({ action: 'kiosk.update_failed', actor: deviceId, target: `rollout:${rep.rolloutId}`, detail: { version: rep.version, phase: rep.phase, reason: rep.reason } }, 'device');
    if (state === 'confirmed') this.audit({ action: 'kiosk.updated', actor: deviceId, target: `rollout:${rep.rolloutId}`, detail: { version: rep.version, timings: rep.timings ?? null } }, 'device');
    await this.advance(rep.rolloutId);
    return { accepted: true };
  }

  /** Per-device summary for GET /api/v1/devices and the dashboard's terminal page. */
  async describe(deviceIds: string[]): Promise<Map<string, Record<string, unknown>>> {
    const ro = await this.store.rollout();
    const targets = ro ? new Map((await this.store.targets(ro.id)).map((t) => [t.deviceId, t])) : new Map<string, TargetRow>();
    const out = new Map<string, Record<string, unknown>>();
    for (const id of deviceIds) {
      const seen = await this.store.seen(id);
      const t = targets.get(id);
      const fails = (await this.store.failures({ deviceId: id })).slice(-5);
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
}

/** The bundle's file name in <data>/releases. */
export const releaseFileName = (version: string, arch: string): string => `hadir-${version}-${arch}.tar.gz`;

/** Fleet rollouts as the hub module and the command line use them (either store). */
export type FleetRepository = FleetService;
