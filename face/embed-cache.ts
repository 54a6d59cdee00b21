import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DetectedFace } from './engine.js';
import type { RgbImage } from './image.js';
import type { FacePipeline, Stage } from './pipeline.js';
import type { QualityMetrics } from './quality.js';
import { decodeVector, encodeVector } from './vector.js';

/**
 * What evaluation needs of one image, kept on disk keyed by model + image bytes + variant, so a
 * repeated `hadir eval faces` on a shared 2-core machine costs seconds instead of minutes.
 * Quality is kept as metrics (not as a verdict) so the gates can be re-tuned without re-running
 * the models. Folder: $HADIR_FACE_CACHE, else <tmpdir>/hadir-face-cache (never in git).
 */
export interface ImageAnalysis {
  faces: number;
  face: DetectedFace | null;
  metrics: (QualityMetrics & { sharpness?: number }) | null;
  /** The engine's embedding (what the kiosk compares). */
  vector: Float32Array | null;
  /** Its single views (crop, mirror) when the engine combines several. */
  views: Float32Array[] | null;
  ms: Partial<Record<Stage, number>>;
}

interface Stored extends Omit<ImageAnalysis, 'vector' | 'views'> {
  vector: string | null;
  views: string[] | null;
}

/** Bumped whenever what analyse() stores changes meaning (e.g. a quality metric's definition). */
const ANALYSIS_VERSION = 4;

export function defaultCacheDir(): string {
  return process.env.HADIR_FACE_CACHE ?? join(tmpdir(), 'hadir-face-cache');
}

export class EmbeddingCache {
  hits = 0;
  misses = 0;
  private readonly dir: string | null;

  /** `dir` null: no cache (every image is analysed). */
  constructor(dir: string | null, modelId: string) {
    this.dir = dir === null ? null : join(dir, modelId.replace(/[^\w.@+-]/g, '_'));
    if (this.dir) mkdirSync(this.dir, { recursive: true });
  }

  /** Analyses `bytes` (decoded by `decode`, e.g. with a kiosk-like degradation named `variant`), or returns the cached result. */
  async analyse(bytes: Buffer, variant: string, decode: (b: Buffer) => Promise<RgbImage>, pipe: FacePipeline): Promise<ImageAnalysis> {
    const key = createHash('sha256').update(bytes).update(`\0${variant}\0v${ANALYSIS_VERSION}`).digest('hex');
    const file = this.dir ? join(this.dir, `${key}.json`) : null;
    if (file) {
      try {
        const s = JSON.parse(readFileSync(file, 'utf8')) as Stored;
        this.hits++;
        return { ...s, vector: s.vector ? decodeVector(s.vector) : null, views: s.views ? s.views.map(decodeVector) : null };
      } catch {
        /* not cached yet (or unreadable): compute */
      }
    }
    this.misses++;
    const img = await decode(bytes);
    const a = await pipe.analyse(img, { gates: false });
    const views = a.aligned && a.vector && pipe.engine.embedViews ? await pipe.engine.embedViews(a.aligned) : null;
    const out: ImageAnalysis = { faces: a.faces.length, face: a.face, metrics: a.metrics ?? null, vector: a.vector ?? null, views, ms: a.ms };
    if (file) {
      const s: Stored = { ...out, vector: out.vector ? encodeVector(out.vector) : null, views: views ? views.map(encodeVector) : null };
      const tmp = `${file}.${process.pid}.tmp`;
      writeFileSync(tmp, JSON.stringify(s));
      renameSync(tmp, file);
    }
    return out;
  }
}
