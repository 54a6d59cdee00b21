import { z } from 'zod';

/**
 * Config section `face` of kiosk.json (owned by the face feature). Every threshold lives here,
 * not in code; the defaults were chosen on ../shared/faces-dev (see docs/face.md "Thresholds").
 */

export const cameraConfigSchema = z.strictObject({
  /** webcam: USB camera via fswebcam (node-webcam); rpicam: Pi camera via rpicam-still; ffmpeg: continuous v4l2 MJPEG; dir: images from a folder. */
  driver: z.enum(['webcam', 'rpicam', 'ffmpeg', 'dir']).default('webcam'),
  device: z.string().default('/dev/video0'),
  width: z.number().int().min(160).max(4096).default(640),
  height: z.number().int().min(120).max(4096).default(480),
  /** Frames per second asked of the continuous source (ffmpeg). */
  fps: z.number().min(1).max(60).default(10),
  /** dir driver: folder of .jpg/.png frames, read in name order. */
  dir: z.string().optional(),
  /** dir driver: start again at the first image after the last one (false: the camera then reports "end of images"). */
  loop: z.boolean().default(true),
  /** dir driver: how often each frame is returned before the next one (a probe image repeated as frames). */
  repeat: z.number().int().min(1).max(100).default(1),
  /** Seconds after which a capture that has not returned counts as a camera fault. */
  timeoutS: z.number().min(1).max(60).default(10),
});
export type CameraConfig = z.output<typeof cameraConfigSchema>;

/*
 * Thresholds (cosine) sit about 3.5 impostor standard deviations above the impostor mean measured on
 * faces-dev (ONNX: impostor 0.02 ± 0.105 → 0.40, all genuine pairs ≥ 0.45 there; face-api: its
 * descriptors are not zero-centred so all cosines are high, impostor ≈ 0.82 ± 0.04 → 0.90). The
 * margin over the runner-up is ≈ 0.75 impostor SD. See docs/face.md "Thresholds".
 */
const thresholds = z.strictObject({
  onnx: z.number().min(-1).max(1).default(0.4),
  faceapi: z.number().min(-1).max(1).default(0.9),
});
const margins = z.strictObject({
  onnx: z.number().min(0).max(1).default(0.08),
  faceapi: z.number().min(0).max(1).default(0.03),
});

export const faceConfigSchema = z.strictObject({
  enabled: z.boolean().default(true),
  /** auto: ONNX when its models are installed, else face-api (zero-download). */
  engine: z.enum(['auto', 'onnx', 'faceapi']).default('auto'),
  /** Model folder (default HADIR_MODEL_DIR, else models/onnx in the install). */
  modelDir: z.string().optional(),
  /**
   * onnxruntime intra-op threads per model. 1 is faster on a small CPU shared with the rest of the
   * kiosk: measured p50 30 ms (1 thread) vs 74 ms (2 threads) per frame on a 2-core machine (hadir bench face).
   */
  threads: z.number().int().min(1).max(8).default(1),
  /** Frames are downscaled to this longer side for detection only. */
  detectMaxSide: z.number().int().min(160).max(4096).default(640),
  detectScore: z.number().min(0.1).max(1).default(0.6),
  match: z
    .strictObject({
      threshold: thresholds.prefault({}),
      /** Best person must lead the runner-up (another person) by this much (cosine). */
      margin: margins.prefault({}),
      confirmFrames: z.number().int().min(1).max(10).default(2),
    })
    .prefault({}),
  liveness: z
    .strictObject({
      enabled: z.boolean().default(true),
      /** Fused MiniFASNet live probability needed (minivision accepts at argmax; stricter here). */
      threshold: z.number().min(0).max(1).default(0.8),
    })
    .prefault({}),
  quality: z
    .strictObject({
      minFacePx: z.number().min(16).max(2000).default(64),
      minBrightness: z.number().min(0).max(255).default(40),
      minSharpness: z.number().min(0).default(100),
      maxYaw: z.number().min(0).max(2).default(0.35),
      multiFaceRatio: z.number().min(0).max(1).default(0.5),
    })
    .prefault({}),
  /** Pause between frames of the camera loop. */
  loopIntervalMs: z.number().int().min(0).max(5000).default(100),
  /** After a person is identified, the same person is not reported again for this long (the core also dedups). */
  cooldownMs: z.number().int().min(0).max(600_000).default(4000),
  /** Same quality message is shown again at most this often. */
  messageIntervalMs: z.number().int().min(0).default(3000),
  /** Evidence photo: face crop, longer side in pixels, JPEG quality. */
  photo: z.strictObject({ size: z.number().int().min(48).max(320).default(128), quality: z.number().int().min(30).max(95).default(70) }).prefault({}),
  enrol: z
    .strictObject({
      frames: z.number().int().min(3).max(5).default(3),
      timeoutS: z.number().int().min(5).max(300).default(30),
    })
    .prefault({}),
  camera: cameraConfigSchema.prefault({}),
});
export type FaceConfig = z.output<typeof faceConfigSchema>;
