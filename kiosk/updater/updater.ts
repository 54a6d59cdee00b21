import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import type { KioskConfig } from '../config.js';
import type { Logger } from '../../lib/logger.js';
import { writeFileAtomic } from '../../lib/write-atomic.js';
import { BundleError, releasePublicKey, verifyBundle, writeStreamToFile, type ReleaseArch } from '../../lib/release-bundle.js';
import { KIOSK_API, updateAnswerSchema, type UpdateAnswer, type UpdateOffer, type UpdateReport } from '../../protocol/index.js';
import { HubClient } from '../hub-client.js';
import { Journal } from '../journal.js';
import { runStatePath, startsSince, type RunState } from '../run-state.js';
import { ReleaseDirs, carryModels, linkNodeModules } from './releases.js';
import { alive, type KioskSupervisor } from './supervisor.js';
import { systemClock, type Clock } from '../../lib/clock.js';
import { systemUser } from '../../lib/system-user.js';

/**
 * The kiosk's updater: its own process (hadir-updater.service), never the kiosk itself, so a
 * release that does not start cannot stop its own rollback. Each poll: ask the hub for an offer,
 * download the bundle for this CPU in the background (resuming a partial file with a range
 * request), and inside the site's install window: verify signature and every hash while unpacking
 * into releases/.staging-V (nothing the kiosk uses changes until this succeeded), rename it to
 * releases/V, switch `current`, restart the kiosk and wait for it to be healthy. Not healthy in
 * time → switch back, restart the old release, report why. Every step is written to
 * updater-state.json first, so a power cut at any point resumes or undoes the step on next start.
 */

/** Starts of a new release that died before READY after which it is rolled back without waiting out the deadline. */
const CRASH_LOOP_STARTS = 3;
/** How often the process manager is asked how many times it restarted the kiosk (see confirm). */
const MANAGER_ASK_MS = 3000;

export type Phase = 'idle' | 'switching' | 'confirming' | 'rollingback';

export interface UpdaterState {
  phase: Phase;
  rolloutId?: number;
  /** Release directory names. */
  from?: string;
  to?: string;
  fromVersion?: string;
  switchedAt?: string;
  /** The release before the current one (kept on disk for a manual or automatic way back). */
  previous?: string;
  /** Versions that failed here, with the reason: never installed again automatically. */
  bad: Record<string, string>;
  timings?: Record<string, number>;
}

export interface UpdaterDeps {
  config: KioskConfig;
  configPath: string;
  supervisor: KioskSupervisor;
  log: Logger;
  arch?: ReleaseArch;
  now?: Clock;
  /**
   * Called after each durable step ('downloaded', 'staged', 'promoted', 'switching', 'switched',
   * 'restarted'): the power-cut test holds the updater there and kills it with the kiosk.
   */
  checkpoint?: (step: string) => Promise<void>;
  /** Download progress hook (tests interrupt a download with it). */
  onDownloadChunk?: (bytesSoFar: number, abort: () => void) => void;
}

export type TickResult =
  | { kind: 'none' }
  | { kind: 'waiting'; version: string; reason: string }
  | { kind: 'confirmed'; version: string; timings: Record<string, number> }
  | { kind: 'refused'; version: string; reason: string }
  | { kind: 'rolled_back'; version: string; reason: string };

export class Updater {
  readonly dirs: ReleaseDirs;
  private readonly cfg;
  private readonly statePath: string;
  private readonly downloads: string;
  private readonly arch: ReleaseArch;
  private readonly now: Clock;
  private readonly hub: HubClient;

  constructor(private readonly d: UpdaterDeps) {
    this.hub = HubClient.forConfig(d.config);
    this.cfg = d.config.update;
    this.dirs = new ReleaseDirs(this.cfg.root);
    this.statePath = join(this.cfg.stateDir, 'updater-state.json');
    this.downloads = join(this.cfg.stateDir, 'downloads');
    this.arch = d.arch ?? (process.arch as ReleaseArch);
    this.now = d.now ?? systemClock;
    mkdirSync(this.downloads, { recursive: true });
  }

  // ---------------------------------------------------------------- state

