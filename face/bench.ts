import { readFileSync } from 'node:fs';
import type { FaceConfig } from './config.js';
import { percentile } from './dataset.js';
import type { FaceEngine } from './engine.js';
import { decodeImage, type RgbImage } from './image.js';
import { TemplateIndex } from './matcher.js';
import { FacePipeline } from './pipeline.js';
import { MatchConfirmer, judgeMatch } from './decision.js';
import { decisionFor } from './engines.js';

/** Pieces of `hadir bench face` (the command prints; these measure). */

/** A 640x480 landscape frame cut from a photo (cover-fit), JPEG as a camera would deliver it. */
export async function benchFrame(path: string, width = 640, height = 480): Promise<{ jpeg: Buffer; image: RgbImage }> {
  const sharp = (await import('sharp')).default;
  const jpeg = await sharp(readFileSync(path)).rotate().resize(width, height, { fit: 'cover', position: 'attention' }).jpeg({ quality: 90 }).toBuffer();
  return { jpeg, image: await decodeImage(jpeg) };
}

/** n random unit vectors (seeded LCG, so every run searches the same matrix). */
export function randomIndex(modelId: string, dims: number, n: number, seed = 42): TemplateIndex {
  const idx = new TemplateIndex(modelId, dims, n);
  let s = seed >>> 0;
  const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
  for (let i = 0; i < n; i++) {
    const v = new Float32Array(dims);
    let norm = 0;
    for (let k = 0; k < dims; k++) norm += (v[k] = rnd()) ** 2;
    norm = Math.sqrt(norm);
    for (let k = 0; k < dims; k++) v[k]! /= norm;
    idx.add(`nip-${i % Math.ceil(n / 3)}`, v); // ~3 templates per person, as enrolment makes
  }
  return idx;
}

export async function timeIt(n: number, warm: number, fn: () => Promise<unknown> | unknown): Promise<number[]> {
  for (let i = 0; i < warm; i++) await fn();
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn();
    out.push(performance.now() - t);
  }
  return out;
}

/**
 * The whole per-frame decision on one frame: detect, choose, gates, align, embed (crop + mirror),
 * 1:N search, the decision (threshold for the gallery size, margin, 2-frame confirmation), liveness.
 */
export async function benchPipeline(engine: FaceEngine, cfg: FaceConfig, frame: RgbImage, index: TemplateIndex, n: number, warm: number): Promise<{ total: number[]; stages: Record<string, number[]>; faces: number; cpuMsPerFrame: number }> {
  const pipe = new FacePipeline(engine, cfg);
  const stages: Record<string, number[]> = {};
  const d = decisionFor(engine, cfg, index.people);
  const confirmer = new MatchConfirmer(d);
  let faces = 0;
  const one = async () => {
    const a = await pipe.analyse(frame, { index, liveness: engine.hasLiveness, gates: false });
    const t = performance.now();
    confirmer.step(judgeMatch(a.match ?? null, d));
    a.ms.search = (a.ms.search ?? 0) + performance.now() - t;
    faces = a.faces.length;
    for (const [k, v] of Object.entries(a.ms)) (stages[k] ??= []).push(v);
  };
  for (let i = 0; i < warm; i++) await one();
  // CPU time of the whole process (all threads) per frame: unlike wall time it barely changes when
  // other processes load the machine, so it is the honest figure on a shared box.
  const cpu0 = process.cpuUsage();
  const total = await timeIt(n, 0, one);
  const cpu = process.cpuUsage(cpu0);
  for (const k of Object.keys(stages)) stages[k] = stages[k]!.slice(-n);
  return { total, stages, faces, cpuMsPerFrame: (cpu.user + cpu.system) / 1000 / n };
}

export const p50 = (xs: number[]) => percentile(xs, 50);
export const p95 = (xs: number[]) => percentile(xs, 95);
