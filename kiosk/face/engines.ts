import { modelDir, modelsPresent } from '../../models/store.js';
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

/** The decision settings that apply to this engine's scores. */
export function decisionFor(engine: FaceEngine, cfg: Pick<FaceConfig, 'match'>): DecisionConfig {
  return { threshold: cfg.match.threshold[engine.name], margin: cfg.match.margin[engine.name], confirmFrames: cfg.match.confirmFrames };
}
