import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { FaceConfig } from './config.js';
import { MatchConfirmer, judgeMatch, type DecisionConfig } from './decision.js';
import { EmbeddingCache, type ImageAnalysis } from './embed-cache.js';
import { selectEnrolment } from './enrol-select.js';
import { dot, type FaceEngine } from './engine.js';
import { decodeImage } from './image.js';
import { KIOSK_VARIANTS, kioskFrameDecoder } from './kiosk-frames.js';
import { TemplateIndex, personRows, type TemplateMode } from './matcher.js';
import { FacePipeline, type Stage } from './pipeline.js';
import { qualityVerdict, type QualityCode } from './quality.js';
import { listIdentities, percentile } from './dataset.js';
import { decisionFor } from './engines.js';
import { syntheticTemplates, tailThreshold, upper95 } from './stats.js';

/**
 * `hadir eval faces` (issue 17). Enrolment as the hub does it: for every probe image, its person is
 * enrolled from their OTHER images (the best ≤ 5 by quality and spread, enrol-select.ts), so no
 * probe is ever part of its own template. Each probe is shown as `confirmFrames` identical frames.
 * - 1:1 impostor trials: every image against every other person's template (all their images).
 * - 1:N at the set's own size and at 10/100/1000 people: genuine (own template in the gallery) and
 *   strangers (own identity left out), galleries padded with the other identities (`pad` folders),
 *   then with synthetic templates drawn from a Gaussian fitted to the real ones (reported).
 * - FMR with its 95 % upper bound (rule of three at 0 of N); the decision's cost in ms.
 * Embeddings are cached on disk (embed-cache.ts), keyed by model + image bytes + variant.
 */
export interface GallerySizeResult {
  people: number;
  real_people: number;
  synthetic_people: number;
  threshold: number;
  genuine_trials: number;
  genuine_accept_rate: number;
  misidentifications: number;
  stranger_trials: number;
  stranger_accepts: number;
  stranger_fmr_upper95: number;
  /** 1:N search + decision per frame, p50 (ms). */
  decision_ms_p50: number;
  one_to_n_off: 'engine' | 'gallery' | null;
}

export interface FaceEvalResult {
  engine: string;
  modelId: string;
  identities: number;
  images: number;
  detected: number;
  detection_rate: number;
  enrolment: string;
  template: TemplateMode;
  genuine_trials: number;
  rank1_rate: number;
  genuine_accept_rate: number;
  misidentifications: number;
  stranger_trials: number;
  stranger_accepts: number;
  stranger_fmr_upper95: number;
  impostor_trials: number;
  false_accepts: number;
  fmr: number;
  fmr_upper95: number;
  verify_threshold: number;
  verify_false_accepts: number;
  verify_fmr_upper95: number;
  verify_accept_rate: number;
  max_impostor_score: number;
  /** Thresholds an exponential tail fitted to this set's impostor scores gives at these false match rates. */
  tail_threshold: { fmr_1e4: number; fmr_1e5: number };
  tar_at_far0: number;
  threshold: number;
  margin: number;
  confirm_frames: number;
  galleries: GallerySizeResult[];
  synthetic_check: { real_impostor_mean: number; real_impostor_sd: number; synthetic_mean: number; synthetic_sd: number } | null;
  quality_rejects: Partial<Record<QualityCode, number>>;
  latency_ms_p50: number;
  latency_ms_p95: number;
  stage_ms: Partial<Record<Stage, { p50: number; p95: number }>>;
  decision_ms_p50: number;
  cache: { hits: number; misses: number };
  sweep: { threshold: number; far: number; frr: number }[];
  failures: string[];
}

export interface FaceEvalOptions {
  /** Apply the kiosk quality gates (refused images count as not accepted and are not enrolled). */
  gates: boolean;
  /** Folders of further identities that pad the 1:N galleries (never probed). */
  pad?: string[];
  gallerySizes?: number[];
  /** null: no cache. */
  cacheDir: string | null;
  log?: (l: string) => void;
}

export interface Sample {
  id: string;
  file: string;
  a: ImageAnalysis;
}

