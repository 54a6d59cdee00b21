import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { loadManifest, modelDir, modelsPresent, type ModelManifest } from '../models/store.js';
import { UserError } from '../lib/errors.js';
import { join } from 'node:path';
import { l2normalise, type DetectedFace, type FaceEngine } from './engine.js';
import { downscale, type RgbImage } from './image.js';
import { CANONICAL_PAD, CANONICAL_SIZE } from './align.js';
import { decodeYunet, scaleFace, yunetInput } from './yunet.js';
import { fuseLiveness, livenessInput } from './liveness.js';

export interface OnnxEngineOptions {
  dir?: string;
  /** Frames larger than this (longer side) are downscaled for detection only; YuNet is trained for faces ~10–300 px. */
  detectMaxSide?: number;
  scoreThreshold?: number;
  /** onnxruntime intra-op threads per session. */
  threads?: number;
}

// MODELS.md §2: ImageNet mean/std on 0..255 RGB
const MEAN = [123.675, 116.28, 103.53];
const STD = [58.395, 57.12, 57.375];
const LIVENESS_SCALES = [2.7, 4.0];

/** YuNet + MobileFaceNet + MiniFASNet V2/V1SE through onnxruntime-node (CPU). */
export class OnnxFaceEngine implements FaceEngine {
  readonly name = 'onnx' as const;
  readonly dims = 128;
  readonly hasLiveness = true;
  private constructor(
    readonly modelId: string,
    private readonly ort: typeof import('onnxruntime-node'),
    private readonly det: InferenceSession,
    private readonly emb: InferenceSession,
    private readonly live: InferenceSession[],
    private readonly opts: Required<Omit<OnnxEngineOptions, 'dir'>>,
  ) {}

  static async create(opts: OnnxEngineOptions = {}): Promise<OnnxFaceEngine> {
    const manifest: ModelManifest = loadManifest();
    const dir = modelDir(opts.dir);
    if (!modelsPresent(dir, manifest)) throw new UserError(`face models are not installed in ${dir}`, 'run `hadir models fetch --from DIR|URL` (or set HADIR_MODEL_DIR)');
    // onnxruntime 1.30 on Linux sends usage telemetry to events.data.microsoft.com and keeps a
    // session id in $TMPDIR/.ses; nothing about a kiosk or the hub leaves for a third party.
    process.env.ORT_DISABLE_TELEMETRY ??= '1';
    const ort = await import('onnxruntime-node');
    const threads = opts.threads ?? 2;
    const so: InferenceSession.SessionOptions = { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all', executionMode: 'sequential' };
    const file = (role: 'detector' | 'embedding' | 'liveness', i = 0) => join(dir, manifest.models.filter((m) => m.role === role)[i]!.file);
    const emb = manifest.models.find((m) => m.role === 'embedding')!;
    const [det, embS, l0, l1] = await Promise.all([
      ort.InferenceSession.create(file('detector'), so),
      ort.InferenceSession.create(file('embedding'), so),
      ort.InferenceSession.create(file('liveness', 0), so),
      ort.InferenceSession.create(file('liveness', 1), so),
    ]);
    // "+flip": templates are the mean of the crop and its mirror (issue 17: +5 points TAR at FAR 0 on
    // faces-dev2); the id changes so kiosks never compare them with single-view templates.
    return new OnnxFaceEngine(`${emb.id}@${emb.sha256.slice(0, 8)}+flip`, ort, det, embS, [l0, l1], {
      detectMaxSide: opts.detectMaxSide ?? 640,
      scoreThreshold: opts.scoreThreshold ?? 0.6,
      threads,
    });
  }

  async detect(img: RgbImage): Promise<DetectedFace[]> {
    const { image, scale } = await downscale(img, this.opts.detectMaxSide);
    const inp = yunetInput(image);
    const t = new this.ort.Tensor('float32', inp.data, [1, 3, inp.height, inp.width]);
    const out = await this.det.run({ [this.det.inputNames[0]!]: t });
    const arrays: Record<string, Float32Array> = {};
    for (const [k, v] of Object.entries(out)) arrays[k] = (v as Tensor).data as Float32Array;
    return decodeYunet(arrays, inp.width, inp.height, this.opts.scoreThreshold).map((f) => scaleFace(f, scale));
  }

  async embedAligned(aligned: RgbImage): Promise<Float32Array> {
    const [a, b] = await this.embedViews(aligned);
    for (let k = 0; k < a!.length; k++) a![k]! += b![k]!;
    return l2normalise(a!);
  }

  /** Unit embeddings of the crop and of its mirror image (evaluation compares with and without the flip). */
  async embedViews(aligned: RgbImage): Promise<[Float32Array, Float32Array]> {
    if (aligned.width !== CANONICAL_SIZE || aligned.height !== CANONICAL_SIZE) throw new Error(`embedAligned needs the ${CANONICAL_SIZE}x${CANONICAL_SIZE} canonical crop`);
    // the central 112x112 of the canonical crop is the ArcFace crop; it and its mirror image
    // (flip test-time augmentation) are embedded (the model's batch size is fixed at 1) and the
    // embedding (embedAligned) is the sum of the two unit vectors, L2-normalised
    const plane = 112 * 112;
    const x = new Float32Array(3 * plane);
    const xf = new Float32Array(3 * plane);
    for (let v = 0; v < 112; v++) {
      for (let u = 0; u < 112; u++) {
        const i = v * 112 + u;
        const m = v * 112 + (111 - u);
        const s = ((v + CANONICAL_PAD) * CANONICAL_SIZE + u + CANONICAL_PAD) * 3;
        for (let c = 0; c < 3; c++) xf[c * plane + m] = x[c * plane + i] = (aligned.data[s + c]! - MEAN[c]!) / STD[c]!;
      }
    }
    const run = async (data: Float32Array) => {
      const out = await this.emb.run({ [this.emb.inputNames[0]!]: new this.ort.Tensor('float32', data, [1, 3, 112, 112]) });
      return l2normalise((out[this.emb.outputNames[0]!] as Tensor).data as Float32Array);
    };
    return [await run(x), await run(xf)];
  }

  async liveness(img: RgbImage, face: DetectedFace): Promise<number> {
    const logits: Float32Array[] = [];
    for (let i = 0; i < this.live.length; i++) {
      const s = this.live[i]!;
      const x = livenessInput(img, face.box, LIVENESS_SCALES[i]!);
      const out = await s.run({ [s.inputNames[0]!]: new this.ort.Tensor('float32', x, [1, 3, 80, 80]) });
      logits.push((out[s.outputNames[0]!] as Tensor).data as Float32Array);
    }
    return fuseLiveness(logits).live;
  }

  async close(): Promise<void> {
    await Promise.all([this.det, this.emb, ...this.live].map((s) => s.release()));
  }
}
