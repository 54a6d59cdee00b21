import { EventEmitter } from 'node:events';
import type { KioskBus } from '../extension-api.js';
import type { FaceConfig } from '../../face/config.js';
import type { FaceEngine } from '../../face/engine.js';
import type { RgbImage } from '../../face/image.js';
import { FacePipeline } from '../../face/pipeline.js';
import type { TemplateIndex } from '../../face/matcher.js';
import { PreviewFeed } from './preview.js';

export interface PreviewBench {
  recognition_fps_without_preview: number;
  recognition_fps_with_preview: number;
  slowdown_pct: number;
  preview_fps: number;
  preview_encode_ms: number;
  cpu_ms_per_frame_without: number;
  cpu_ms_per_frame_with: number;
  frames: number;
}

/**
 * `hadir bench preview`: the face loop as the kiosk runs it (detect, gates, align, embed, 1:N
 * search, liveness — back to back, as fast as it goes) with and without the screen's live preview
 * attached at `fps`. Blocks alternate off/on so a load change on a shared machine hits both sides.
 */
export async function benchPreview(o: { engine: FaceEngine; cfg: FaceConfig; frame: RgbImage; index: TemplateIndex; frames: number; fps: number; width: number; block?: number }): Promise<PreviewBench> {
  const pipe = new FacePipeline(o.engine, o.cfg);
  const bus = new EventEmitter() as KioskBus;
  const feed = new PreviewFeed(bus, { fps: o.fps, width: o.width });
  feed.start();
  let watcher: (() => void) | null = null;
  const one = async () => {
    const a = await pipe.analyse(o.frame, { index: o.index, liveness: o.engine.hasLiveness });
    if (bus.listenerCount('face:frame') > 0) bus.emit('face:frame', { frame: o.frame, box: a.face ? (a.face.box.slice(0, 4) as [number, number, number, number]) : null, hint: a.quality });
  };
  for (let i = 0; i < 3; i++) await one(); // warm-up
  const block = o.block ?? 10;
  const side = { off: { ms: 0, cpu: 0, n: 0 }, on: { ms: 0, cpu: 0, n: 0 } };
  let encodedOn = 0;
  for (let done = 0; done < o.frames; done += block) {
    for (const mode of ['off', 'on'] as const) {
      if (mode === 'on') watcher = feed.watch(() => {});
      const before = feed.encoded;
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      for (let i = 0; i < block; i++) await one();
      const ms = performance.now() - t0;
      const c = process.cpuUsage(c0);
      side[mode].ms += ms;
      side[mode].cpu += (c.user + c.system) / 1000;
      side[mode].n += block;
      if (mode === 'on') {
        encodedOn += feed.encoded - before;
        watcher?.();
        watcher = null;
      }
    }
  }
  feed.stop();
  const fpsOff = (side.off.n * 1000) / side.off.ms;
  const fpsOn = (side.on.n * 1000) / side.on.ms;
  return {
    recognition_fps_without_preview: +fpsOff.toFixed(2),
    recognition_fps_with_preview: +fpsOn.toFixed(2),
    slowdown_pct: +((1 - fpsOn / fpsOff) * 100).toFixed(1),
    preview_fps: +((encodedOn * 1000) / side.on.ms).toFixed(2),
    preview_encode_ms: +feed.stats().encodeMsMean.toFixed(2),
    cpu_ms_per_frame_without: +(side.off.cpu / side.off.n).toFixed(1),
    cpu_ms_per_frame_with: +(side.on.cpu / side.on.n).toFixed(1),
    frames: side.off.n + side.on.n,
  };
}
