import { readFile } from 'node:fs/promises';
import { decodeImage, type RgbImage } from '../../face/image.js';
import { listImages } from '../../face/dataset.js';
import { CameraError, type Camera } from './camera.js';
import { isErrno } from '../../lib/errors.js';

/**
 * Frames from a folder of images, in natural name order, each returned `repeat` times (a person
 * standing still for several frames), then looped or ended. Used by tests, demos and --simulate.
 * The folder is re-listed at every wrap so a demo can drop new images in while it runs.
 */
export class DirCamera implements Camera {
  readonly driver = 'dir';
  private files: string[] = [];
  private i = 0;
  private served = 0;
  private last: { file: string; img: RgbImage } | null = null;

  constructor(private readonly o: { dir: string; loop: boolean; repeat: number }) {}

  get describe(): string {
    return `dir ${this.o.dir}`;
  }

  async open(): Promise<void> {
    try {
      this.files = listImages(this.o.dir);
    } catch (e) {
      throw new CameraError(`folder kamera ${this.o.dir} tidak ada / camera folder missing: ${(e as Error).message}`, true);
    }
    if (this.files.length === 0) throw new CameraError(`folder kamera ${this.o.dir} kosong / has no .jpg/.png images`, true);
    this.i = 0;
    this.served = 0;
  }

  async capture(): Promise<RgbImage> {
    if (this.served >= this.o.repeat) {
      this.served = 0;
      this.i++;
    }
    if (this.i >= this.files.length) {
      if (!this.o.loop) throw new CameraError('semua gambar sudah diputar / end of images', true);
      this.files = listImages(this.o.dir);
      this.i = 0;
    }
    const file = this.files[this.i]!;
    this.served++;
    if (this.last?.file === file) return this.last.img;
    let img: RgbImage;
    try {
      img = await decodeImage(await readFile(file));
    } catch (e) {
      if (isErrno(e, 'ENOENT')) {
        // the folder changed under us (a demo swapping frames): start over on the new listing
        await this.open();
        return this.capture();
      }
      throw new CameraError(`gambar ${file} tidak terbaca / unreadable: ${(e as Error).message}`);
    }
    this.last = { file, img };
    return img;
  }

  /** The file the last frame came from (tests and the simulator's log). */
  get currentFile(): string | null {
    return this.last?.file ?? null;
  }

  async close(): Promise<void> {
    this.last = null;
  }
}
