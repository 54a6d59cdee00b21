import { mulberry32 } from '../lib/random.js';

/** Small statistics for `hadir eval faces`. Pure. */

/** ln C(n, k) + k ln p + (n−k) ln(1−p), summed to the binomial CDF P(X ≤ k). */
function binomCdf(k: number, n: number, p: number): number {
  if (p <= 0) return 1;
  if (p >= 1) return k >= n ? 1 : 0;
  let logC = 0;
  let sum = 0;
  for (let i = 0; i <= k; i++) {
    if (i > 0) logC += Math.log((n - i + 1) / i);
    sum += Math.exp(logC + i * Math.log(p) + (n - i) * Math.log1p(-p));
  }
  return Math.min(1, sum);
}

/**
 * One-sided 95 % upper bound of a rate seen k times in n trials: the rule of three (3/n) when
 * k = 0, else the exact (Clopper–Pearson) bound.
 */
export function upper95(k: number, n: number): number {
  if (n <= 0) return 1;
  if (k === 0) return Math.min(1, 3 / n);
  if (k >= n) return 1;
  let lo = k / n, hi = 1;
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (binomCdf(k, n, mid) > 0.05) lo = mid;
    else hi = mid;
  }
  return hi;
}

/** Seeded PRNG (mulberry32) and standard normal draws (Box–Muller): every run pads the same way. */
export function rng(seed: number): { uniform(): number; normal(): number } {
  const uniform = mulberry32(seed);
  return { uniform, normal: () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform()) };
}

/**
 * `n` synthetic person templates: the mean of the real person templates plus isotropic Gaussian
 * noise of the same total variance, L2-normalised. Used only to pad 1:N galleries beyond the
 * identities there are photos of. Isotropic on purpose: a covariance estimated from the real
 * templates would mix the probes' own identities into the padding (a stranger then "matches" a
 * synthetic blend of themselves: faces-dev 18 of 61 at 100 people). The eval prints how their
 * impostor scores compare with real ones.
 */
export function syntheticTemplates(real: readonly Float32Array[], n: number, seed = 17): Float32Array[] {
  const k = real.length;
  const d = real[0]!.length;
  const mu = new Float64Array(d);
  for (const v of real) for (let i = 0; i < d; i++) mu[i]! += v[i]! / k;
  let total = 0;
  for (const v of real) for (let i = 0; i < d; i++) total += (v[i]! - mu[i]!) ** 2 / Math.max(1, k - 1);
  const sigma = Math.sqrt(total / d);
  const r = rng(seed);
  const out: Float32Array[] = [];
  for (let s = 0; s < n; s++) out.push(normalised(Float32Array.from(mu, (m) => m + sigma * r.normal())));
  return out;
}

function normalised(v: Float32Array): Float32Array {
  let norm = 0;
  for (let i = 0; i < v.length; i++) norm += v[i]! * v[i]!;
  norm = Math.sqrt(norm) || 1;
  return Float32Array.from(v, (x) => x / norm);
}

/** Threshold at `fmr` from an exponential tail fitted above the 99th percentile of the impostor scores. */
export function tailThreshold(impostor: number[], fmr: number): number {
  const s = [...impostor].sort((a, b) => a - b);
  const u = s[Math.floor(0.99 * (s.length - 1))]!;
  const ex = s.filter((x) => x > u).map((x) => x - u);
  const beta = ex.reduce((a, b) => a + b, 0) / Math.max(1, ex.length);
  return u + beta * Math.log(0.01 / fmr);
}
