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
 * Decision settings (issue 17, docs/face.md "Thresholds"). ONNX: flip-averaged MobileFaceNet
 * embeddings against each person's mean template. The 1:N threshold holds up to `galleryBase`
 * people and rises by slope·ln(N / galleryBase) beyond, so the chance that a stranger matches
 * anybody stays the same as the site grows (slope = the scale of the exponential impostor tail
 * fitted on faces-dev2). 1:1 after the NIP is typed uses the stricter `verify` threshold (the
 * claimant chooses whom to claim). face-api: threshold from its own impostor distribution; its
 * measured false match rate does not meet the target, so it never identifies 1:N (NIP 1:1 only).
 */
const perEngine = (onnx: number, faceapi: number, min = -1, max = 1) => z.strictObject({ onnx: z.number().min(min).max(max).default(onnx), faceapi: z.number().min(min).max(max).default(faceapi) });
const thresholds = perEngine(0.45, 0.955);
const margins = perEngine(0.05, 0.02, 0, 1);
const verifyThresholds = perEngine(0.52, 0.962);
const tailSlopes = perEngine(0.038, 0.0045, 0, 1);
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
      /** 1:N cosine threshold for a gallery of up to `galleryBase` people. */
      threshold: thresholds.prefault({}),
      /** Best person must lead the runner-up (another person) by this much (cosine). */
      margin: margins.prefault({}),
      confirmFrames: z.number().int().min(1).max(10).default(2),
      /** Person score: cosine to the mean of their templates (measured best), or the best single template. */
      template: z.enum(['mean', 'max']).default('mean'),
      galleryBase: z.number().int().min(1).default(50),
      /** Threshold rise per e-fold of gallery size beyond galleryBase. */
      tailSlope: tailSlopes.prefault({}),
      /** Above this many people the kiosk does not identify 1:N: the NIP is typed and verified 1:1. */
      maxGallery: z.number().int().min(1).default(500),
      /** 1:1 threshold after the NIP is typed on the screen (stricter than 1:N for a site). */
      verify: verifyThresholds.prefault({}),
      /** Engines allowed to identify 1:N; the others verify 1:1 after the NIP only (face-api: its measured FMR misses the target). */
      identify: z.strictObject({ onnx: z.boolean().default(true), faceapi: z.boolean().default(false) }).prefault({}),
      /** How long a typed NIP waits for the face (seconds). */
      claimTimeoutS: z.number().int().min(3).max(120).default(15),
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
      minSharpness: z.number().min(0).default(10),
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
