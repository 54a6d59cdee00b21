import { modelDir, modelsPresent } from '../models/store.js';
import type { FaceConfig } from './config.js';
import type { FaceEngine } from './engine.js';
import type { DecisionConfig } from './decision.js';

/** Builds the configured engine; `auto` takes ONNX when its models are installed, else face-api (zero-download). */
export async function createEngine(kind: FaceConfig['engine'], cfg: Partial<Pick<FaceConfig, 'modelDir' | 'threads' | 'detectMaxSide' | 'detectScore'>> = {}): Promise<FaceEngine> {
  const useOnnx = kind === 'onnx' || (kind === 'auto' && modelsPresent(modelDir(cfg.modelDir)));
  if (useOnnx) {
    const { OnnxFaceEngine } = await import('./onnx-engine.js');
    return OnnxFaceEngine.create({ dir: cfg.modelDir, threads: cfg.threads, detectMaxSide: cfg.detectMaxSide, scoreThreshold: cfg.detectScore });
  }
  const { FaceApiEngine } = await import('./faceapi-engine.js');
  return FaceApiEngine.create();
}

/**
 * The decision settings for this engine's scores and a gallery of `people` (1:N threshold rising
 * with the gallery size; 1:N off above maxGallery or for an engine not allowed to identify).
 */
export function decisionFor(engine: Pick<FaceEngine, 'name'>, cfg: Pick<FaceConfig, 'match'>, people = 1): DecisionConfig {
  const m = cfg.match;
  const e = engine.name;
  const identify = !m.identify[e] ? ('engine' as const) : people > m.maxGallery ? ('gallery' as const) : null;
  return {
    threshold: galleryThreshold(m.threshold[e], m.tailSlope[e], m.galleryBase, people),
    margin: m.margin[e],
    confirmFrames: m.confirmFrames,
    verifyThreshold: m.verify[e],
    oneToNOff: identify,
  };
}

/** base for up to `base` people, then + slope·ln(people / base): the per-presentation stranger rate stays constant. */
export function galleryThreshold(threshold: number, slope: number, base: number, people: number): number {
  return people <= base ? threshold : threshold + slope * Math.log(people / base);
}
