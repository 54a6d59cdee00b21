import type { RgbImage } from '../../face/image.js';

/**
 * One interface for every camera: a USB webcam (fswebcam via node-webcam), the Pi camera
 * (rpicam-still), a continuous v4l2 MJPEG stream (ffmpeg) and a folder of images (tests, demos,
 * --simulate). The face pipeline cannot tell them apart.
 */
export interface Camera {
  readonly driver: string;
  /** Human description for health ("/dev/video0 640x480", "dir /srv/frames"). */
  readonly describe: string;
  open(): Promise<void>;
  /** The next frame (decoded RGB). Rejects with a CameraError when the camera fails. */
  capture(): Promise<RgbImage>;
  close(): Promise<void>;
}

/** A camera failure with a message fit for kiosk health (Bahasa Indonesia / English). */
export class CameraError extends Error {
  override readonly name = 'CameraError';
  constructor(
    message: string,
    /** True when retrying cannot help (folder exhausted, driver missing). */
    readonly permanent = false,
  ) {
    super(message);
  }
}

export function isCameraError(e: unknown): e is CameraError {
  return e instanceof CameraError;
}

/** Rejects after `ms` with a CameraError (a hung fswebcam or rpicam-still must not stall the loop). */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(t)),
    new Promise<never>((_, rej) => {
      t = setTimeout(() => rej(new CameraError(`${what}: tidak ada gambar dalam ${ms / 1000} s / no frame within ${ms / 1000} s`)), ms);
    }),
  ]);
}
