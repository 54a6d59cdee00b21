/**
 * Splits a Motion-JPEG byte stream (concatenated JPEGs, as ffmpeg `-f mjpeg` and
 * `rpicam-vid --codec mjpeg` write) into frames by SOI (FFD8) / EOI (FFD9) markers. Pure and
 * incremental: feed chunks, get complete frames. Inside entropy-coded data 0xFF is always
 * stuffed (FF00) and restart markers are FFD0–FFD7, so FFD9 only appears as the real end.
 */
export class MjpegSplitter {
  private buf: Buffer = Buffer.alloc(0);
  private start = -1;

  constructor(private readonly maxFrameBytes = 8 * 1024 * 1024) {}

  push(chunk: Buffer): Buffer[] {
    const frames: Buffer[] = [];
    let scanFrom = this.buf.length > 0 ? this.buf.length - 1 : 0;
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    for (let i = scanFrom; i < this.buf.length - 1; i++) {
      if (this.buf[i] !== 0xff) continue;
      const m = this.buf[i + 1];
      if (m === 0xd8 && this.start < 0) this.start = i;
      else if (m === 0xd9 && this.start >= 0) {
        frames.push(Buffer.from(this.buf.subarray(this.start, i + 2)));
        this.buf = this.buf.subarray(i + 2);
        this.start = -1;
        i = -1;
        scanFrom = 0;
      }
    }
    if (this.start < 0) {
      // no frame open: keep at most the last byte (a marker may straddle chunks)
      this.buf = this.buf.subarray(Math.max(0, this.buf.length - 1));
    } else if (this.buf.length - this.start > this.maxFrameBytes) {
      this.buf = Buffer.alloc(0);
      this.start = -1;
    } else if (this.start > 0) {
      this.buf = this.buf.subarray(this.start);
      this.start = 0;
    }
    return frames;
  }
}
