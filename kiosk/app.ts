import { EventEmitter } from 'node:events';
import type { KeyObject } from 'node:crypto';
import { KIOSK_API, kioskStateReplySchema, loadPrivateKey, type ComponentState, type Health } from '../protocol/index.js';
import { UserError } from '../lib/errors.js';
import { childLogger, type Logger } from '../lib/logger.js';
import { iso, systemClock, type Clock } from '../lib/clock.js';
import type { KioskConfig } from './config.js';
import type { HealthRegistry, KioskBus, KioskContext, KioskEvents, KioskExtension } from './extension-api.js';
import { extensionFactories } from './extension-list.js';
import type { ClockService, Feedback, FeedbackEvent, HealthReporter, Identification, IdentificationSource } from './types.js';
import { InstanceLock } from './instance-lock.js';
import { Journal } from './journal.js';
import { MqttLink } from './link.js';
import { Publisher } from './publisher.js';
import { RosterStore } from './roster.js';
import { HubClient } from './hub-client.js';
import { SystemClock, monotonicMs, readBootId } from './core-clock.js';
import { withinDedupWindow } from './dedup.js';
import { buildPunch } from './punch.js';
import { ScreenServer } from './screen/server.js';
import { APP_VERSION } from '../lib/version.js';

export { APP_VERSION };

export interface KioskAppOptions {
  simulate?: boolean;
  /** Feature factories to start after the core (default: kiosk/extension-list.ts). Tests pass []. */
  extensions?: ((ctx: KioskContext) => KioskExtension)[];
  /** Serve the local screen page (default true). */
  screen?: boolean;
  log?: Logger;
  /** Publisher tuning (tests). */
  publisher?: { window?: number; ackTimeoutMs?: number };
  /** How long start-up waits for the hub's answer when basing an empty journal (default 5 s). */
  baseTimeoutMs?: number;
  /** The wall clock for everything the kiosk stamps (default: the system clock). */
  now?: Clock;
}

/** Outcome of one identification, for tests and the simulator's summary. */
export type IdentifyOutcome = { kind: 'recorded'; seq: number; id: string } | { kind: 'already'; firstAt: string } | { kind: 'fault'; detail: string };

class Registry implements HealthRegistry {
  private readonly reporters = new Map<string, HealthReporter>();
  register(reporter: HealthReporter): void {
    this.reporters.set(reporter.component, reporter);
  }
  components(): Record<string, ComponentState> {
    const out: Record<string, ComponentState> = {};
    for (const [name, r] of this.reporters) {
      try {
        out[name] = r.state();
      } catch (e) {
        out[name] = { state: 'fault', detail: `state failed: ${(e as Error).message}`.slice(0, 300) };
      }
    }
    return out;
  }
}

/** How long punches refused by the hub keep the journal component degraded. */
const REJECTED_RECENT_MS = 7 * 86_400_000;

/**
 * The kiosk: builds the KioskContext, starts the core (journal, MQTT link, publisher, roster,
 * screen), then the feature extensions in order; identification sources registered by them are
 * started last. Every identification goes dedup → punch → journal commit → only then "recorded".
 * stop() runs everything in reverse.
 */
export class KioskApp {
  readonly bus: KioskBus = new EventEmitter<KioskEvents>() as KioskBus;
  readonly log: Logger;
  readonly journal: Journal;
  readonly link: MqttLink;
  readonly roster: RosterStore;
  /** HTTP to the hub with this device's credentials. */
  readonly hub: HubClient;
  readonly publisher: Publisher;
  readonly health = new Registry();
  readonly ctx: KioskContext;
  screen: ScreenServer | null = null;
  /** The wall clock (lib/clock.ts); the trusted ClockService below stamps punches from it. */
  readonly now: Clock;
  private clock: ClockService;
  private readonly key: KeyObject;
  private readonly sources: IdentificationSource[] = [];
  private readonly startedSources = new Set<IdentificationSource>();
  private readonly feedbacks: Feedback[] = [];
  private readonly extensions: KioskExtension[] = [];
  private running = false;
  private pruneTimer: NodeJS.Timeout | null = null;
  private readonly bootId = readBootId();

