import type { FaceConfig } from './config.js';
import { EmbeddingCache } from './embed-cache.js';
import { dot, l2normalise, type FaceEngine } from './engine.js';
import { decisionFor } from './engines.js';
import { enrolFrom, loadSamples, type Sample } from './eval.js';
import { KIOSK_VARIANTS } from './kiosk-frames.js';
import { personRows, type TemplateMode } from './matcher.js';
import { FacePipeline } from './pipeline.js';
import { failedGates, qualityVerdict, type QualityCode } from './quality.js';
import { percentile } from './dataset.js';
import { tailThreshold } from './stats.js';

/**
 * `hadir eval faces --compare` and `--kiosk` (issue 17): the decision options side by side, each
 * with a threshold chosen on the OTHER set (exponential tail fitted to its impostor scores, at a
 * false match rate of 1e-4) and reported on this one; and what each quality gate costs on
 * kiosk-like frames made from the photos.
 */

type View = 'single' | 'flip';
interface Option {
  name: string;
  enrol: 'one' | 'others';
  view: View;
  template: TemplateMode;
  snorm?: boolean;
}

const OPTIONS: Option[] = [
  { name: '1 image, 1 view (before issue 17)', enrol: 'one', view: 'single', template: 'max' },
  { name: '1 image, flip-averaged', enrol: 'one', view: 'flip', template: 'max' },
  { name: '≤5 images, best template (max)', enrol: 'others', view: 'single', template: 'max' },
  { name: '≤5 images, mean template', enrol: 'others', view: 'single', template: 'mean' },
  { name: '≤5 images, max, flip', enrol: 'others', view: 'flip', template: 'max' },
  { name: '≤5 images, mean, flip (shipped)', enrol: 'others', view: 'flip', template: 'mean' },
  { name: '≤5 images, mean, flip + S-norm (cohort: the other set)', enrol: 'others', view: 'flip', template: 'mean', snorm: true },
];

export interface OptionResult {
  option: string;
  genuine_trials: number;
  impostor_trials: number;
  max_impostor: number;
  tar_at_far0: number;
  /** Threshold from the other set's impostor tail (FMR 1e-4) and what it gives here. */
  transfer_threshold: number;
  transfer_false_accepts: number;
  transfer_tar: number;
  /** Extra cost per frame over the single-view, single-template decision (ms, p50). */
  extra_ms: number;
}

function vec(s: Sample, view: View): Float32Array | null {
  if (!s.a.vector) return null;
  if (view === 'flip' || !s.a.views) return s.a.vector;
  return s.a.views[0]!;
}

