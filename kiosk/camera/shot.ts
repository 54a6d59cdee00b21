import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeImage, type RgbImage } from '../../face/image.js';
import { CameraError, withTimeout, type Camera } from './camera.js';

/** The Pi camera module, one still per frame: `rpicam-still -n -t 1 --width W --height H -e jpg -o -`. */
export class RpicamStillCamera implements Camera {
  readonly driver = 'rpicam';
  constructor(private readonly o: { width: number; height: number; timeoutMs: number }) {}
  get describe(): string {
    return `rpicam-still ${this.o.width}x${this.o.height}`;
  }
  async open(): Promise<void> {}
  async capture(): Promise<RgbImage> {
    const jpeg = await withTimeout(
      new Promise<Buffer>((res, rej) => {
        execFile('rpicam-still', ['-n', '-t', '1', '--width', String(this.o.width), '--height', String(this.o.height), '-e', 'jpg', '-o', '-'], { encoding: 'buffer', maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
          if (err) {
            const e = err as NodeJS.ErrnoException;
            rej(new CameraError(e.code === 'ENOENT' ? 'rpicam-still tidak terpasang / not installed (apt install rpicam-apps)' : `rpicam-still: ${stderr.toString().trim().split('\n').pop() ?? e.message}`, e.code === 'ENOENT'));
          } else res(stdout);
        });
      }),
      this.o.timeoutMs,
      this.describe,
    );
    return decodeImage(jpeg);
  }
  async close(): Promise<void> {}
}

interface NodeWebcamInstance {
  capture(location: string, cb: (err: Error | null, data: string) => void): void;
}

/** A USB webcam via node-webcam (which runs fswebcam), one JPEG per frame. */
export class WebcamCamera implements Camera {
  readonly driver = 'webcam';
  private cam: NodeWebcamInstance | null = null;
  private readonly tmp = mkdtempSync(join(tmpdir(), 'hadir-cam-'));
  constructor(private readonly o: { device: string; width: number; height: number; timeoutMs: number }) {}
  get describe(): string {
    return `${this.o.device} ${this.o.width}x${this.o.height} (fswebcam)`;
  }
  async open(): Promise<void> {
    const NodeWebcam = createRequire(import.meta.url)('node-webcam') as { create(o: object): NodeWebcamInstance };
    this.cam = NodeWebcam.create({ width: this.o.width, height: this.o.height, device: this.o.device, output: 'jpeg', callbackReturn: 'location', delay: 0, quality: 90, verbose: false, skip: 2 });
  }
  async capture(): Promise<RgbImage> {
    if (!this.cam) await this.open();
    const out = join(this.tmp, 'frame');
    const file = await withTimeout(
      new Promise<string>((res, rej) =>
        this.cam!.capture(out, (err, loc) => {
          if (err) rej(new CameraError(/not found|ENOENT/i.test(err.message) ? 'fswebcam tidak terpasang / not installed (apt install fswebcam)' : `webcam ${this.o.device}: ${err.message}`));
          else res(loc);
        }),
      ),
      this.o.timeoutMs,
      this.describe,
    );
    try {
      return await decodeImage(await readFile(file));
    } catch (e) {
      throw new CameraError(`webcam ${this.o.device}: no image (${(e as Error).message}) — is the camera plugged in?`);
    }
  }
  async close(): Promise<void> {
    rmSync(this.tmp, { recursive: true, force: true });
  }
}