  constructor(readonly config: KioskConfig, readonly opts: KioskAppOptions = {}) {
    this.log = opts.log ?? childLogger('kiosk');
    this.now = opts.now ?? systemClock;
    this.clock = new SystemClock(this.now);
    this.bus.setMaxListeners(50);
    try {
      this.key = loadPrivateKey(config.privateKeyPem);
    } catch (e) {
      throw new UserError(`privateKeyPem in the kiosk config is not a usable key: ${(e as Error).message}`, 're-enrol the kiosk with `hadir kiosk enroll`');
    }
    try {
      this.journal = Journal.open(config.dataDir);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? '';
      if (['EACCES', 'EPERM', 'EROFS', 'SQLITE_CANTOPEN', 'SQLITE_READONLY'].includes(code)) {
        throw new UserError(`cannot write the kiosk journal in ${config.dataDir} (${code})`, 'set "dataDir" in the kiosk config to a writable directory or run as the hadir user');
      }
      throw e;
    }
    this.link = new MqttLink({
      deviceId: config.deviceId,
      url: config.mqtt.url,
      username: config.mqtt.username,
      password: config.mqtt.password,
      prefix: config.mqtt.prefix,
      appVersion: APP_VERSION,
      bootId: this.bootId,
      log: this.log.child({ part: 'mqtt' }),
      bus: this.bus,
      now: this.now,
    });
    this.hub = HubClient.forConfig(config);
    this.roster = new RosterStore({
      dataDir: config.dataDir,
      hub: this.hub,
      now: this.now,
      bus: this.bus,
      log: this.log.child({ part: 'roster' }),
    });
    this.publisher = new Publisher({ journal: this.journal, link: this.link, bus: this.bus, log: this.log.child({ part: 'publisher' }), now: this.now, ...opts.publisher });

    const app = this;
    this.ctx = {
      deviceId: config.deviceId,
      dataDir: config.dataDir,
      config,
      simulate: !!opts.simulate,
      log: this.log,
      bus: this.bus,
      link: this.link,
      hub: this.hub,
      now: this.now,
      roster: this.roster,
      get clock() {
        return app.clock;
      },
      health: this.health,
      journalStats: () => this.journal.stats(),
      addSource: (s) => this.addSource(s),
      addFeedback: (f) => this.feedbacks.push(f),
      setClock: (c) => {
        this.clock = c;
        this.health.register(c);
      },
      baseHealth: () => this.baseHealth(),
    };
    this.health.register(this.link);
    this.health.register(this.roster);
    this.health.register(this.clock);
    this.health.register({ component: 'journal', state: () => this.journalState() });
    this.health.register({
      component: 'publisher',
      state: () => {
        const c = this.publisher.counters;
        return { state: 'ok', detail: `${this.publisher.inFlightCount} menunggu ack / awaiting ack; sent ${c.sent}, resent ${c.resent}, acked ${c.acked}, rejected ${c.rejected}` };
      },
    });
    // Every feedback (ours, or a source's "unknown"/"fault" on the bus) reaches every output.
    this.bus.on('feedback', (ev) => {
      for (const f of this.feedbacks) {
        Promise.resolve()
          .then(() => f.notify(ev))
          .catch((e: Error) => this.log.warn({ err: e.message }, 'feedback output failed'));
      }
    });
  }

  async start(): Promise<void> {
    this.lock = await InstanceLock.acquire(this.config.dataDir);
    try {
      await this.startCore();
    } catch (e) {
      // Whatever started (MQTT reconnects, timers) must not keep a failed process alive.
      await this.stop().catch(() => {});
      throw e;
    }
  }

