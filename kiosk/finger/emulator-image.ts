/**
 * Finger images of the emulator. A real module sends its image buffer as 4-bit grey pixels, two per
 * byte (R30x/AS608: 256 × 288 pixels = 36 864 bytes; pyfingerprint draws exactly that). The emulator
 * has no optics: it draws a ridge-like pattern and hides the capture's character file in the first
 * rows behind a marker, so an image uploaded (UpImage) and downloaded again (DownImage) turns into
 * the same character file, and a foreign image is "too disorderly" (0x06) as a real module would say.
 */
export const IMAGE_WIDTH = 256;
export const IMAGE_HEIGHT = 288;
export const IMAGE_BYTES = (IMAGE_WIDTH * IMAGE_HEIGHT) / 2;

const MARKER = Buffer.from('HADIR-EMU-IMAGE1', 'ascii');

/** What the image buffer holds: a finger's capture (its character file), a smudge, or pixels nobody can read. */
export type ImageContent = { kind: 'finger'; template: Buffer } | { kind: 'poor' } | { kind: 'unreadable' };

export function renderImage(content: ImageContent): Buffer {
  const out = Buffer.alloc(IMAGE_BYTES);
  const seed = content.kind === 'finger' ? content.template[7]! + content.template[9]! : 17;
  const angle = (seed / 510) * Math.PI;
  const [c, s] = [Math.cos(angle), Math.sin(angle)];
  for (let y = 0; y < IMAGE_HEIGHT; y++) {
    for (let x = 0; x < IMAGE_WIDTH; x += 2) {
      const px = (xx: number) => {
        if (content.kind === 'poor') return 0xe; // almost blank glass
        const r = Math.hypot(xx - 128, y - 144);
        const v = 7.5 + 7.5 * Math.sin((xx * c + y * s) / 2.5 + r / 9);
        return r > 120 ? 0xf : Math.max(0, Math.min(15, Math.round(v)));
      };
      out[y * (IMAGE_WIDTH / 2) + x / 2] = (px(x) << 4) | px(x + 1);
    }
  }
  if (content.kind !== 'unreadable') {
    MARKER.copy(out, 0);
    out[MARKER.length] = content.kind === 'poor' ? 1 : 0;
    if (content.kind === 'finger') {
      out.writeUInt16BE(content.template.length, MARKER.length + 1);
      content.template.copy(out, MARKER.length + 3);
    }
  }
  return out;
}

/** Reads back what renderImage drew; any other pixels are an unreadable image. */
export function parseImage(pixels: Buffer): ImageContent {
  if (pixels.length !== IMAGE_BYTES || !pixels.subarray(0, MARKER.length).equals(MARKER)) return { kind: 'unreadable' };
  if (pixels[MARKER.length] === 1) return { kind: 'poor' };
  const n = pixels.readUInt16BE(MARKER.length + 1);
  if (n === 0 || MARKER.length + 3 + n > pixels.length) return { kind: 'unreadable' };
  return { kind: 'finger', template: Buffer.from(pixels.subarray(MARKER.length + 3, MARKER.length + 3 + n)) };
}
