import type { ComponentState } from '../../protocol/index.js';
import type { Logger } from '../../lib/logger.js';
import { systemClock, type Clock } from '../../lib/clock.js';
import type { KioskBus, RosterView } from '../extension-api.js';
import type { HealthReporter, Identification, IdentificationSource } from '../types.js';
import { isCameraError, type Camera } from '../camera/index.js';
import type { FaceConfig } from '../../face/config.js';
import { MatchConfirmer, judgeClaim, judgeMatch, type DecisionConfig, type FrameVerdict } from '../../face/decision.js';
import { decisionFor } from '../../face/engines.js';
import type { DetectedFace, FaceEngine } from '../../face/engine.js';
import { crop, encodeJpeg, type RgbImage } from '../../face/image.js';
import { TemplateIndex } from '../../face/matcher.js';
import { FacePipeline } from '../../face/pipeline.js';
import { QUALITY_MESSAGES } from '../../face/quality.js';

export const FACE_MESSAGES = {
  unknown: { id: 'Wajah tidak dikenali', en: 'Face not recognised' },
  /** Not matched 1:N: the NIP fallback (issue 17). */
  typeNip: { id: 'Wajah tidak dikenali — ketik NIP Anda di layar', en: 'Face not recognised — type your NIP on the screen' },
  oneToOneOnly: { id: 'Ketik NIP Anda di layar, lalu lihat kamera', en: 'Type your NIP on the screen, then look at the camera' },
  claimLook: { id: 'Silakan lihat kamera', en: 'Please look at the camera' },
  claimFailed: { id: 'Wajah tidak cocok dengan NIP', en: 'Face does not match the NIP' },
  spoof: { id: 'Wajah tidak terdeteksi hidup — foto atau layar tidak diterima', en: 'Liveness check failed — photos and screens are not accepted' },
} as const;

/** Why this kiosk verifies 1:1 only (shown in health and on the screen). */
export const ONE_TO_N_OFF: Record<'engine' | 'gallery', { id: string; en: string }> = {
  engine: { id: 'mesin face-api tidak cukup akurat untuk mengenali tanpa NIP (FMR terukur di atas target)', en: 'the face-api engine is not accurate enough to identify without a NIP (measured FMR above target)' },
  gallery: { id: 'terlalu banyak orang di roster untuk pengenalan tanpa NIP', en: 'too many people in the roster to identify without a NIP' },
};

export type ClaimResult = { ok: true; timeoutS: number } | { ok: false; status: 404 | 409 | 503; reason: string };

export interface FaceSourceDeps {
  config: FaceConfig;
  camera: Camera;
  createEngine: () => Promise<FaceEngine>;
  roster: RosterView;
  bus: KioskBus;
  log: Logger;
  /** Claims and cooldowns are timed with it (default: the system clock). */
  now?: Clock;
}

/**
 * The face identification source: camera loop → pipeline → decision (threshold, margin, 2 frames)
 * → liveness → Identification to the core. Reports `face` (engine/roster) and `camera` health; a
 * camera that fails is retried with backoff while the rest of the kiosk keeps serving.
 */
export class FaceSource implements IdentificationSource {
  readonly component = 'face';
  readonly cameraHealth: HealthReporter = { component: 'camera', state: () => this.cameraState };
  engine: FaceEngine | null = null;
  private pipeline: FacePipeline | null = null;
  private index: TemplateIndex | null = null;
  private decision: DecisionConfig | null = null;
  /** A NIP typed on the screen: frames are verified 1:1 against that person until it expires. */
  private claimed: { nip: string; until: number } | null = null;
  private confirmer: MatchConfirmer | null = null;
  private faceState: ComponentState = { state: 'absent', detail: 'belum mulai / not started' };
  private cameraState: ComponentState = { state: 'absent', detail: 'belum mulai / not started' };
  private running = false;
  private loop: Promise<void> | null = null;
  private paused = 0;
  private cameraOpen = false;
  private onIdentified: ((id: Identification) => void | Promise<void>) | null = null;
  private readonly lastSent = new Map<string, number>();
  private readonly lastMessage = new Map<string, number>();
  private unknownRun = 0;
  private liveMin = 1;
  /** Frames analysed and identifications sent (health detail, tests). */
  frames = 0;
  identifications = 0;
  private readonly onRoster = () => this.rebuildIndex();
  private wake: (() => void) | null = null;
  private frameError: string | null = null;
  /** Settles when the frame in progress is done (enrolment waits for it before taking the camera). */
  private frameDone: Promise<void> = Promise.resolve();