  private async startCore(): Promise<void> {
    const { config } = this;
    this.pruneJournal();
    this.pruneTimer = setInterval(() => this.pruneJournal(), 6 * 3600_000);
    this.pruneTimer.unref();
    await this.roster.load();
    // Asked alongside the roster; settled (answer, error or timeout) before any source can punch.
    const based = this.baseJournal().catch((e: Error) => this.log.error({ err: e.message }, 'journal base failed; starting after the journal head'));
    this.link.on('config', (p) => this.roster.onConfig(p));
    this.link.start();
    this.publisher.start();
    // The snapshot serves punches while the hub is away; don't hold start-up hostage to it.
    const first = this.roster.refresh();
    if (!this.roster.current()) await Promise.race([first, new Promise((r) => setTimeout(r, 5000).unref())]);
    await based;
    if (this.opts.screen !== false) {
      this.screen = new ScreenServer({
        host: config.screen.host,
        port: config.screen.port,
        timeZone: config.timeZone,
        bus: this.bus,
        now: this.now,
        // the preview shows what the face loop sees; without a face camera there is nothing to show
        ...(config.face.enabled && config.screen.previewFps > 0 ? { preview: { fps: config.screen.previewFps, width: config.screen.previewWidth } } : {}),
        status: () => ({
          siteName: this.roster.current()?.site.name ?? config.siteCode,
          deviceId: config.deviceId,
          connected: this.link.connected,
          backlog: this.journal.stats().undelivered,
          // mqtt has its own indicator; the rest in fault is worth a technician's glance.
          faults: Object.entries(this.health.components())
            .filter(([name, c]) => c.state === 'fault' && name !== 'mqtt')
            .map(([name]) => name),
        }),
        log: this.log.child({ part: 'screen' }),
      });
      await this.screen.start();
      this.feedbacks.push(this.screen);
    }
    for (const factory of this.opts.extensions ?? extensionFactories) {
      let ext: KioskExtension | null = null;
      try {
        ext = factory(this.ctx);
        await ext.start();
        this.extensions.push(ext);
      } catch (e) {
        // One broken feature (camera, sensor) must not take the punch path down with it.
        const name = ext?.name ?? (factory.name.replace(/^create|Extension$/g, '').toLowerCase() || 'extension');
        this.log.error({ extension: name, err: (e as Error).message }, 'extension failed to start');
        this.health.register({ component: name, state: () => ({ state: 'fault', detail: (e as Error).message.slice(0, 300) }) });
        this.bus.emit('feedback', { kind: 'fault', component: name, detail: (e as Error).message.slice(0, 200) });
      }
    }
    this.running = true;
    for (const s of this.sources) await this.startSource(s);
    this.log.info({ deviceId: config.deviceId, lastSeq: this.journal.stats().lastSeq }, 'kiosk started');
  }

  /**
   * A journal with no punches that was never based (new kiosk, or a technician deleted/replaced the
   * journal but kept the config) asks the hub which seq it already stored for this device and
   * continues after it, so new punches do not collide with stored ones (`seq_conflict`). If the hub
   * does not answer within the timeout the kiosk starts at seq 1 as before — punching is never
   * blocked — and the hub keeps any conflicting punches for `hadir device recover`.
   */
  private async baseJournal(): Promise<void> {
    if (!this.journal.needsBase()) return;
    const { config } = this;
    let maxSeq: number;
    try {
      const state = await this.hub.get(KIOSK_API.state, kioskStateReplySchema, { timeoutMs: this.opts.baseTimeoutMs ?? 5000 });
      if (state.deviceId !== config.deviceId) throw new Error(`the hub answered for device ${JSON.stringify(state.deviceId)}, not ${config.deviceId}`);
      maxSeq = state.maxSeq;
    } catch (e) {
      this.log.warn(
        { err: (e as Error).message },
        'jurnal kosong, hub tidak terjangkau: mulai dari seq 1; hub bisa menolak punch sebagai seq_conflict (pulihkan dengan `hadir device recover`) / empty journal, hub unreachable: starting at seq 1; the hub may refuse punches as seq_conflict (recover them with `hadir device recover`)',
      );
      return;
    }
    if (!this.journal.setBase(maxSeq)) return;
    if (maxSeq > 0) {
      this.log.warn({ baseSeq: maxSeq }, `jurnal kosong: melanjutkan setelah seq ${maxSeq} yang sudah tersimpan di hub / empty journal: continuing after seq ${maxSeq} already stored at the hub`);
    } else {
      this.log.info('jurnal baru: hub belum punya punch perangkat ini, mulai dari seq 1 / new journal: the hub has no punches of this device, starting at seq 1');
    }
  }

  /** One kiosk process per data dir (see InstanceLock: released by the kernel when we die). */
  private lock: InstanceLock | null = null;

  addSource(source: IdentificationSource): void {
    this.sources.push(source);
    this.health.register(source);
    if (this.running) void this.startSource(source);
  }

  private async startSource(s: IdentificationSource): Promise<void> {
    if (this.startedSources.has(s)) return;
    this.startedSources.add(s);
    try {
      await s.start((idn) => {
        this.identify(idn);
      });
    } catch (e) {
      this.log.error({ source: s.component, err: (e as Error).message }, 'identification source failed to start');
      this.bus.emit('feedback', { kind: 'fault', component: s.component, detail: (e as Error).message.slice(0, 200) });
    }
  }