/** Genuine (leave-one-out) and impostor scores of one option on one set, S-normalised against `cohort` when asked. */
function scores(samples: Sample[], o: Option, cohort: Float32Array[] | null): { genuine: number[]; impostor: number[] } {
  const ids = [...new Set(samples.map((s) => s.id))];
  const byId = new Map(ids.map((id) => [id, samples.filter((s) => s.id === id)]));
  const asView = (xs: Sample[]) => xs.map((s) => ({ ...s, a: { ...s.a, vector: vec(s, o.view) } }));
  const has = (s: Sample) => s.a.vector !== null;
  const enrol = (xs: Sample[]) => personRows(o.enrol === 'one' ? xs.filter(has).slice(0, 1).map((s) => s.a.vector!) : enrolFrom(xs, has), o.template);
  const stats = (v: Float32Array) => {
    if (!cohort) return [0, 1] as const;
    const sc = cohort.map((c) => dot(c, v));
    const m = sc.reduce((a, b) => a + b, 0) / sc.length;
    return [m, Math.sqrt(sc.reduce((a, b) => a + (b - m) ** 2, 0) / sc.length) || 1] as const;
  };
  const score = (q: Float32Array, rows: Float32Array[], rowStats: (readonly [number, number])[]) => {
    let best = -Infinity;
    const qs = cohort ? stats(q) : null;
    rows.forEach((r, i) => {
      const raw = dot(r, q);
      const s = qs ? ((raw - rowStats[i]![0]) / rowStats[i]![1] + (raw - qs[0]) / qs[1]) / 2 : raw;
      if (s > best) best = s;
    });
    return best;
  };
  const full = new Map<string, { rows: Float32Array[]; st: (readonly [number, number])[] }>();
  for (const id of ids) {
    const rows = enrol(asView(byId.get(id)!));
    full.set(id, { rows, st: rows.map(stats) });
  }
  const genuine: number[] = [];
  const impostor: number[] = [];
  for (const s0 of samples) {
    const q = vec(s0, o.view);
    if (!q) continue;
    const mine = asView(byId.get(s0.id)!);
    const me = mine.find((m) => m.file === s0.file)!;
    const others = mine.filter((m) => m !== me);
    // 'one': the first image enrolled, the others probe (as before issue 17); 'others': leave-one-out
    if (o.enrol === 'one') {
      const first = mine.filter(has)[0];
      if (first && first !== me) genuine.push(score(q, full.get(s0.id)!.rows, full.get(s0.id)!.st));
    } else {
      const rows = enrol(others);
      if (rows.length) genuine.push(score(q, rows, rows.map(stats)));
    }
    for (const id of ids) if (id !== s0.id && full.get(id)!.rows.length) impostor.push(score(q, full.get(id)!.rows, full.get(id)!.st));
  }
  return { genuine, impostor };
}

export async function compareOptions(dir: string, pad: string[], engine: FaceEngine, cfg: FaceConfig, opts: { cacheDir: string | null; log: (l: string) => void }): Promise<OptionResult[]> {
  const pipe = new FacePipeline(engine, cfg);
  const cache = new EmbeddingCache(opts.cacheDir, engine.modelId);
  const here = await loadSamples(dir, pipe, cache);
  const other = pad[0] ? await loadSamples(pad[0], pipe, cache) : null;
  const embedMs = percentile(here.map((s) => s.a.ms.embed ?? 0), 50);
  const out: OptionResult[] = [];
  opts.log(`options (thresholds chosen on ${other ? pad[0] : 'nothing: no --pad set'} at FMR 1e-4, reported here):`);
  for (const o of OPTIONS) {
    const cohortOf = (xs: Sample[]) => [...new Set(xs.map((s) => s.id))].map((id) => personRows(enrolFrom(xs.filter((s) => s.id === id), (s) => s.a.vector !== null), 'mean')[0]!).filter(Boolean);
    const cohortHere = o.snorm && other ? cohortOf(other) : null;
    const cohortThere = o.snorm ? cohortOf(here) : null;
    const h = scores(here, o, cohortHere);
    const maxImp = Math.max(...h.impostor);
    const thr = other ? tailThreshold(scores(other, o, cohortThere).impostor, 1e-4) : NaN;
    // cost: the mirrored view is a second embedding run; S-norm scores the probe against the cohort
    let extra = o.view === 'flip' ? embedMs / 2 : 0;
    if (cohortHere) {
      const q = l2normalise(Float32Array.from({ length: engine.dims }, (_, i) => Math.sin(i)));
      const t = performance.now();
      for (let k = 0; k < 200; k++) for (const c of cohortHere) dot(c, q);
      extra += (performance.now() - t) / 200;
    }
    const r: OptionResult = {
      option: o.name,
      genuine_trials: h.genuine.length,
      impostor_trials: h.impostor.length,
      max_impostor: +maxImp.toFixed(3),
      tar_at_far0: +(h.genuine.filter((x) => x > maxImp).length / h.genuine.length).toFixed(3),
      transfer_threshold: +thr.toFixed(3),
      transfer_false_accepts: h.impostor.filter((x) => x >= thr).length,
      transfer_tar: +(h.genuine.filter((x) => x >= thr).length / h.genuine.length).toFixed(3),
      extra_ms: +extra.toFixed(2),
    };
    opts.log(`  ${o.name.padEnd(58)} TAR@FAR0 ${r.tar_at_far0.toFixed(3)} (max impostor ${r.max_impostor}); at ${r.transfer_threshold}: TAR ${r.transfer_tar.toFixed(3)}, FA ${r.transfer_false_accepts}/${r.impostor_trials}; +${r.extra_ms} ms`);
    out.push(r);
  }
  return out;
}

