import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { FaceConfig } from './config.js';
import { MatchConfirmer, judgeMatch, type DecisionConfig } from './decision.js';
import { dot, type FaceEngine } from './engine.js';
import { decodeImage } from './image.js';
import { TemplateIndex } from './matcher.js';
import { FacePipeline, type Stage } from './pipeline.js';
import type { QualityCode } from './quality.js';
import { listIdentities, percentile } from './dataset.js';
import { decisionFor } from './engines.js';

/**
 * `hadir eval faces`: enrols the first `enrol` images of every identity and probes with the rest
 * (genuine) and, leaving each identity out of the gallery in turn, with all of its images
 * (strangers), plus every probe against every other identity 1:1 (impostor trials).
 * A probe image is presented as `confirmFrames` consecutive frames, as the kiosk would see a
 * person standing still.
 */
export interface FaceEvalResult {
  engine: string;
  modelId: string;
  identities: number;
  images: number;
  detected: number;
  detection_rate: number;
  genuine_trials: number;
  rank1_rate: number;
  genuine_accept_rate: number;
  misidentifications: number;
  stranger_trials: number;
  stranger_accepts: number;
  impostor_trials: number;
  false_accepts: number;
  max_impostor_score: number;
  tar_at_far0: number;
  threshold: number;
  margin: number;
  quality_rejects: Partial<Record<QualityCode, number>>;
  latency_ms_p50: number;
  latency_ms_p95: number;
  stage_ms: Partial<Record<Stage, { p50: number; p95: number }>>;
  sweep: { threshold: number; far: number; frr: number }[];
  failures: string[];
}

interface Sample {
  id: string;
  file: string;
  vector: Float32Array | null;
  quality: QualityCode | null;
}

