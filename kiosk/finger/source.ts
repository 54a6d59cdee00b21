import type { ComponentState } from '../../protocol/index.js';
import type { Logger } from '../../lib/logger.js';
import { systemClock, type Clock } from '../../lib/clock.js';
import type { KioskBus, RosterView } from '../extension-api.js';
import type { Identification, IdentificationSource } from '../types.js';
import type { FingerConfig } from './config.js';
import { FingerSensor, type SerialLike } from './driver.js';
import { isConfirmation, isLinkError } from './errors.js';
import { LibraryMapStore, syncLibrary, wantedFromRoster, type SyncResult } from './sync.js';

export interface EnrolRequest {
  requestId: string;
  nip: string;
  finger: number;
}

export interface FingerSourceOptions {
  config: FingerConfig;
  /** Opens the serial line to the module (real device, pty end, or binding-mock). */
  open: () => Promise<SerialLike>;
  roster: RosterView;
  bus: KioskBus;
  log: Logger;
  dataDir: string;
  /** Sends an enrolled template to the hub. */
  upload: (t: { nip: string; finger: number; template: string }) => Promise<void>;
  /** Library verification and enrolment deadlines are timed with it (default: the system clock). */
  now?: Clock;
}

const NOT_RECOGNISED = 'Sidik jari tidak dikenali / Fingerprint not recognised';
const POOR_IMAGE = 'Sidik jari kurang jelas, ulangi / Unclear fingerprint, try again';

/**
 * The fingerprint module as an identification source: keeps the line up (reconnect with back-off,
 * a fault in health meanwhile), keeps the library in sync with the roster, polls the glass
 * (GenImg → Img2Tz → Search) and runs enrolments asked for over the bus. It never throws into the
 * core: a broken sensor leaves the face path untouched.
 */
export class FingerSource implements IdentificationSource {
  readonly component = 'finger';
  private sensor: FingerSensor | null = null;
  private status: ComponentState = { state: 'absent', detail: 'menghubungkan / connecting' };
  private capacity = 0;
  private syncWanted = true;
  private readonly enrolQueue: EnrolRequest[] = [];
  private loop: Promise<void> | null = null;
  private stopped = false;
  private wake: (() => void) | null = null;
  private fingerDown = false;
  /** Handshake done: a confirmation code from now on is an answer, not a failed connection. */
  private ready = false;
  /** Last loop step ended in a confirmation error (health shows it until a step succeeds). */
  private refused = false;
  private lastSyncAt = 0;
  private faulted = false;
  private readonly mapStore: LibraryMapStore;
  lastSync: SyncResult | null = null;
  /** Resolves after the next completed sync (tests, diagnostics). */
  private syncWaiters: ((r: SyncResult) => void)[] = [];

  private readonly now: Clock;

  constructor(private readonly o: FingerSourceOptions) {
    this.now = o.now ?? systemClock;
    this.mapStore = new LibraryMapStore(o.dataDir);
  }

  state(): ComponentState {
    return this.status;
  }

  async start(onIdentified: (id: Identification) => void | Promise<void>): Promise<void> {
    this.stopped = false;
    this.loop = this.run(onIdentified);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
    await this.dropSensor();
  }

  /** The roster changed: bring the library up to date at the next opportunity. */
  requestSync(): void {
    this.syncWanted = true;
    this.wake?.();
  }

  nextSync(): Promise<SyncResult> {
    return new Promise((r) => this.syncWaiters.push(r));
  }

  enrol(req: EnrolRequest): void {
    this.enrolQueue.push(req);
    this.wake?.();
  }

