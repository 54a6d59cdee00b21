import { KIOSK_API, faceUploadReplySchema, type ComponentState, type FaceUpload } from '../../protocol/index.js';
import type { KioskContext, KioskEvents, KioskExtension } from '../extension-api.js';
import { createCamera, type Camera } from '../camera/index.js';
import { createEngine } from '../../face/engines.js';
import { captureEnrolment, cropsToJpeg } from './enrol-mode.js';
import { FaceSource } from './source.js';

/**
 * The face feature: registers a FaceSource (camera loop → pipeline → decision → liveness) with the
 * core, reports `face` and `camera` health, and serves `enrol:request` with method 'face' (capture
 * quality-gated frames, upload the aligned crops to the hub, answer `enrol:result`).
 * With --simulate the camera is the `dir` driver on `face.camera.dir`.
 */
export class FaceExtension implements KioskExtension {
  readonly name = 'face';
  source: FaceSource | null = null;
  camera: Camera | null = null;
  private enrolling = false;
  private readonly onEnrol = (req: KioskEvents['enrol:request'][0]) => {
    if (req.method === 'face') void this.enrol(req);
  };

  private readonly onClaim = (req: KioskEvents['face:claim'][0]) => {
    req.reply(this.source ? this.source.claim(req.nip) : { ok: false, status: 503, reason: 'pengenalan wajah tidak aktif / face recognition is not running' });
  };

  constructor(private readonly ctx: KioskContext) {}

  async start(): Promise<void> {
    const { ctx } = this;
    const cfg = ctx.config.face;
    if (!cfg.enabled) {
      ctx.health.register({ component: 'face', state: (): ComponentState => ({ state: 'disabled' }) });
      ctx.health.register({ component: 'camera', state: (): ComponentState => ({ state: 'disabled' }) });
      return;
    }
    if (ctx.simulate && !cfg.camera.dir) {
      // --simulate without a folder of images: the simulator makes the identifications and no
      // camera is used, so there is nothing to report as a fault.
      const detail = 'simulasi / --simulate: no face.camera.dir, the simulator identifies';
      ctx.health.register({ component: 'face', state: (): ComponentState => ({ state: 'disabled', detail }) });
      ctx.health.register({ component: 'camera', state: (): ComponentState => ({ state: 'disabled', detail }) });
      ctx.log.info('face: --simulate without face.camera.dir — no camera; the simulator makes the identifications');
      return;
    }
    ctx.bus.on('enrol:request', this.onEnrol);
    ctx.bus.on('face:claim', this.onClaim);
    try {
      this.camera = createCamera(cfg.camera, { simulate: ctx.simulate });
    } catch (e) {
      // A misconfigured camera is a fault in health; fingerprint punches go on.
      const detail = (e as Error).message.slice(0, 300);
      ctx.health.register({ component: 'camera', state: (): ComponentState => ({ state: 'fault', detail }) });
      ctx.health.register({ component: 'face', state: (): ComponentState => ({ state: 'fault', detail: 'tidak ada kamera / no camera' }) });
      ctx.log.error({ err: detail }, 'face: camera not configured');
      return;
    }
    this.source = new FaceSource({
      config: cfg,
      camera: this.camera,
      createEngine: () => createEngine(cfg.engine, cfg),
      roster: ctx.roster,
      bus: ctx.bus,
      log: ctx.log.child({ part: 'face' }),
      now: ctx.now,
    });
    ctx.health.register(this.source.cameraHealth);
    ctx.addSource(this.source);
  }

  async stop(): Promise<void> {
    this.ctx.bus.off('enrol:request', this.onEnrol);
    this.ctx.bus.off('face:claim', this.onClaim);
    await this.source?.stop();
  }

  private async enrol(req: KioskEvents['enrol:request'][0]): Promise<void> {
    const { ctx } = this;
    const result = (ok: boolean, detail: string): void => {
      ctx.bus.emit('enrol:result', { requestId: req.requestId, ok, detail });
    };
    if (!this.source?.engine) return result(false, 'pengenalan wajah tidak aktif / face recognition is not running');
    if (this.enrolling) return result(false, 'pendaftaran lain sedang berjalan / another enrolment is running');
    this.enrolling = true;
    try {
      const cap = await captureEnrolment(this.source, ctx.config.face, ctx.bus, ctx.log, { nip: req.nip, now: ctx.now });
      const crops = await cropsToJpeg(cap.crops);
      const stored = await ctx.hub.post(KIOSK_API.faceEnrol, { nip: req.nip, crops } satisfies FaceUpload, faceUploadReplySchema, { timeoutMs: 30_000 });
      ctx.bus.emit('feedback', { kind: 'hint', message: `Pendaftaran wajah NIP ${req.nip} selesai / face enrolment done` });
      result(true, `${crops.length} gambar wajah terkirim / face crops uploaded; hub: ${JSON.stringify(stored).slice(0, 200)}`);
      await ctx.roster.refresh().catch(() => null);
    } catch (e) {
      ctx.log.warn({ nip: req.nip, err: (e as Error).message }, 'face enrolment failed');
      result(false, (e as Error).message.slice(0, 300));
    } finally {
      this.enrolling = false;
    }
  }
}

export function createFaceExtension(ctx: KioskContext): KioskExtension {
  return new FaceExtension(ctx);
}
