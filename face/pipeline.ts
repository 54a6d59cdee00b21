import { alignFace } from './align.js';
import type { FaceConfig } from './config.js';
import type { DetectedFace, FaceEngine } from './engine.js';
import type { RgbImage } from './image.js';
import type { Match, TemplateIndex } from './matcher.js';
import { chooseFace, postGate, preGate, type QualityCode, type QualityMetrics } from './quality.js';

export type Stage = 'detect' | 'align' | 'embed' | 'search' | 'liveness';

/** What one frame yielded, stage by stage (a stage that did not run leaves its field undefined). */
export interface FrameAnalysis {
  faces: DetectedFace[];
  face: DetectedFace | null;
  quality: QualityCode | null;
  metrics?: QualityMetrics & { sharpness?: number };
  aligned?: RgbImage;
  vector?: Float32Array;
  match?: Match | null;
  liveness?: number | null;
  ms: Partial<Record<Stage, number>>;
}

export interface AnalyseOptions {
  /** Skip quality gates (evaluation of the recogniser alone). */
  gates?: boolean;
  index?: TemplateIndex;
  liveness?: boolean;
}

/** frame → detect → choose → gates → align → embed → search → liveness (MODELS.md, issue 3). */
export class FacePipeline {
  constructor(
    readonly engine: FaceEngine,
    private readonly cfg: Pick<FaceConfig, 'quality'>,
  ) {}

  async analyse(img: RgbImage, opts: AnalyseOptions = {}): Promise<FrameAnalysis> {
    const gates = opts.gates ?? true;
    const ms: FrameAnalysis['ms'] = {};
    let t = performance.now();
    const lap = (s: Stage) => {
      const n = performance.now();
      ms[s] = n - t;
      t = n;
    };
    const faces = await this.engine.detect(img);
    lap('detect');
    const face = chooseFace(faces, img.width, img.height);
    if (!face) return { faces, face: null, quality: null, ms };
    const pre = preGate(img, face, faces, this.cfg.quality);
    if (gates && pre.code) return { faces, face, quality: pre.code, metrics: pre.metrics, ms };
    t = performance.now();
    const aligned = alignFace(img, face.landmarks);
    const post = postGate(aligned, this.cfg.quality);
    lap('align');
    const metrics = { ...pre.metrics, sharpness: post.sharpness };
    if (gates && post.code) return { faces, face, quality: post.code, metrics, aligned, ms };
    const vector = await this.engine.embedAligned(aligned);
    lap('embed');
    const res: FrameAnalysis = { faces, face, quality: gates ? null : (pre.code ?? post.code), metrics, aligned, vector, ms };
    if (opts.index) {
      res.match = opts.index.search(vector);
      lap('search');
    }
    if (opts.liveness) {
      res.liveness = await this.engine.liveness(img, face);
      lap('liveness');
    }
    return res;
  }
}