  state(): UpdaterState {
    try {
      return { bad: {}, ...(JSON.parse(readFileSync(this.statePath, 'utf8')) as Partial<UpdaterState>) } as UpdaterState;
    } catch {
      return { phase: 'idle', bad: {} };
    }
  }

  private save(s: UpdaterState): void {
    writeFileAtomic(this.statePath, JSON.stringify(s, null, 1) + '\n');
  }

  private log(obj: Record<string, unknown>, msg: string): void {
    this.d.log.info(obj, msg);
  }

  private async step(name: string): Promise<void> {
    await this.d.checkpoint?.(name);
  }

  // ---------------------------------------------------------------- hub

  ask(): Promise<UpdateAnswer> {
    return this.hub.get(KIOSK_API.update, updateAnswerSchema);
  }

  async report(r: UpdateReport): Promise<void> {
    try {
      const res = await this.hub.request(KIOSK_API.updateReport, { method: 'POST', body: r });
      if (!res.ok && res.status !== 409) this.d.log.warn({ status: res.status, phase: r.phase }, 'update report not accepted');
    } catch (e) {
      // The hub also sees the version through MQTT; a lost report only delays the rollout's view.
      this.d.log.warn({ err: (e as Error).message, phase: r.phase }, 'update report not delivered');
    }
  }

  // ---------------------------------------------------------------- download

  bundlePath(version: string): string {
    return join(this.downloads, `hadir-${version}-${this.arch}.tar.gz`);
  }