  /**
   * One identification through the real path: dedup (judged from the journal) → punch (next seq,
   * prevHash, signature) → journal commit → feedback "recorded" and `punch:journaled`. All of it
   * inside one synchronous SQLite transaction, so concurrent identifications can never share a seq.
   */
  identify(idn: Identification): IdentifyOutcome {
    this.bus.emit('identified', idn);
    const name = this.roster.byNip(idn.nip)?.name ?? idn.nip;
    const stamp = this.clock.stamp();
    const windowMin = this.config.dedupWindowMin;
    let result;
    try {
      result = this.journal.append(
        idn.nip,
        (last) => (last && withinDedupWindow(last, stamp.capturedAt, windowMin) ? { already: last } : null),
        (head) => buildPunch({ deviceId: this.config.deviceId, head, stamp, identification: idn }, this.key),
        iso(this.now),
      );
    } catch (e) {
      const detail = (e as Error).message;
      this.log.error({ err: detail, nip: idn.nip }, 'journal append failed — punch NOT recorded');
      this.bus.emit('feedback', { kind: 'fault', component: 'journal', detail: 'penyimpanan gagal / storage failed' });
      this.journalError = detail;
      return { kind: 'fault', detail };
    }
    this.journalError = null;
    if (result.kind === 'already') {
      this.bus.emit('feedback', { kind: 'already', nip: idn.nip, name, at: stamp.capturedAt, firstAt: result.firstAt });
      return { kind: 'already', firstAt: result.firstAt };
    }
    const p = result.punch;
    this.bus.emit('feedback', { kind: 'recorded', nip: p.nip, name, at: p.capturedAt, method: p.method, ...(idn.photo ? { photo: idn.photo } : {}), ...(p.clock.synced ? {} : { unverified: true }) });
    this.bus.emit('punch:journaled', { id: p.id, seq: p.seq, nip: p.nip, capturedAt: p.capturedAt });
    return { kind: 'recorded', seq: p.seq, id: p.id };
  }
  private journalError: string | null = null;

  /** False while punches cannot be journaled (the systemd watchdog is then withheld). */
  healthy(): boolean {
    return this.journalError === null && this.journal.db.open;
  }

  private journalState(): ComponentState {
    if (this.journalError) return { state: 'fault', detail: this.journalError.slice(0, 300) };
    const s = this.journal.stats();
    // Degraded while refusals are recent: a technician looks, an admin recovers them at the hub
    // (hadir device recover); after a week the state clears, the refused punches stay listed.
    const recent = s.rejected ? this.journal.rejectedSince(new Date(this.now() - REJECTED_RECENT_MS).toISOString()) : 0;
    return { state: recent > 0 ? 'degraded' : 'ok', detail: `${s.undelivered} belum terkirim, ${s.rejected} ditolak hub (${recent} minggu ini / this week), seq ${s.lastSeq}` };
  }

  private pruneJournal(): void {
    const before = new Date(this.now() - this.config.retentionDays * 86_400_000).toISOString();
    try {
      const n = this.journal.prune(before);
      if (n) this.log.info({ pruned: n, before }, 'journal retention: delivered punches pruned');
    } catch (e) {
      this.log.warn({ err: (e as Error).message }, 'journal prune failed');
    }
  }

  baseHealth(): Pick<Health, 'backlog' | 'components' | 'appVersion' | 'bootId' | 'monoMs' | 'uptimeS' | 'at'> {
    return {
      at: iso(this.now),
      appVersion: APP_VERSION,
      uptimeS: Math.round(process.uptime()),
      bootId: this.bootId,
      monoMs: monotonicMs(),
      backlog: this.journal.stats(),
      components: this.health.components(),
    };
  }

  /** Resolves when every journaled punch is delivered or rejected (simulator runs, tests). */
  async drained(pollMs = 100): Promise<void> {
    while (this.journal.stats().undelivered > 0) await new Promise((r) => setTimeout(r, pollMs));
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.pruneTimer) clearInterval(this.pruneTimer);
    for (const s of [...this.sources].reverse()) await s.stop().catch(() => {});
    for (const ext of this.extensions.splice(0).reverse()) {
      await ext.stop().catch((e: Error) => this.log.warn({ extension: ext.name, err: e.message }, 'extension stop failed'));
    }
    await this.screen?.stop();
    this.publisher.stop();
    await this.link.stop().catch(() => {});
    this.journal.close();
    await this.lock?.release();
    this.lock = null;
    this.log.info('kiosk stopped');
  }
}

