import { resolve } from 'node:path';
import type { CameraConfig } from '../../face/config.js';
import { CameraError, type Camera } from './camera.js';
import { DirCamera } from './dir.js';
import { RpicamStillCamera, WebcamCamera } from './shot.js';
import { StreamCamera } from './stream.js';

export type { Camera } from './camera.js';
export { CameraError, isCameraError } from './camera.js';

/** Builds the configured camera. With --simulate the kiosk always uses the `dir` driver. */
export function createCamera(cfg: CameraConfig, opts: { simulate?: boolean } = {}): Camera {
  const timeoutMs = cfg.timeoutS * 1000;
  const driver = opts.simulate ? 'dir' : cfg.driver;
  switch (driver) {
    case 'dir':
      if (!cfg.dir) throw new CameraError('face.camera.dir belum diisi / is not set: the dir camera (and --simulate) needs a folder of images', true);
      return new DirCamera({ dir: resolve(cfg.dir), loop: cfg.loop, repeat: cfg.repeat });
    case 'rpicam':
      return new RpicamStillCamera({ width: cfg.width, height: cfg.height, timeoutMs });
    case 'webcam':
      return new WebcamCamera({ device: cfg.device, width: cfg.width, height: cfg.height, timeoutMs });
    case 'ffmpeg':
      return new StreamCamera(
        'ffmpeg',
        'ffmpeg',
        ['-hide_banner', '-loglevel', 'error', '-f', 'v4l2', '-input_format', 'mjpeg', '-video_size', `${cfg.width}x${cfg.height}`, '-framerate', String(cfg.fps), '-i', cfg.device, '-c:v', 'copy', '-f', 'mjpeg', 'pipe:1'],
        `${cfg.device} ${cfg.width}x${cfg.height}@${cfg.fps} (ffmpeg mjpeg)`,
        timeoutMs,
      );
  }
}
