import { rng } from './stats.js';
import type { RgbImage } from './image.js';

/**
 * Kiosk-like frames made from photos (issue 17: calibrate the quality gates on what a 640x480
 * kiosk camera gives, not on press photos): the photo fitted into a 640x480 frame, then blur,
 * sensor noise, darkness and JPEG compression. The frames exist only in memory during evaluation.
 */
export interface KioskVariant {
  name: string;
  /** Gaussian blur sigma in frame pixels (0 = none). */
  blur: number;
  /** Sensor noise standard deviation (8-bit levels). */
  noise: number;
  /** Brightness factor (1 = unchanged). */
  gain: number;
  jpeg: number;
}

export const KIOSK_VARIANTS: readonly KioskVariant[] = [
  { name: 'k-clean', blur: 0, noise: 2, gain: 1, jpeg: 85 },
  { name: 'k-soft', blur: 1, noise: 4, gain: 1, jpeg: 75 },
  { name: 'k-noisy', blur: 0, noise: 10, gain: 1, jpeg: 70 },
  { name: 'k-dim', blur: 0.6, noise: 6, gain: 0.45, jpeg: 75 },
  { name: 'k-jpeg', blur: 0, noise: 3, gain: 1, jpeg: 30 },
  { name: 'k-motion', blur: 2.5, noise: 4, gain: 1, jpeg: 75 },
];

/** A decoder for EmbeddingCache.analyse: photo bytes → the variant's 640x480 kiosk frame. */
export function kioskFrameDecoder(v: KioskVariant, seed: number): (bytes: Buffer) => Promise<RgbImage> {
  return async (bytes) => {
    const sharp = (await import('sharp')).default;
    // fit inside 640x480 without upscaling, centred on a mid-grey background as a wall behind the person
    let p = sharp(bytes).rotate().resize(640, 480, { fit: 'contain', withoutEnlargement: true, background: { r: 110, g: 110, b: 110 } });
    if (v.blur > 0) p = sharp(await p.png().toBuffer()).blur(v.blur);
    const { data, info } = await p.removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
    const px = new Uint8Array(data.buffer, data.byteOffset, data.length);
    const r = rng(seed);
    const out = new Uint8Array(info.width * info.height * 3);
    for (let i = 0, j = 0; i < info.width * info.height; i++, j += 3) {
      for (let c = 0; c < 3; c++) {
        const x = px[i * info.channels + (info.channels >= 3 ? c : 0)]! * v.gain + v.noise * r.normal();
        out[j + c] = x < 0 ? 0 : x > 255 ? 255 : Math.round(x);
      }
    }
    const jpeg = await sharp(Buffer.from(out.buffer), { raw: { width: info.width, height: info.height, channels: 3 } }).jpeg({ quality: v.jpeg }).toBuffer();
    const dec = await sharp(jpeg).raw().toBuffer({ resolveWithObject: true });
    return { width: dec.info.width, height: dec.info.height, data: new Uint8Array(dec.data.buffer, dec.data.byteOffset, dec.data.length) };
  };
}