export async function evalFaces(dir: string, engine: FaceEngine, cfg: FaceConfig, opts: { enrol: number; gates: boolean; log?: (l: string) => void }): Promise<FaceEvalResult> {
  const log = opts.log ?? (() => {});
  const ids = listIdentities(dir);
  const pipe = new FacePipeline(engine, cfg);
  const stageMs: Partial<Record<Stage, number[]>> = {};
  const totals: number[] = [];
  const samples: Sample[] = [];
  const qualityRejects: Partial<Record<QualityCode, number>> = {};
  const failures: string[] = [];
  for (const { id, images } of ids) {
    for (const file of images) {
      const img = await decodeImage(readFileSync(file));
      const a = await pipe.analyse(img, { gates: false });
      let total = 0;
      for (const [k, v] of Object.entries(a.ms) as [Stage, number][]) {
        (stageMs[k] ??= []).push(v);
        total += v;
      }
      totals.push(total);
      if (a.quality) qualityRejects[a.quality] = (qualityRejects[a.quality] ?? 0) + 1;
      if (!a.vector) failures.push(`${id}/${basename(file)}: no face detected`);
      samples.push({ id, file, vector: a.vector ?? null, quality: a.quality });
    }
    log(`  ${id}: ${images.length} images`);
  }
  const dcfg: DecisionConfig = decisionFor(engine, cfg);
  const threshold = dcfg.threshold;
  const usable = (s: Sample) => s.vector !== null && (!opts.gates || s.quality === null);

  // gallery: the first `enrol` usable images of each identity
  const gallery = new Map<string, Float32Array[]>();
  const probes: Sample[] = [];
  for (const { id } of ids) {
    const mine = samples.filter((s) => s.id === id);
    const enrolled = mine.filter(usable).slice(0, opts.enrol);
    gallery.set(id, enrolled.map((s) => s.vector!));
    for (const s of mine) if (!enrolled.some((e) => e.file === s.file)) probes.push(s);
  }
  const buildIndex = (without?: string) => {
    const idx = new TemplateIndex(engine.modelId, engine.dims);
    for (const [id, vs] of gallery) if (id !== without) for (const v of vs) idx.add(id, v);
    return idx;
  };
  const full = buildIndex();
  const present = (s: Sample, idx: TemplateIndex) => {
    // the same image as consecutive frames: the confirmer sees what a still person gives
    const conf = new MatchConfirmer(dcfg);
    const m = s.vector && usable(s) ? idx.search(s.vector) : null;
    let r: ReturnType<MatchConfirmer['step']> = { confirmed: false, pending: 0 };
    for (let f = 0; f < dcfg.confirmFrames; f++) r = conf.step(judgeMatch(m, dcfg));
    return { m, r };
  };

  let rank1 = 0, accepted = 0, misid = 0;
  const genuineProbes = probes.filter((s) => (gallery.get(s.id)?.length ?? 0) > 0);
  for (const s of genuineProbes) {
    const { m, r } = present(s, full);
    if (m && m.nip === s.id) rank1++;
    if (r.confirmed && r.nip === s.id) accepted++;
    else if (r.confirmed) {
      misid++;
      failures.push(`${s.id}/${basename(s.file)}: accepted as ${r.nip} (${r.score.toFixed(3)})`);
    } else failures.push(`${s.id}/${basename(s.file)}: not accepted (best ${m ? `${m.nip} ${m.score.toFixed(3)}, runner-up ${m.runnerUp.toFixed(3)}` : 'none'})`);
  }
  let strangerAccepts = 0;
  const strangerIndex = new Map<string, TemplateIndex>();
  for (const s of samples) {
    if (!strangerIndex.has(s.id)) strangerIndex.set(s.id, buildIndex(s.id));
    const { r } = present(s, strangerIndex.get(s.id)!);
    if (r.confirmed) {
      strangerAccepts++;
      failures.push(`stranger ${s.id}/${basename(s.file)} accepted as ${r.nip} (${r.score.toFixed(3)})`);
    }
  }
  // 1:1 trials: each sample against each identity's templates (best template)
  const genuine: number[] = [];
  const impostor: number[] = [];
  for (const s of samples) {
    if (!s.vector) continue;
    for (const [id, vs] of gallery) {
      if (vs.length === 0) continue;
      if (id === s.id) {
        if (probes.includes(s)) genuine.push(Math.max(...vs.map((v) => dot(v, s.vector!))));
      } else impostor.push(Math.max(...vs.map((v) => dot(v, s.vector!))));
    }
  }
  const falseAccepts = impostor.filter((x) => x >= threshold).length;
  const maxImp = impostor.length ? Math.max(...impostor) : -1;
  const sweep = [];
  for (let t = 0.2; t <= 0.9001; t += 0.05) {
    sweep.push({ threshold: +t.toFixed(2), far: impostor.filter((x) => x >= t).length / Math.max(1, impostor.length), frr: genuine.filter((x) => x < t).length / Math.max(1, genuine.length) });
  }
  const detected = samples.filter((s) => s.vector).length;
  const stage: FaceEvalResult['stage_ms'] = {};
  for (const [k, v] of Object.entries(stageMs) as [Stage, number[]][]) stage[k] = { p50: percentile(v, 50), p95: percentile(v, 95) };
  return {
    engine: engine.name,
    modelId: engine.modelId,
    identities: ids.length,
    images: samples.length,
    detected,
    detection_rate: detected / samples.length,
    genuine_trials: genuineProbes.length,
    rank1_rate: rank1 / Math.max(1, genuineProbes.length),
    genuine_accept_rate: accepted / Math.max(1, genuineProbes.length),
    misidentifications: misid,
    stranger_trials: samples.length,
    stranger_accepts: strangerAccepts,
    impostor_trials: impostor.length,
    false_accepts: falseAccepts,
    max_impostor_score: maxImp,
    tar_at_far0: genuine.filter((x) => x > maxImp).length / Math.max(1, genuine.length),
    threshold,
    margin: dcfg.margin,
    quality_rejects: qualityRejects,
    latency_ms_p50: percentile(totals, 50),
    latency_ms_p95: percentile(totals, 95),
    stage_ms: stage,
    sweep,
    failures,
  };
}