  private async run(onIdentified: (id: Identification) => void | Promise<void>): Promise<void> {
    const { config } = this.o;
    let backoff = config.backoffMs;
    while (!this.stopped) {
      try {
        if (!this.sensor) await this.connect();
        if (this.syncWanted || this.now() - this.lastSyncAt > config.verifyIntervalS * 1000) await this.sync();
        backoff = config.backoffMs;
        const req = this.enrolQueue.shift();
        if (req) await this.runEnrol(req);
        else await this.scanOnce(onIdentified);
        if (this.refused) {
          this.refused = false;
          this.setOk();
        }
      } catch (e) {
        if (this.stopped) break;
        if (isConfirmation(e) && this.ready) {
          // The module answered, just not with success (e.g. IMAGE_FAIL on a smudged glass): the
          // line is fine, so no reconnect; a persistent code shows as degraded.
          this.o.log.warn({ code: e.code }, 'fingerprint sensor refused a command');
          this.status = { state: 'degraded', detail: e.message.slice(0, 300) };
          this.refused = true;
          this.fingerDown = false;
          await this.sleep(config.pollMs);
          continue;
        }
        this.fault(e as Error);
        await this.dropSensor();
        await this.sleep(backoff);
        backoff = Math.min(backoff * 2, config.maxBackoffMs);
      }
    }
  }

  private async connect(): Promise<void> {
    const { config } = this.o;
    const port = await this.o.open();
    const sensor = new FingerSensor(port, { address: config.address, password: config.password, timeoutMs: config.timeoutMs, log: this.o.log });
    this.sensor = sensor;
    await sensor.verifyPassword();
    const params = await sensor.readSysParams();
    this.capacity = Math.min(config.capacity ?? params.librarySize, params.librarySize);
    this.syncWanted = true; // after any (re)connect: it may be another sensor now
    if (config.ledRing) await sensor.auraLed('breathing', 'blue').catch(ignoreConfirmation);
    this.ready = true;
    this.o.log.info({ capacity: this.capacity, packetSize: params.packetSize, securityLevel: params.securityLevel }, 'fingerprint sensor connected');
  }

  private async sync(): Promise<void> {
    this.syncWanted = false;
    const sensor = this.sensor!;
    const wanted = wantedFromRoster(this.o.roster.current()?.people ?? []);
    const r = await syncLibrary(sensor, this.mapStore, wanted, this.capacity);
    this.lastSync = r;
    this.lastSyncAt = this.now();
    if (r.reset) this.o.log.warn('fingerprint library empty on the sensor (new or replaced sensor): full reload');
    if (r.loaded || r.deleted || r.reset) this.o.log.info({ loaded: r.loaded, deleted: r.deleted, kept: r.kept, overflow: r.overflow, failed: r.failed.length }, 'fingerprint library synced');
    this.setOk();
    for (const w of this.syncWaiters.splice(0)) w(r);
  }

  private setOk(): void {
    const r = this.lastSync;
    if (this.faulted) this.o.log.info('fingerprint sensor back to normal');
    this.faulted = false;
    const templates = r ? r.kept + r.loaded : 0;
    if (r && r.overflow > 0)
      this.status = { state: 'degraded', detail: `pustaka sensor penuh: ${r.overflow} templat tidak dimuat (kapasitas ${this.capacity}) / library full: ${r.overflow} templates not loaded` };
    else if (r && r.failed.length > 0)
      this.status = { state: 'degraded', detail: `${r.failed.length} templat ditolak sensor / templates refused: ${r.failed.map((f) => f.key).join(', ')}`.slice(0, 300) };
    else this.status = { state: 'ok', detail: `${templates}/${this.capacity} templat / templates` };
  }

  private fault(e: Error): void {
    const detail = `${(e as { code?: string }).code ?? e.name}: ${e.message}`.slice(0, 300);
    this.status = { state: 'fault', detail };
    if (!this.faulted) {
      this.faulted = true;
      this.o.log.error({ err: e.message, code: (e as { code?: string }).code }, 'fingerprint sensor fault');
      this.o.bus.emit('feedback', { kind: 'fault', component: 'finger', detail: detail.slice(0, 200) });
    }
  }

  private async dropSensor(): Promise<void> {
    const s = this.sensor;
    this.sensor = null;
    this.ready = false;
    this.fingerDown = false;
    await s?.close().catch(() => {});
  }