  /** A pause that stop() cuts short (a camera backoff can be 30 s). */
  private sleep(ms: number): Promise<void> {
    return new Promise<void>((r) => {
      const t = setTimeout(() => ((this.wake = null), r()), ms);
      this.wake = () => (clearTimeout(t), (this.wake = null), r());
    });
  }

  private readonly now: Clock;

  constructor(private readonly d: FaceSourceDeps) {
    this.now = d.now ?? systemClock;
  }

  state(): ComponentState {
    if (this.frameError && this.faceState.state === 'ok') return { state: 'degraded', detail: `frame error: ${this.frameError}`.slice(0, 300) };
    return this.faceState;
  }

  async start(onIdentified: (id: Identification) => void | Promise<void>): Promise<void> {
    this.onIdentified = onIdentified;
    try {
      this.engine = await this.d.createEngine();
    } catch (e) {
      this.faceState = { state: 'fault', detail: `mesin wajah gagal dimuat / face engine failed: ${(e as Error).message}`.slice(0, 300) };
      throw e;
    }
    this.pipeline = new FacePipeline(this.engine, this.d.config);
    this.rebuildIndex();
    this.d.bus.on('roster:updated', this.onRoster);
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.d.bus.off('roster:updated', this.onRoster);
    this.wake?.();
    await this.loop;
    this.loop = null;
    if (this.cameraOpen) await this.d.camera.close().catch(() => {});
    this.cameraOpen = false;
    await this.engine?.close();
    this.engine = null;
  }