export interface GateCost {
  variant: string;
  frames: number;
  detected: number;
  /** Genuine frames each gate refuses on its own. */
  refused_by: Partial<Record<QualityCode, number>>;
  refused_any: number;
  /** Frames recognised (1:1 vs the photo-enrolled template at the 1:N threshold) without and with the gates. */
  accepted_no_gates: number;
  accepted_with_gates: number;
  /** Refused frames that would have been recognised (what the gates cost). */
  refused_but_recognised: number;
  sharpness_p5: number;
  sharpness_p50: number;
}

/** Kiosk-like frames of every photo, per variant: detection, what each gate refuses, and what that costs in recognitions. */
export async function gateCosts(dir: string, engine: FaceEngine, cfg: FaceConfig, opts: { cacheDir: string | null; log: (l: string) => void }): Promise<GateCost[]> {
  const pipe = new FacePipeline(engine, cfg);
  const cache = new EmbeddingCache(opts.cacheDir, engine.modelId);
  const photos = await loadSamples(dir, pipe, cache);
  const thr = decisionFor(engine, cfg, 1).threshold;
  const out: GateCost[] = [];
  opts.log(`quality gates on kiosk-like 640x480 frames (${cfg.quality.minFacePx} px, luma ${cfg.quality.minBrightness}, sharpness ${cfg.quality.minSharpness}, yaw ${cfg.quality.maxYaw}); templates enrolled from the other photos:`);
  for (const v of KIOSK_VARIANTS) {
    const frames = await loadSamples(dir, pipe, cache, v.name);
    const refusedBy: Partial<Record<QualityCode, number>> = {};
    let detected = 0, any = 0, accNo = 0, accWith = 0, lost = 0;
    const sharp: number[] = [];
    for (const f of frames) {
      if (!f.a.vector || !f.a.metrics) continue;
      detected++;
      if (f.a.metrics.sharpness !== undefined) sharp.push(f.a.metrics.sharpness);
      for (const g of failedGates(f.a.metrics, cfg.quality)) refusedBy[g] = (refusedBy[g] ?? 0) + 1;
      const refused = qualityVerdict(f.a.metrics, cfg.quality) !== null;
      if (refused) any++;
      const others = photos.filter((p) => p.id === f.id && p.file !== f.file);
      const rows = personRows(enrolFrom(others, (s) => s.a.vector !== null), cfg.match.template);
      const ok = rows.length > 0 && Math.max(...rows.map((r) => dot(r, f.a.vector!))) >= thr;
      if (ok) accNo++;
      if (ok && !refused) accWith++;
      if (ok && refused) lost++;
    }
    const r: GateCost = {
      variant: v.name,
      frames: frames.length,
      detected,
      refused_by: refusedBy,
      refused_any: any,
      accepted_no_gates: accNo,
      accepted_with_gates: accWith,
      refused_but_recognised: lost,
      sharpness_p5: +percentile(sharp, 5).toFixed(0),
      sharpness_p50: +percentile(sharp, 50).toFixed(0),
    };
    opts.log(`  ${v.name.padEnd(9)} (blur ${v.blur}, noise ${v.noise}, gain ${v.gain}, JPEG ${v.jpeg}): detected ${detected}/${frames.length}; refused ${any} ${JSON.stringify(refusedBy)}; recognised ${accNo} without gates, ${accWith} with; gates cost ${lost} recognisable frames; sharpness p5/p50 ${r.sharpness_p5}/${r.sharpness_p50}`);
    out.push(r);
  }
  return out;
}
