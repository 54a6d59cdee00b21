import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { FaceConfig } from '../../face/config.js';
import { decisionFor } from '../../face/engines.js';
import { dot, type FaceEngine } from '../../face/engine.js';
import { decodeImage, type RgbImage } from '../../face/image.js';
import { FacePipeline } from '../../face/pipeline.js';
import { QUALITY_MESSAGES, type QualityMetrics } from '../../face/quality.js';
import { selectEnrolment } from '../../face/enrol-select.js';

export interface EnrolCandidate {
  file: string;
  crop?: RgbImage;
  vector?: Float32Array;
  metrics?: QualityMetrics & { sharpness?: number };
  /** Why the image was refused (Indonesian / English), absent when accepted. */
  reason?: string;
}

/**
 * Runs each enrolment image through the kiosk pipeline with its quality gates (one face, large,
 * lit, sharp, frontal) and then checks that the accepted images show one person: every pair must
 * match above the operating threshold, otherwise the images that disagree with the majority are
 * refused. Of more than `max` good images the best by quality and spread are kept (enrol-select.ts).
 * Pure with respect to the store: nothing is written here.
 */
export async function screenEnrolmentImages(files: string[], engine: FaceEngine, cfg: FaceConfig, max = 5): Promise<EnrolCandidate[]> {
  const pipe = new FacePipeline(engine, cfg);
  const out: EnrolCandidate[] = [];
  for (const file of files) {
    let img: RgbImage;
    try {
      img = await decodeImage(await readFile(file));
    } catch (e) {
      out.push({ file, reason: `berkas tidak terbaca / unreadable image (${(e as Error).message.split('\n')[0]})` });
      continue;
    }
    const a = await pipe.analyse(img);
    if (!a.face) out.push({ file, reason: 'tidak ada wajah / no face found' });
    else if (a.quality) out.push({ file, reason: `${QUALITY_MESSAGES[a.quality].id} / ${QUALITY_MESSAGES[a.quality].en}` });
    else out.push({ file, crop: a.aligned!, vector: a.vector!, metrics: a.metrics });
  }
  const threshold = decisionFor(engine, cfg).threshold;
  const ok = out.filter((c) => c.vector);
  // each image's agreement with the others; the ones below threshold against most others are refused
  for (const c of ok) {
    const agree = ok.filter((o) => o !== c && dot(o.vector!, c.vector!) >= threshold).length;
    if (ok.length > 1 && agree < Math.ceil((ok.length - 1) / 2)) {
      c.reason = `wajah berbeda dari gambar lain / shows a different person than the other images (${basename(c.file)})`;
    }
  }
  const good = ok.filter((c) => !c.reason);
  if (good.length > max) {
    const keep = new Set(selectEnrolment(good.map((c) => ({ c, vector: c.vector!, metrics: c.metrics ?? null })), max).map((x) => x.c));
    for (const c of good) if (!keep.has(c)) c.reason = `tidak dipilih / not chosen: ${max} gambar lebih baik atau lebih beragam disimpan / ${max} better or more varied images kept`;
  }
  return out.map((c) => (c.reason ? { file: c.file, reason: c.reason } : c));
}
