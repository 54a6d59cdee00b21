import type { KioskBus } from '../extension-api.js';
import type { RgbImage } from '../../face/image.js';
import { QUALITY_MESSAGES, type QualityCode } from '../../face/quality.js';

/** What the page draws over the picture: the face box (0..1 of the frame) and the hint. */
export interface PreviewMeta {
  box: [number, number, number, number] | null;
  hint: string | null;
  hintEn: string | null;
  seq: number;
}

export interface PreviewStats {
  /** Preview frames encoded since start, and the mean encode time (ms). */
  encoded: number;
  encodeMsMean: number;
}

/**
 * The live camera preview for the kiosk screen. The face loop already captures and decodes every
 * frame; this only takes the newest one at most `fps` times a second, downscales it to `width` and
 * encodes a JPEG (libvips, a few ms) — and only while a screen is watching. Recognition never waits
 * for it: frames arrive as events and encoding runs off the loop's path (the bus handler returns
 * at once). `hadir bench preview` measures both rates.
 */
export class PreviewFeed {
  private latest: { jpeg: Buffer; meta: PreviewMeta } | null = null;
  private lastAt = 0;
  private busy = false;
  private seq = 0;
  private readonly watchers = new Set<(jpeg: Buffer, meta: PreviewMeta) => void>();
  private encodeMsTotal = 0;
  encoded = 0;
  private readonly onFrame = (f: { frame: RgbImage; box: [number, number, number, number] | null; hint: string | null }) => void this.take(f);

  constructor(private readonly bus: KioskBus, private readonly o: { fps: number; width: number; quality?: number }) {}

  start(): void {
    this.bus.on('face:frame', this.onFrame);
  }
  stop(): void {
    this.bus.off('face:frame', this.onFrame);
    this.watchers.clear();
  }

  stats(): PreviewStats {
    return { encoded: this.encoded, encodeMsMean: this.encoded ? this.encodeMsTotal / this.encoded : 0 };
  }

  /** Subscribe to frames; returns the unsubscribe. The newest frame is sent at once. */
  watch(fn: (jpeg: Buffer, meta: PreviewMeta) => void): () => void {
    this.watchers.add(fn);
    if (this.latest) fn(this.latest.jpeg, this.latest.meta);
    return () => this.watchers.delete(fn);
  }

  get watching(): number {
    return this.watchers.size;
  }

  private async take(f: { frame: RgbImage; box: [number, number, number, number] | null; hint: string | null }): Promise<void> {
    if (this.watchers.size === 0 || this.busy) return;
    const now = performance.now();
    if (now - this.lastAt < 1000 / this.o.fps) return;
    this.lastAt = now;
    this.busy = true;
    try {
      const { encodeJpeg } = await import('../../face/image.js');
      const t = performance.now();
      const jpeg = await encodeJpeg(f.frame, this.o.quality ?? 70, this.o.width);
      this.encodeMsTotal += performance.now() - t;
      this.encoded++;
      const { width: w, height: h } = f.frame;
      const q = f.hint ? QUALITY_MESSAGES[f.hint as QualityCode] : null;
      const meta: PreviewMeta = {
        box: f.box ? [f.box[0] / w, f.box[1] / h, f.box[2] / w, f.box[3] / h] : null,
        hint: q?.id ?? null,
        hintEn: q?.en ?? null,
        seq: ++this.seq,
      };
      this.latest = { jpeg, meta };
      for (const fn of this.watchers) fn(jpeg, meta);
    } finally {
      this.busy = false;
    }
  }
}