  /**
   * Downloads (or finishes downloading) a bundle. A `.part` file is continued with
   * `Range: bytes=<size>-` + `If-Range: <etag>`; a 200 instead of 206 (the hub has another file)
   * starts over. The whole file must match the offer's sha256, else it is dropped and fetched anew
   * next time. Returns the bytes transferred in this call.
   */
  async download(version: string, b: UpdateOffer['bundles'][string]): Promise<{ path: string; transferred: number; resumedFrom: number }> {
    const done = this.bundlePath(version);
    if (existsSync(done)) return { path: done, transferred: 0, resumedFrom: 0 };
    const part = `${done}.part`;
    const have = existsSync(part) ? statSync(part).size : 0;
    const ac = new AbortController();
    const headers: Record<string, string> = {};
    if (have > 0 && have < b.size) Object.assign(headers, { range: `bytes=${have}-`, 'if-range': `"${b.sha256}"` });
    const res = await this.hub.request(b.url, { headers, signal: ac.signal, timeoutMs: null });
    if (res.status !== 200 && res.status !== 206) throw new Error(`download of ${version}: HTTP ${res.status} ${(await res.text()).slice(0, 200)}`);
    const resumedFrom = res.status === 206 ? have : 0;
    let soFar = resumedFrom;
    const body = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream);
    const counted = body.on('data', (c: Buffer) => {
      soFar += c.length;
      this.d.onDownloadChunk?.(soFar, () => ac.abort());
    });
    let transferred: number;
    try {
      transferred = await writeStreamToFile(counted, part, res.status === 206 ? 'a' : 'w');
    } catch (e) {
      throw new Error(`download of ${version} interrupted after ${soFar} of ${b.size} bytes (kept, resumes next time): ${(e as Error).message}`);
    }
    const sha = createHash('sha256');
    for await (const c of createReadStream(part)) sha.update(c as Buffer);
    if (sha.digest('hex') !== b.sha256) {
      rmSync(part, { force: true });
      throw new Error(`download of ${version} does not match the hub's sha256 (dropped; fetched again next time)`);
    }
    renameSync(part, done);
    return { path: done, transferred, resumedFrom };
  }

  // ---------------------------------------------------------------- the poll

  /** One poll of the hub; does at most one update. */
  async tick(): Promise<TickResult> {
    const ans = await this.ask();
    const offer = ans.offer;
    if (!offer) return { kind: 'none' };
    const st = this.state();
    const running = this.runningVersion();
    const base = { rolloutId: offer.rolloutId, version: offer.version };
    if (running === offer.version && this.dirs.current() === offer.version) {
      // Updated before (e.g. the report was lost in a power cut right after confirming): say so again.
      await this.report({ ...base, phase: 'confirmed', ...(st.timings ? { timings: st.timings } : {}) });
      return { kind: 'confirmed', version: offer.version, timings: st.timings ?? {} };
    }
    if (st.bad[offer.version]) {
      await this.report({ ...base, phase: 'rolled_back', reason: `sudah gagal sebelumnya / failed here before: ${st.bad[offer.version]}`.slice(0, 500) });
      return { kind: 'rolled_back', version: offer.version, reason: st.bad[offer.version]! };
    }
    const b = offer.bundles[this.arch];
    if (!b) {
      const reason = `tidak ada bundle untuk / no bundle for ${this.arch} (hub has ${Object.keys(offer.bundles).join(', ') || 'none'})`;
      await this.report({ ...base, phase: 'refused', reason });
      return { kind: 'refused', version: offer.version, reason };
    }
    const t0 = this.now();
    if (!existsSync(this.bundlePath(offer.version))) await this.report({ ...base, phase: 'downloading', fromVersion: running ?? undefined });
    const dl = await this.download(offer.version, b);
    const downloadS = (this.now() - t0) / 1000;
    if (dl.transferred > 0) await this.report({ ...base, phase: 'downloaded', timings: { downloadS, bytes: b.size } });
    await this.step('downloaded');
    if (!offer.installNow) return { kind: 'waiting', version: offer.version, reason: `di luar jendela pemasangan / outside the install window ${offer.installWindow} (not in ${offer.blackouts})` };
    return this.install(offer, dl.path, { downloadS });
  }

  /** Verify + unpack + switch + restart + confirm (or roll back). */
  async install(offer: Pick<UpdateOffer, 'rolloutId' | 'version'>, bundle: string, timings: Record<string, number> = {}): Promise<TickResult> {
    const base = { rolloutId: offer.rolloutId, version: offer.version };
    const fromVersion = this.runningVersion() ?? undefined;
    await this.report({ ...base, phase: 'installing', fromVersion });
    const from = this.dirs.current();
    const tv = this.now();
    this.dirs.cleanStaging();
    try {
      const pub = releasePublicKey(readFileSync(this.cfg.publicKeyFile, 'utf8'));
      const v = await verifyBundle(bundle, { publicKey: pub, extractTo: this.dirs.staging(offer.version), arch: this.arch, version: offer.version });
      const staging = this.dirs.staging(offer.version);
      if (v.manifest.nodeModules === 'external') {
        if (!this.cfg.nodeModulesDir) throw new BundleError('bundle has no node_modules and update.nodeModulesDir is not set (test bundles only)');
        linkNodeModules(staging, this.cfg.nodeModulesDir);
      }
      if (from) carryModels(this.dirs.dir(from), staging);
      await this.step('staged');
      this.dirs.promote(offer.version);
      await this.step('promoted');
    } catch (e) {
      this.dirs.cleanStaging();
      rmSync(bundle, { force: true });
      const reason = e instanceof BundleError ? `bundle ditolak / refused: ${e.message}` : `pemasangan gagal / install failed: ${(e as Error).message}`;
      const st = this.state();
      st.bad[offer.version] = reason.slice(0, 300);
      this.save(st);
      this.d.log.error({ version: offer.version, reason }, 'release refused before anything changed');
      await this.report({ ...base, phase: 'refused', reason: reason.slice(0, 500) });
      return { kind: 'refused', version: offer.version, reason };
    }
    timings.verifyS = (this.now() - tv) / 1000;
    rmSync(bundle, { force: true });
    const st = this.state();
    const next: UpdaterState = { ...st, phase: 'switching', rolloutId: offer.rolloutId, from: from ?? undefined, to: offer.version, fromVersion, switchedAt: new Date(this.now()).toISOString(), timings };
    this.save(next);
    await this.step('switching');
    this.dirs.switchTo(offer.version);
    await this.step('switched');
    this.save({ ...next, phase: 'confirming' });
    this.log({ version: offer.version, from }, 'current switched; restarting the kiosk');
    return this.restartAndConfirm({ ...next, phase: 'confirming' });
  }

  private async restartAndConfirm(s: UpdaterState): Promise<TickResult> {
    const version = s.to!;
    const tRestart = this.now();
    await this.d.supervisor.restart();
    await this.step('restarted');
    const res = await this.confirm(version, tRestart);
    const timings = { ...(s.timings ?? {}), ...res.timings };
    if (res.ok) {
      const migrated = await this.migrateJournal();
      const st: UpdaterState = { phase: 'idle', bad: this.state().bad, previous: s.from, timings: { ...timings, ...(migrated !== null ? { journalSchema: migrated } : {}) } };
      this.save(st);
      const removed = this.dirs.prune([version, s.from]);
      this.log({ version, timings, removed, journalSchema: migrated }, 'update confirmed healthy');
      await this.report({ rolloutId: s.rolloutId!, version, phase: 'confirmed', ...(s.fromVersion ? { fromVersion: s.fromVersion } : {}), timings: st.timings! });
      return { kind: 'confirmed', version, timings: st.timings! };
    }
    return this.rollback(s, res.reason, timings);
  }

  private async rollback(s: UpdaterState, reason: string, timings: Record<string, number> = {}): Promise<TickResult> {
    const version = s.to!;
    this.d.log.error({ version, reason, back: s.from }, 'new release not healthy: rolling back');
    this.save({ ...s, phase: 'rollingback' });
    if (s.from) this.dirs.switchTo(s.from);
    const tr = this.now();
    await this.d.supervisor.restart();
    const back = s.fromVersion ? await this.confirm(s.fromVersion, tr, false) : null;
    const st = this.state();
    st.bad[version] = reason.slice(0, 300);
    this.save({ phase: 'idle', bad: st.bad, previous: st.previous });
    // The failed release goes; current and the one before stay.
    this.dirs.prune([s.from, st.previous]);
    const full = `${reason}; dikembalikan ke / rolled back to ${s.fromVersion ?? s.from}${back && !back.ok ? ` (which is not healthy either: ${back.reason})` : ''}`;
    await this.report({ rolloutId: s.rolloutId!, version, phase: 'rolled_back', reason: full.slice(0, 500), timings: { ...timings, rollbackS: (this.now() - tr) / 1000 } });
    return { kind: 'rolled_back', version, reason: full };
  }

  /**
   * Waits until the kiosk runs `version` and is healthy: READY reached, journal integrity ok, MQTT
   * connected, roster loaded, and (when `hubAck`) the hub reports having seen this version online.
   */
  async confirm(version: string, since: number, hubAck = true): Promise<{ ok: true; timings: Record<string, number> } | { ok: false; reason: string; timings: Record<string, number> }> {
    const deadline = since + this.cfg.confirmTimeoutS * 1000;
    let missing: string[] = [];
    let readyAtMs: number | null = null;
    let managerSaw = 0;
    let nextManagerAsk = 0;
    while (this.now() < deadline) {
      missing = [];
      const rs = this.readRunState();
      const live = rs && rs.version === version && alive(rs.pid);
      if (!live || !rs.ready) {
        missing.push('READY belum / not reached');
        // A crash loop: several processes of this version started and died without READY. Waiting
        // out the deadline would only keep the kiosk from punching longer.
        const starts = startsSince(this.d.config.dataDir, version, since - 1000).filter((s) => !alive(s.pid));
        // The manager's count costs a process (systemctl) on a Pi: asked every few seconds, not every poll.
        if (this.now() >= nextManagerAsk) {
          managerSaw = (await this.d.supervisor.crashesSinceRestart?.()) ?? managerSaw;
          nextManagerAsk = this.now() + MANAGER_ASK_MS;
        }
        const crashes = Math.max(starts.length, managerSaw);
        if (crashes >= CRASH_LOOP_STARTS) {
          return { ok: false, reason: `kiosk ${version} mati saat mulai / crashed at start ${crashes} times without READY`, timings: { confirmS: (this.now() - since) / 1000 } };
        }
      }
      else {
        readyAtMs ??= Date.parse(rs.readyAt ?? rs.at);
        if (!rs.mqttConnected) missing.push('MQTT tidak terhubung / not connected');
        if (!rs.rosterLoaded) missing.push('daftar pegawai belum dimuat / roster not loaded');
      }
      if (missing.length === 0) {
        const integrity = this.journalIntegrity();
        if (integrity !== 'ok') missing.push(`integritas jurnal / journal integrity: ${integrity}`);
      }
      if (missing.length === 0 && hubAck) {
        const seen = await this.ask().then((a) => a.seen).catch(() => null);
        if (!seen || seen.version !== version || !seen.online) missing.push(`hub belum melihat / hub has not seen ${version} online (sees ${seen ? `${seen.version} ${seen.online ? 'online' : 'offline'}` : 'nothing'})`);
      }
      if (missing.length === 0) {
        return { ok: true, timings: { restartGapS: ((readyAtMs ?? this.now()) - since) / 1000, confirmS: (this.now() - since) / 1000 } };
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    const rs = this.readRunState();
    const crashed = !rs || rs.version !== version || !alive(rs.pid) ? ` (tidak ada proses kiosk ${version} yang siap / no kiosk process of ${version} came up: it crashed or is still starting)` : '';
    return { ok: false, reason: `tidak sehat dalam / not healthy within ${this.cfg.confirmTimeoutS} s: ${missing.join('; ')}${crashed}`, timings: { confirmS: (this.now() - since) / 1000 } };
  }

  private readRunState(): RunState | null {
    try {
      return JSON.parse(readFileSync(runStatePath(this.d.config.dataDir), 'utf8')) as RunState;
    } catch {
      return null;
    }
  }

  /** The version the running kiosk reports (run-state.json of a live process). */
  runningVersion(): string | null {
    const rs = this.readRunState();
    return rs && alive(rs.pid) ? rs.version : null;
  }

  private journalIntegrity(): string {
    const p = join(this.d.config.dataDir, 'journal.db');
    if (!existsSync(p)) return 'journal.db missing';
    let j: Journal | null = null;
    try {
      j = Journal.openReadonly(this.d.config.dataDir);
      return (j.db.pragma('quick_check', { simple: true }) as string) ?? 'no answer';
    } catch (e) {
      return (e as Error).message;
    } finally {
      j?.close();
    }
  }

  /**
   * After confirmation only: the new release migrates the journal forward, as the kiosk's user so
   * the journal's files stay the kiosk's. The child is given that uid/gid directly (setgroups,
   * setgid, setuid between fork and exec): `runuser` was refused ("cannot set user id") under the
   * updater unit's sandbox on the arm64 VM, and needs a PAM session for a one-shot command anyway.
   */
  private async migrateJournal(): Promise<number | null> {
    const cli = [join(this.dirs.currentLink, 'bin/hadir.mjs'), 'kiosk', 'journal', '--migrate', '--config', this.d.configPath];
    let as: { uid: number; gid: number } | undefined;
    if (this.cfg.kioskUser && process.getuid?.() === 0) {
      const u = systemUser(this.cfg.kioskUser);
      if (!u) {
        this.d.log.error({ user: this.cfg.kioskUser }, 'journal migration skipped: no such user (update.kioskUser); the kiosk keeps working on the old schema');
        return null;
      }
      as = u;
    }
    try {
      const { stdout } = await promisify(execFile)(process.execPath, cli, { timeout: 120_000, ...as, env: { ...process.env, HADIR_LOG_LEVEL: 'warn' } });
      return (JSON.parse(stdout.trim().split('\n').pop()!) as { schemaVersion: number }).schemaVersion;
    } catch (e) {
      this.d.log.error({ err: (e as Error).message }, 'journal migration failed (the journal is unchanged; the kiosk keeps working on the old schema)');
      return null;
    }
  }

  /**
   * At start: finish or undo what a power cut interrupted. `switching`/`confirming` with `current`
   * on the new release → confirm again (fresh deadline) and roll back if it is not healthy;
   * `current` still on the old one → nothing changed, retry later; `rollingback` → roll back again.
   */
  async recover(): Promise<TickResult | null> {
    this.dirs.cleanStaging();
    const s = this.state();
    if (s.phase === 'idle' || !s.to) return null;
    this.log({ phase: s.phase, to: s.to, from: s.from }, 'resuming an interrupted update');
    if (s.phase === 'rollingback') return this.rollback(s, this.state().bad[s.to] ?? 'interrupted before it was confirmed healthy');
    if (this.dirs.current() === s.to) {
      this.save({ ...s, phase: 'confirming' });
      return this.restartAndConfirm({ ...s, phase: 'confirming' });
    }
    this.save({ phase: 'idle', bad: s.bad, previous: s.previous });
    return null;
  }
}

