import type { Logger } from '../../lib/logger.js';
import type { KioskBus } from '../extension-api.js';
import type { FaceConfig } from '../../face/config.js';
import { decisionFor } from '../../face/engines.js';
import { dot } from '../../face/engine.js';
import { encodeJpeg, type RgbImage } from '../../face/image.js';
import { QUALITY_MESSAGES } from '../../face/quality.js';
import { FACE_MESSAGES, type FaceSource } from './source.js';
import { systemClock, type Clock } from '../../lib/clock.js';

export interface EnrolCapture {
  crops: RgbImage[];
  vectors: Float32Array[];
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Kiosk enrolment: takes the camera from the recognition loop and collects `cfg.enrol.frames`
 * quality-gated, live frames of one consistent face (every crop must match the others above the
 * operating threshold, so a second person stepping in cannot slip into the template set).
 */
export async function captureEnrolment(source: FaceSource, cfg: FaceConfig, bus: KioskBus, log: Logger, opts: { nip: string; now?: Clock }): Promise<EnrolCapture> {
  const now = opts.now ?? systemClock;
  const deadline = now() + cfg.enrol.timeoutS * 1000;
  const say = (message: string) => bus.emit('feedback', { kind: 'hint', message });
  return source.exclusive(async (camera, pipeline) => {
    const engine = pipeline.engine;
    const threshold = decisionFor(engine, cfg).threshold;
    const crops: RgbImage[] = [];
    const vectors: Float32Array[] = [];
    let lastReason = '';
    say(`Pendaftaran wajah NIP ${opts.nip}: hadapkan wajah ke kamera / face enrolment: look at the camera`);
    while (crops.length < cfg.enrol.frames) {
      if (now() > deadline) throw new Error(`waktu habis: ${crops.length}/${cfg.enrol.frames} gambar baik / timed out with ${crops.length} good frames${lastReason ? ` (last: ${lastReason})` : ''}`);
      const frame = await camera.capture();
      const a = await pipeline.analyse(frame);
      let reason = '';
      if (!a.face) reason = 'tidak ada wajah / no face';
      else if (a.quality) reason = QUALITY_MESSAGES[a.quality].id;
      else if (cfg.liveness.enabled && engine.hasLiveness) {
        const live = await engine.liveness(frame, a.face);
        if (live !== null && live < cfg.liveness.threshold) reason = FACE_MESSAGES.spoof.id;
      }
      if (!reason && vectors.length && vectors.some((v) => dot(v, a.vector!) < threshold)) {
        // another person than in the frames so far: start again from this face
        crops.length = 0;
        vectors.length = 0;
        reason = 'wajah berganti / a different face — mulai lagi';
      }
      if (reason) {
        if (reason !== lastReason) say(reason);
        lastReason = reason;
        await sleep(cfg.loopIntervalMs);
        continue;
      }
      crops.push(a.aligned!);
      vectors.push(a.vector!);
      log.info({ nip: opts.nip, got: crops.length, of: cfg.enrol.frames }, 'enrolment frame taken');
      say(`Gambar ${crops.length}/${cfg.enrol.frames} diambil / frame taken`);
      await sleep(Math.max(cfg.loopIntervalMs, 300)); // a little movement between frames gives a more robust template set
    }
    return { crops, vectors };
  });
}

/** Crops travel and rest as high-quality JPEG (160x160 canonical aligned crops, ~10 kB each). */
export async function cropsToJpeg(crops: RgbImage[]): Promise<string[]> {
  return Promise.all(crops.map(async (c) => (await encodeJpeg(c, 95)).toString('base64')));
}
