import { spawn, type ChildProcess } from 'node:child_process';
import { decodeImage, type RgbImage } from '../../face/image.js';
import { CameraError, withTimeout, type Camera } from './camera.js';
import { MjpegSplitter } from './mjpeg.js';

/**
 * A continuous MJPEG source: a long-running process (ffmpeg on a v4l2 device, or rpicam-vid)
 * writes JPEG frames to stdout; the latest frame is kept and `capture()` returns the next one
 * newer than the last it returned. Per-shot tools (fswebcam, rpicam-still) restart the sensor for
 * every picture (hundreds of ms to seconds); this keeps it running.
 */
export class StreamCamera implements Camera {
  private proc: ChildProcess | null = null;
  private latest: Buffer | null = null;
  private seq = 0;
  private taken = 0;
  private waiters: (() => void)[] = [];
  private failure: string | null = null;
  private stderrTail = '';

  constructor(
    readonly driver: string,
    private readonly cmd: string,
    private readonly args: string[],
    readonly describe: string,
    private readonly timeoutMs: number,
  ) {}

  async open(): Promise<void> {
    this.failure = null;
    const split = new MjpegSplitter();
    const p = spawn(this.cmd, this.args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = p;
    p.stdout!.on('data', (c: Buffer) => {
      for (const f of split.push(c)) {
        this.latest = f;
        this.seq++;
        for (const w of this.waiters.splice(0)) w();
      }
    });
    p.stderr!.on('data', (c: Buffer) => (this.stderrTail = (this.stderrTail + c.toString()).slice(-400)));
    p.on('error', (e: NodeJS.ErrnoException) => {
      this.failure = e.code === 'ENOENT' ? `${this.cmd} tidak terpasang / not installed` : e.message;
      for (const w of this.waiters.splice(0)) w();
    });
    p.on('exit', (code) => {
      if (this.proc === p) {
        this.failure ??= `${this.cmd} berhenti / exited (${code}): ${this.stderrTail.trim().split('\n').pop() ?? ''}`;
        this.proc = null;
        for (const w of this.waiters.splice(0)) w();
      }
    });
  }

  async capture(): Promise<RgbImage> {
    const next = async (): Promise<Buffer> => {
      while (this.seq <= this.taken) {
        if (this.failure) throw new CameraError(this.failure);
        await new Promise<void>((r) => this.waiters.push(r));
      }
      this.taken = this.seq;
      return this.latest!;
    };
    if (!this.proc && !this.failure) await this.open();
    const jpeg = await withTimeout(next(), this.timeoutMs, this.describe);
    return decodeImage(jpeg);
  }

  async close(): Promise<void> {
    const p = this.proc;
    this.proc = null;
    if (p && p.exitCode === null) {
      p.kill('SIGTERM');
      await new Promise((r) => p.once('exit', r));
    }
  }
}