  private async scanOnce(onIdentified: (id: Identification) => void | Promise<void>): Promise<void> {
    const sensor = this.sensor!;
    const { config } = this.o;
    if (!(await sensor.captureImage())) {
      this.fingerDown = false;
      return this.sleep(config.pollMs);
    }
    if (this.fingerDown) return this.sleep(config.pollMs); // same touch: wait for the finger to lift
    this.fingerDown = true;
    try {
      await sensor.imageToTemplate(1);
    } catch (e) {
      if (!isConfirmation(e)) throw e;
      this.o.bus.emit('feedback', { kind: 'hint', message: POOR_IMAGE });
      return;
    }
    const hit = await sensor.search(1, 0, this.capacity);
    const entry = hit && hit.score >= config.minScore ? this.mapStore.load().pages[hit.pageId] : undefined;
    if (!hit || !entry) {
      if (hit) this.o.log.warn({ page: hit.pageId, score: hit.score }, 'finger matched a page we have no map entry or too low a score for');
      this.o.bus.emit('feedback', { kind: 'unknown', reason: NOT_RECOGNISED });
      if (config.ledRing) await sensor.auraLed('flashing', 'red', 50, 2).catch(ignoreConfirmation);
      return;
    }
    if (config.ledRing) await sensor.auraLed('flashing', 'purple', 50, 2).catch(ignoreConfirmation);
    await onIdentified({ nip: entry.nip, method: 'finger', score: hit.score });
  }

  /** Two captures → RegModel → UpChar → hub. The sensor's own library is filled by the next sync. */
  private async runEnrol(req: EnrolRequest): Promise<void> {
    const sensor = this.sensor!;
    const { bus, config, log } = this.o;
    const deadline = () => this.now() + config.enrolTimeoutS * 1000;
    const result = (ok: boolean, detail: string): void => void bus.emit('enrol:result', { requestId: req.requestId, ok, detail });
    log.info({ nip: req.nip, finger: req.finger }, 'finger enrolment: place the finger');
    try {
      if (config.ledRing) await sensor.auraLed('breathing', 'purple').catch(ignoreConfirmation);
      for (const buffer of [1, 2] as const) {
        if (buffer === 2 && !(await this.waitFinger(false, deadline()))) return result(false, 'jari tidak diangkat / the finger was not lifted between captures');
        if (!(await this.waitFinger(true, deadline()))) return result(false, `tidak ada jari dalam ${config.enrolTimeoutS} detik / no finger within ${config.enrolTimeoutS} s`);
        await sensor.imageToTemplate(buffer);
      }
      await sensor.createModel();
      // One finger, one person: a finger already in this library under another NIP would let one
      // person punch for two (titip absen).
      const dup = await sensor.search(1, 0, this.capacity);
      const owner = dup ? this.mapStore.load().pages[dup.pageId] : undefined;
      if (owner && owner.nip !== req.nip) return result(false, `sidik jari ini sudah terdaftar untuk NIP ${owner.nip} / this finger is already enrolled for another person`);
      const template = await sensor.uploadTemplate(1);
      await this.o.upload({ nip: req.nip, finger: req.finger, template: template.toString('base64') });
      result(true, `sidik jari terdaftar / finger enrolled (${template.length} bytes)`);
    } catch (e) {
      if (isLinkError(e)) {
        result(false, `sensor bermasalah / sensor fault: ${(e as Error).message}`);
        throw e;
      }
      result(false, `pendaftaran gagal / enrolment failed: ${(e as Error).message}`.slice(0, 300));
    } finally {
      this.fingerDown = true; // the enrolling finger may still be on the glass: do not punch it
      if (config.ledRing && this.sensor) await this.sensor.auraLed('breathing', 'blue').catch(() => {});
    }
  }

  private async waitFinger(present: boolean, until: number): Promise<boolean> {
    while (!this.stopped && this.now() < until) {
      if ((await this.sensor!.captureImage()) === present) return true;
      await this.sleep(this.o.config.pollMs);
    }
    return false;
  }

  /** Sleeps without blocking; requestSync/enrol/stop wake it early. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.wake = () => {
        this.wake = null;
        done();
      };
    });
  }
}

function ignoreConfirmation(e: unknown): void {
  if (!isConfirmation(e)) throw e;
}