/** Analyses every image of `<dir>/<id>/*` (through the cache), optionally as a kiosk-like variant. */
export async function loadSamples(dir: string, pipe: FacePipeline, cache: EmbeddingCache, variant = 'orig', log?: (l: string) => void): Promise<Sample[]> {
  const out: Sample[] = [];
  const kv = KIOSK_VARIANTS.find((v) => v.name === variant);
  for (const { id, images } of listIdentities(dir)) {
    for (const file of images) {
      const bytes = readFileSync(file);
      const seed = createHash('sha256').update(bytes).digest().readUInt32LE(0);
      const decode = kv ? kioskFrameDecoder(kv, seed) : (b: Buffer) => decodeImage(b);
      out.push({ id, file, a: await cache.analyse(bytes, variant, decode, pipe) });
    }
    log?.(`  ${id}: ${images.length} images`);
  }
  return out;
}

const MAX_ENROL = 5;

/** A person's enrolment from candidate samples, as the hub selects it. */
export function enrolFrom(cands: readonly Sample[], usable: (s: Sample) => boolean): Float32Array[] {
  const ok = cands.filter(usable).map((s) => ({ vector: s.a.vector!, metrics: s.a.metrics }));
  return selectEnrolment(ok, MAX_ENROL).map((c) => c.vector);
}

