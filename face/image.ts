/**
 * Raw RGB images and the few pixel operations the face pipeline needs. Decoding and encoding use
 * sharp (libvips + libjpeg-turbo, prebuilt for linux x64/arm64): measured ~5–10x faster than
 * jpeg-js on kiosk frames (numbers in docs/face.md, `hadir bench face`). sharp is imported lazily
 * so light commands never load it. Resampling inside the pipeline (alignment warp, liveness crops)
 * is hand-written: it works on tiny outputs (112x112, 80x80), where a synchronous loop beats a
 * round trip through libvips, and it must follow OpenCV's exact conventions the models were
 * trained with.
 */

/** 8-bit RGB, interleaved, row-major, no padding. */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

type Sharp = (typeof import('sharp'))['default'];
let sharpMod: Sharp | null = null;
async function sharp(): Promise<Sharp> {
  if (!sharpMod) sharpMod = (await import('sharp')).default;
  return sharpMod;
}

/** Decodes JPEG/PNG/WebP, applies EXIF orientation, returns sRGB RGB. */
export async function decodeImage(buf: Buffer | Uint8Array): Promise<RgbImage> {
  const s = await sharp();
  const { data, info } = await s(buf).rotate().toColourspace('srgb').removeAlpha().raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) {
    // greyscale sources: expand to RGB
    const out = new Uint8Array(info.width * info.height * 3);
    for (let i = 0, j = 0; i < info.width * info.height; i++, j += 3) out[j] = out[j + 1] = out[j + 2] = data[i * info.channels]!;
    return { width: info.width, height: info.height, data: out };
  }
  return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
}

/** JPEG of the image, optionally downscaled so its longer side is at most `maxSide`. */
export async function encodeJpeg(img: RgbImage, quality = 80, maxSide?: number): Promise<Buffer> {
  const s = await sharp();
  let p = s(Buffer.from(img.data.buffer, img.data.byteOffset, img.data.length), { raw: { width: img.width, height: img.height, channels: 3 } });
  if (maxSide && Math.max(img.width, img.height) > maxSide) p = p.resize(maxSide, maxSide, { fit: 'inside' });
  return p.jpeg({ quality }).toBuffer();
}

/** Area-averaged downscale (libvips) so that the longer side is at most maxSide; returns the scale used. */
export async function downscale(img: RgbImage, maxSide: number): Promise<{ image: RgbImage; scale: number }> {
  const longer = Math.max(img.width, img.height);
  if (longer <= maxSide) return { image: img, scale: 1 };
  const scale = maxSide / longer;
  const w = Math.max(1, Math.round(img.width * scale));
  const h = Math.max(1, Math.round(img.height * scale));
  const s = await sharp();
  const data = await s(Buffer.from(img.data.buffer, img.data.byteOffset, img.data.length), { raw: { width: img.width, height: img.height, channels: 3 } })
    .resize(w, h, { kernel: 'linear', fit: 'fill' })
    .raw()
    .toBuffer();
  return { image: { width: w, height: h, data: new Uint8Array(data.buffer, data.byteOffset, data.length) }, scale: w / img.width };
}

/**
 * Crops the inclusive pixel rectangle [x0..x1]×[y0..y1] and resizes it to outW×outH with bilinear
 * sampling at half-pixel centres (cv2.resize INTER_LINEAR), as the liveness models expect.
 */
export function cropResize(img: RgbImage, x0: number, y0: number, x1: number, y1: number, outW: number, outH: number): RgbImage {
  const cw = x1 - x0 + 1;
  const ch = y1 - y0 + 1;
  const out = new Uint8Array(outW * outH * 3);
  const sx = cw / outW;
  const sy = ch / outH;
  const { width: W, height: H, data } = img;
  for (let v = 0; v < outH; v++) {
    let fy = (v + 0.5) * sy - 0.5;
    if (fy < 0) fy = 0;
    let iy = Math.floor(fy);
    if (iy > ch - 1) iy = ch - 1;
    const dy = Math.min(fy - iy, 1);
    const yA = Math.min(y0 + iy, H - 1);
    const yB = Math.min(y0 + Math.min(iy + 1, ch - 1), H - 1);
    for (let u = 0; u < outW; u++) {
      let fx = (u + 0.5) * sx - 0.5;
      if (fx < 0) fx = 0;
      let ix = Math.floor(fx);
      if (ix > cw - 1) ix = cw - 1;
      const dx = Math.min(fx - ix, 1);
      const xA = Math.min(x0 + ix, W - 1);
      const xB = Math.min(x0 + Math.min(ix + 1, cw - 1), W - 1);
      const a = (yA * W + xA) * 3, b = (yA * W + xB) * 3, c = (yB * W + xA) * 3, d = (yB * W + xB) * 3;
      const o = (v * outW + u) * 3;
      for (let k = 0; k < 3; k++) {
        const top = data[a + k]! + (data[b + k]! - data[a + k]!) * dx;
        const bot = data[c + k]! + (data[d + k]! - data[c + k]!) * dx;
        out[o + k] = Math.round(top + (bot - top) * dy);
      }
    }
  }
  return { width: outW, height: outH, data: out };
}

/** Plain crop (clamped to the image). */
export function crop(img: RgbImage, x: number, y: number, w: number, h: number): RgbImage {
  const x0 = Math.max(0, Math.floor(x)), y0 = Math.max(0, Math.floor(y));
  const x1 = Math.min(img.width, Math.ceil(x + w)), y1 = Math.min(img.height, Math.ceil(y + h));
  const cw = Math.max(1, x1 - x0), ch = Math.max(1, y1 - y0);
  const out = new Uint8Array(cw * ch * 3);
  for (let r = 0; r < ch; r++) {
    const src = ((y0 + r) * img.width + x0) * 3;
    out.set(img.data.subarray(src, src + cw * 3), r * cw * 3);
  }
  return { width: cw, height: ch, data: out };
}
