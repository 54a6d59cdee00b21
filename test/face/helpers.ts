import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeTmpDir } from '../tmp.js';
import { modelDir, modelsPresent } from '../../models/store.js';
import { OnnxFaceEngine } from '../../face/onnx-engine.js';
import { decodeImage, type RgbImage } from '../../face/image.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** The project's shared data beside the repo (CI clones with ../shared next to it). */
export const SHARED = resolve(ROOT, '..', 'shared');
export const FACES_DEV = join(SHARED, 'faces-dev');
export const SPOOF_DEV = join(SHARED, 'spoof-dev');

/**
 * The ONNX models: the fetched model dir when complete (CI runs `hadir models fetch` first), else
 * ../shared/models directly. Neither present is a test failure, never a silent skip.
 */
export function testModelDir(): string {
  if (modelsPresent(modelDir())) return modelDir();
  const shared = join(SHARED, 'models');
  if (!existsSync(shared)) throw new Error(`no face models: run \`hadir models fetch --from ../shared/models\` (looked in ${modelDir()} and ${shared})`);
  return shared;
}

export function onnxEngine(): Promise<OnnxFaceEngine> {
  return OnnxFaceEngine.create({ dir: testModelDir(), threads: 1 });
}

export async function load(rel: string): Promise<RgbImage> {
  return decodeImage(readFileSync(join(SHARED, rel)));
}

export interface ManifestFace {
  file: string;
  facesDetected: number;
  face: { score: number; box: [number, number, number, number]; landmarks: [number, number][] };
  stored: { size: string };
}
export function facesManifest(): ManifestFace[] {
  const m = JSON.parse(readFileSync(join(FACES_DEV, 'manifest.json'), 'utf8')) as { identities: Record<string, ManifestFace[]> };
  return Object.values(m.identities).flat();
}

export function tmp(tag: string): string {
  return makeTmpDir(`hadir-face-${tag}-`);
}