export async function evalFaces(dir: string, engine: FaceEngine, cfg: FaceConfig, opts: FaceEvalOptions): Promise<FaceEvalResult> {
  const log = opts.log ?? (() => {});
  const pipe = new FacePipeline(engine, cfg);
  const cache = new EmbeddingCache(opts.cacheDir, engine.modelId);
  const samples = await loadSamples(dir, pipe, cache, 'orig', log);
  const padSamples: Sample[] = [];
  for (const p of opts.pad ?? []) padSamples.push(...(await loadSamples(p, pipe, cache, 'orig')).map((s) => ({ ...s, id: `pad:${s.id}` })));
  const mode = cfg.match.template;
  const usable = (s: Sample) => s.a.vector !== null && (!opts.gates || (s.a.metrics !== null && qualityVerdict(s.a.metrics, cfg.quality) === null));
  const ids = [...new Set(samples.map((s) => s.id))];
  const byId = new Map(ids.map((id) => [id, samples.filter((s) => s.id === id)]));
  const failures: string[] = [];
  for (const s of samples) if (!s.a.vector) failures.push(`${s.id}/${basename(s.file)}: no face detected`);

  // production templates: each person enrolled from all their usable images
  const full = new Map<string, Float32Array[]>();
  for (const id of ids) full.set(id, personRows(enrolFrom(byId.get(id)!, usable), mode));
  const padIds = [...new Set(padSamples.map((s) => s.id))];
  const padRows = padIds.map((id) => personRows(enrolFrom(padSamples.filter((s) => s.id === id), (s) => s.a.vector !== null), mode)).filter((r) => r.length);
  // leave-one-out templates: for each probe, its person enrolled from their other images
  const loo = new Map<Sample, Float32Array[]>();
  for (const s of samples) loo.set(s, personRows(enrolFrom(byId.get(s.id)!.filter((o) => o !== s), usable), mode));
  const score = (q: Float32Array, rows: readonly Float32Array[]) => (rows.length ? Math.max(...rows.map((r) => dot(r, q))) : -2);

  const nSet = ids.length;
  const dcfg: DecisionConfig = decisionFor(engine, cfg, nSet);
  const base = decisionFor(engine, cfg, 1);

  // 1:1 trials
  const genuine: number[] = [];
  const impostor: number[] = [];
  let verifyOk = 0;
  for (const s of samples) {
    if (!s.a.vector) continue;
    const own = loo.get(s)!;
    if (own.length) {
      const g = score(s.a.vector, own);
      genuine.push(g);
      if (usable(s) && g >= dcfg.verifyThreshold) verifyOk++;
    }
    for (const id of ids) if (id !== s.id && full.get(id)!.length) impostor.push(score(s.a.vector, full.get(id)!));
  }
  const falseAccepts = impostor.filter((x) => x >= base.threshold).length;
  const verifyFa = impostor.filter((x) => x >= dcfg.verifyThreshold).length;
  const maxImp = impostor.length ? Math.max(...impostor) : -1;

  // 1:N: a gallery of `people` around the probe
  const synthCount = Math.max(0, ...(opts.gallerySizes ?? [10, 100, 1000]).map((g) => g - (nSet - 1 + padRows.length)));
  const realRows = [...full.values(), ...padRows].filter((r) => r.length).map((r) => r[0]!);
  const synth = synthCount > 0 ? syntheticTemplates(realRows, synthCount).map((v) => [v]) : [];
  const present = (s: Sample, idx: TemplateIndex, d: DecisionConfig) => {
    const conf = new MatchConfirmer(d);
    const m = s.a.vector && usable(s) ? idx.search(s.a.vector) : null;
    let r: ReturnType<MatchConfirmer['step']> = { confirmed: false, pending: 0 };
    for (let f = 0; f < d.confirmFrames; f++) r = conf.step(judgeMatch(m, d));
    return { m, r };
  };
  const oneToN = (people: number): GallerySizeResult & { rank1: number } => {
    const d = decisionFor(engine, cfg, people);
    const ms: number[] = [];
    let gOk = 0, gN = 0, mis = 0, rank1 = 0, sAcc = 0, sN = 0;
    let realUsed = 0, synthUsed = 0;
    const gallery = (s: Sample, withSelf: boolean) => {
      const idx = new TemplateIndex(engine.modelId, engine.dims, people * (mode === 'max' ? MAX_ENROL : 1));
      if (withSelf) for (const r of loo.get(s)!) idx.add(s.id, r);
      // the other identities of the set, starting after the probe's own (each probe sees a different subset when people < set size)
      const k = ids.indexOf(s.id);
      const others = [...ids.slice(k + 1), ...ids.slice(0, k)];
      let n = withSelf ? 1 : 0, real = 0;
      for (const id of others) {
        if (n >= people) break;
        if (!full.get(id)!.length) continue;
        for (const r of full.get(id)!) idx.add(id, r);
        n++, real++;
      }
      // the set's own size means the set itself (strangers: the other N−1 people); larger galleries are padded
      const limit = people === nSet ? 0 : Infinity;
      for (let i = 0; i < padRows.length && n < people && i < limit; i++, n++, real++) for (const r of padRows[i]!) idx.add(`pad${i}`, r);
      let syn = 0;
      for (let i = 0; i < synth.length && n < people && i < limit; i++, n++, syn++) idx.add(`syn${i}`, synth[i]![0]!);
      if (!withSelf) (realUsed = Math.max(realUsed, real)), (synthUsed = Math.max(synthUsed, syn));
      return idx;
    };
    for (const s of samples) {
      if (loo.get(s)!.length) {
        gN++;
        const idx = gallery(s, true);
        const t = performance.now();
        const { m, r } = present(s, idx, d);
        ms.push(performance.now() - t);
        if (m && m.nip === s.id) rank1++;
        if (r.confirmed && r.nip === s.id) gOk++;
        else if (r.confirmed) mis++;
        if (people === nSet && !(r.confirmed && r.nip === s.id)) {
          failures.push(r.confirmed ? `${s.id}/${basename(s.file)}: accepted as ${r.nip} (${r.score.toFixed(3)})` : `${s.id}/${basename(s.file)}: not accepted (best ${m ? `${m.nip} ${m.score.toFixed(3)}, runner-up ${m.runnerUp.toFixed(3)}` : 'none'})`);
        }
      }
      sN++;
      const { r } = present(s, gallery(s, false), d);
      if (r.confirmed) {
        sAcc++;
        failures.push(`${people === nSet ? '' : `[${people} people] `}stranger ${s.id}/${basename(s.file)} accepted as ${r.nip.startsWith('syn') ? `synthetic ${r.nip}` : r.nip} (${r.score.toFixed(3)})`);
      }
    }
    return {
      people,
      real_people: realUsed,
      synthetic_people: synthUsed,
      threshold: +d.threshold.toFixed(4),
      genuine_trials: gN,
      genuine_accept_rate: gOk / Math.max(1, gN),
      misidentifications: mis,
      stranger_trials: sN,
      stranger_accepts: sAcc,
      stranger_fmr_upper95: upper95(sAcc, sN),
      decision_ms_p50: +percentile(ms, 50).toFixed(4),
      one_to_n_off: d.oneToNOff,
      rank1,
    };
  };
  const own = oneToN(nSet);
  const galleries = (opts.gallerySizes ?? [10, 100, 1000]).map((g) => {
    const { rank1: _r, ...rest } = oneToN(g);
    return rest;
  });

  // how synthetic padding compares with real impostors
  let synthetic_check: FaceEvalResult['synthetic_check'] = null;
  if (synth.length) {
    const ss: number[] = [];
    for (const s of samples) if (s.a.vector) for (const v of synth.slice(0, 200)) ss.push(dot(s.a.vector, v[0]!));
    const ms = (xs: number[]) => {
      const m = xs.reduce((a, b) => a + b, 0) / xs.length;
      return [m, Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / xs.length)] as const;
    };
    const [rm, rsd] = ms(impostor), [sm, ssd] = ms(ss);
    synthetic_check = { real_impostor_mean: +rm.toFixed(4), real_impostor_sd: +rsd.toFixed(4), synthetic_mean: +sm.toFixed(4), synthetic_sd: +ssd.toFixed(4) };
  }

  const qualityRejects: Partial<Record<QualityCode, number>> = {};
  for (const s of samples) {
    const q = s.a.metrics ? qualityVerdict(s.a.metrics, cfg.quality) : null;
    if (q) qualityRejects[q] = (qualityRejects[q] ?? 0) + 1;
  }
  const stageMs: Partial<Record<Stage, number[]>> = {};
  const totals: number[] = [];
  for (const s of samples) {
    let t = 0;
    for (const [k, v] of Object.entries(s.a.ms) as [Stage, number][]) {
      (stageMs[k] ??= []).push(v);
      t += v;
    }
    totals.push(t);
  }
  const stage: FaceEvalResult['stage_ms'] = {};
  for (const [k, v] of Object.entries(stageMs) as [Stage, number[]][]) stage[k] = { p50: percentile(v, 50), p95: percentile(v, 95) };
  const sweep = [];
  for (let t = base.threshold - 0.1; t <= base.threshold + 0.1001; t += 0.025) {
    sweep.push({ threshold: +t.toFixed(3), far: impostor.filter((x) => x >= t).length / Math.max(1, impostor.length), frr: genuine.filter((x) => x < t).length / Math.max(1, genuine.length) });
  }
  const detected = samples.filter((s) => s.a.vector).length;
  return {
    engine: engine.name,
    modelId: engine.modelId,
    identities: nSet,
    images: samples.length,
    detected,
    detection_rate: detected / samples.length,
    enrolment: `each probe's person enrolled from their other images (best ≤ ${MAX_ENROL} by quality/spread)`,
    template: mode,
    genuine_trials: own.genuine_trials,
    rank1_rate: own.rank1 / Math.max(1, own.genuine_trials),
    genuine_accept_rate: own.genuine_accept_rate,
    misidentifications: own.misidentifications,
    stranger_trials: own.stranger_trials,
    stranger_accepts: own.stranger_accepts,
    stranger_fmr_upper95: own.stranger_fmr_upper95,
    impostor_trials: impostor.length,
    false_accepts: falseAccepts,
    fmr: falseAccepts / Math.max(1, impostor.length),
    fmr_upper95: upper95(falseAccepts, impostor.length),
    verify_threshold: dcfg.verifyThreshold,
    verify_false_accepts: verifyFa,
    verify_fmr_upper95: upper95(verifyFa, impostor.length),
    verify_accept_rate: verifyOk / Math.max(1, genuine.length),
    max_impostor_score: maxImp,
    tail_threshold: { fmr_1e4: +tailThreshold(impostor, 1e-4).toFixed(4), fmr_1e5: +tailThreshold(impostor, 1e-5).toFixed(4) },
    tar_at_far0: genuine.filter((x) => x > maxImp).length / Math.max(1, genuine.length),
    threshold: +dcfg.threshold.toFixed(4),
    margin: dcfg.margin,
    confirm_frames: dcfg.confirmFrames,
    galleries,
    synthetic_check,
    quality_rejects: qualityRejects,
    latency_ms_p50: percentile(totals, 50),
    latency_ms_p95: percentile(totals, 95),
    stage_ms: stage,
    decision_ms_p50: own.decision_ms_p50,
    cache: { hits: cache.hits, misses: cache.misses },
    sweep,
    failures,
  };
}