  /** Templates of this engine's model from the roster; other models' templates are ignored (and reported). */
  rebuildIndex(): void {
    if (!this.engine) return;
    const people = this.d.roster.current()?.people ?? [];
    this.index = TemplateIndex.fromRoster(people, this.engine.modelId, this.engine.dims, this.d.config.match.template);
    // the 1:N threshold depends on how many people the kiosk tells apart (config.ts "Decision settings")
    this.decision = decisionFor(this.engine, this.d.config, this.index.people);
    this.confirmer = new MatchConfirmer(this.decision);
    const off = this.decision.oneToNOff;
    const templates = people.reduce((n, p) => n + (p.face ?? []).filter((t) => t.modelId === this.engine!.modelId).length, 0);
    const other = people.filter((p) => p.face?.length && !p.face.some((t) => t.modelId === this.engine!.modelId)).length;
    const detail =
      this.index.size === 0 && other === 0
        ? `${this.engine.name} ${this.engine.modelId}: belum ada templat wajah / no face templates yet (hadir enroll face)`
        : `${this.engine.name} ${this.engine.modelId}: ${this.index.people} orang / ${templates} templat, 1:N ${off ? `OFF — NIP 1:1 saja / NIP 1:1 only: ${ONE_TO_N_OFF[off].id} / ${ONE_TO_N_OFF[off].en}` : `ambang / threshold ${this.decision.threshold.toFixed(3)}`}${other ? `; ${other} orang hanya punya templat model lain / only other-model templates — jalankan \`hadir enroll face --recompute\` di hub` : ''}`;
    this.faceState = { state: other > 0 || this.index.size === 0 ? 'degraded' : 'ok', detail: detail.slice(0, 300) };
    this.d.log.info({ people: this.index.people, templates: this.index.size, otherModel: other }, 'face templates loaded');
  }

  /**
   * The NIP fallback (issue 17): a NIP typed on the screen makes the next frames verify 1:1 against
   * that person at the stricter verify threshold, for claimTimeoutS. Used when 1:N is off (large
   * roster, face-api engine) or when the person was not recognised.
   */
  claim(nip: string, now = this.now()): ClaimResult {
    if (!this.engine || !this.index) return { ok: false, status: 503, reason: 'pengenalan wajah tidak aktif / face recognition is not running' };
    if (!this.d.roster.byNip(nip)) return { ok: false, status: 404, reason: `NIP ${nip} tidak terdaftar di kiosk ini / not in this kiosk's roster` };
    if (!this.index.has(nip)) return { ok: false, status: 409, reason: `NIP ${nip} belum punya templat wajah / has no face enrolment (${this.engine.name}) — gunakan sidik jari / use the fingerprint` };
    this.claimed = { nip, until: now + this.d.config.match.claimTimeoutS * 1000 };
    this.confirmer?.reset();
    this.d.bus.emit('feedback', { kind: 'hint', message: `${FACE_MESSAGES.claimLook.id} / ${FACE_MESSAGES.claimLook.en} (NIP ${nip})` });
    return { ok: true, timeoutS: this.d.config.match.claimTimeoutS };
  }

  /** The NIP typed on the screen that is waiting for a face, if any. */
  get pendingClaim(): string | null {
    return this.claimed && this.claimed.until > this.now() ? this.claimed.nip : null;
  }

  /** Runs `fn` with the camera to itself (enrolment); the recognition loop waits meanwhile. */
  async exclusive<T>(fn: (camera: Camera, pipeline: FacePipeline) => Promise<T>): Promise<T> {
    if (!this.pipeline) throw new Error('face engine not running');
    this.paused++;
    try {
      await this.frameDone;
      await this.ensureCamera();
      return await fn(this.d.camera, this.pipeline);
    } finally {
      this.paused--;
    }
  }

  private async ensureCamera(): Promise<void> {
    if (this.cameraOpen) return;
    await this.d.camera.open();
    this.cameraOpen = true;
    this.cameraState = { state: 'ok', detail: this.d.camera.describe };
  }

  /** A verdict (not recognised, not live) beeps as a failure; a quality problem is guidance (hint). */
  private message(key: string, text: string, verdict = false): void {
    const now = this.now();
    if (now - (this.lastMessage.get(key) ?? 0) < this.d.config.messageIntervalMs) return;
    this.lastMessage.set(key, now);
    this.d.bus.emit('feedback', verdict ? { kind: 'unknown', reason: text } : { kind: 'hint', message: text });
  }

  private backoff = 1000;

  private async run(): Promise<void> {
    while (this.running) {
      if (this.paused) {
        await this.sleep(50);
        continue;
      }
      let endFrame!: () => void;
      this.frameDone = new Promise<void>((r) => (endFrame = r));
      let pause: number;
      try {
        pause = await this.oneFrame();
      } finally {
        endFrame();
      }
      if (pause) await this.sleep(pause);
    }
  }

  /** Captures and processes one frame; returns how long to pause before the next (camera backoff). */
  private async oneFrame(): Promise<number> {
    let frame: RgbImage;
    try {
      await this.ensureCamera();
      frame = await this.d.camera.capture();
      this.backoff = 1000;
      this.cameraState = { state: 'ok', detail: this.d.camera.describe };
    } catch (e) {
      const msg = (e as Error).message;
      const permanent = isCameraError(e) && e.permanent;
      this.cameraState = { state: 'fault', detail: `kamera / camera: ${msg}`.slice(0, 300) };
      this.d.log.warn({ err: msg, permanent }, 'camera failed; fingerprint punches continue');
      if (this.cameraOpen) await this.d.camera.close().catch(() => {});
      this.cameraOpen = false;
      this.confirmer?.reset();
      const pause = permanent ? 30_000 : this.backoff;
      this.backoff = Math.min(this.backoff * 2, 30_000);
      return pause;
    }
    try {
      await this.processFrame(frame);
      this.frameError = null;
    } catch (e) {
      this.d.log.error({ err: (e as Error).message }, 'face frame failed');
      this.frameError = (e as Error).message;
    }
    return this.d.config.loopIntervalMs;
  }

  /** One frame through pipeline and decision; sends an Identification when confirmed and live. */
  async processFrame(frame: RgbImage): Promise<void> {
    const cfg = this.d.config;
    const confirmer = this.confirmer!;
    this.frames++;
    // a typed NIP that no face confirmed in time is answered, whatever the frames showed
    const claim = this.claimed && this.claimed.until > this.now() ? this.claimed : null;
    if (this.claimed && !claim) {
      this.claimed = null;
      confirmer.reset();
      this.message('claim', `${FACE_MESSAGES.claimFailed.id} / ${FACE_MESSAGES.claimFailed.en}`, true);
    }
    const a = await this.pipeline!.analyse(frame, { index: this.index ?? undefined });
    if (this.d.bus.listenerCount('face:frame') > 0) {
      this.d.bus.emit('face:frame', { frame, box: a.face ? (a.face.box.slice(0, 4) as [number, number, number, number]) : null, hint: a.quality });
    }
    if (!a.face) {
      confirmer.reset();
      this.unknownRun = 0;
      this.liveMin = 1;
      return;
    }
    if (a.quality) {
      confirmer.reset();
      this.liveMin = 1;
      this.message(a.quality, `${QUALITY_MESSAGES[a.quality].id} / ${QUALITY_MESSAGES[a.quality].en}`);
      return;
    }
    let verdict: FrameVerdict;
    if (claim) verdict = judgeClaim(claim.nip, a.vector ? this.index!.score(claim.nip, a.vector) : null, this.decision!);
    else if (this.decision!.oneToNOff) {
      confirmer.reset();
      const why = ONE_TO_N_OFF[this.decision!.oneToNOff];
      this.message('nip', `${FACE_MESSAGES.oneToOneOnly.id} (${why.id}) / ${FACE_MESSAGES.oneToOneOnly.en} (${why.en})`);
      return;
    } else verdict = judgeMatch(a.match ?? null, this.decision!);
    if (!verdict.accepted) {
      confirmer.reset();
      this.liveMin = 1;
      if (!claim && ++this.unknownRun >= cfg.match.confirmFrames + 1) this.message('unknown', `${FACE_MESSAGES.typeNip.id} / ${FACE_MESSAGES.typeNip.en}`, true);
      return;
    }
    this.unknownRun = 0;
    const last = this.lastSent.get(verdict.nip);
    if (last !== undefined && this.now() - last < cfg.cooldownMs) {
      confirmer.reset();
      if (claim) this.claimed = null; // just recorded: the typed NIP is answered, not left to expire as "no match"
      return;
    }
    let live: number | null = null;
    if (cfg.liveness.enabled && this.engine!.hasLiveness) {
      live = await this.engine!.liveness(frame, a.face);
      if (live !== null && live < cfg.liveness.threshold) {
        confirmer.reset();
        this.liveMin = 1;
        this.d.log.warn({ nip: verdict.nip, liveness: live }, 'face matched but failed liveness');
        this.message('spoof', FACE_MESSAGES.spoof.id, true);
        return;
      }
      if (live !== null) this.liveMin = Math.min(this.liveMin, live);
    }
    const r = confirmer.step(verdict);
    if (!r.confirmed) return;
    if (claim) this.claimed = null;
    const liveness = live === null ? undefined : this.liveMin;
    this.liveMin = 1;
    this.lastSent.set(r.nip, this.now());
    const photo = await facePhoto(frame, a.face, cfg.photo.size, cfg.photo.quality);
    this.identifications++;
    this.d.log.info({ nip: r.nip, score: +r.score.toFixed(3), liveness, runnerUp: a.match?.runnerUp, mode: claim ? 'nip-1:1' : '1:N' }, 'face identified');
    await this.onIdentified?.({ nip: r.nip, method: 'face', score: +r.score.toFixed(4), ...(liveness !== undefined ? { liveness: +liveness.toFixed(4) } : {}), photo });
  }

}

/** The evidence photo: the face box widened by 40 %, JPEG, longer side ≤ size. */
export async function facePhoto(frame: RgbImage, face: DetectedFace, size: number, quality: number): Promise<Buffer> {
  const [x, y, w, h] = face.box;
  const m = 0.2;
  return encodeJpeg(crop(frame, x - w * m, y - h * m, w * (1 + 2 * m), h * (1 + 2 * m)), quality, size);
}
