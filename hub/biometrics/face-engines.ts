import { modelDir, modelsPresent } from '../../models/store.js';
import { UserError } from '../../lib/errors.js';
import type { FaceEngine } from '../../face/engine.js';

/**
 * The engines the hub computes templates with. Kiosks use ONNX when the models are installed and
 * face-api otherwise, so by default the hub makes both kinds of template (ONNX only if its models
 * are installed here). HADIR_FACE_ENGINES=onnx,faceapi chooses explicitly. The first engine is
 * also the one that detects and aligns faces in images given to `hadir enroll face`.
 */
export async function hubFaceEngines(env: NodeJS.ProcessEnv = process.env): Promise<FaceEngine[]> {
  const names = env.HADIR_FACE_ENGINES
    ? env.HADIR_FACE_ENGINES.split(',').map((s) => s.trim()).filter(Boolean)
    : [...(modelsPresent(modelDir()) ? ['onnx'] : []), 'faceapi'];
  const out: FaceEngine[] = [];
  for (const n of names) {
    if (n === 'onnx') out.push(await (await import('../../face/onnx-engine.js')).OnnxFaceEngine.create());
    else if (n === 'faceapi') out.push(await (await import('../../face/faceapi-engine.js')).FaceApiEngine.create());
    else throw new UserError(`HADIR_FACE_ENGINES names unknown engine "${n}"`, 'use onnx, faceapi or both separated by a comma');
  }
  if (!out.length) throw new UserError('HADIR_FACE_ENGINES is empty', 'set it to onnx, faceapi or both');
  return out;
}
