import { z } from 'zod';
import { dateSchema } from '../attendance/time.js';

/** Exception types: leave of PP 11/2017, dinas luar / SPT, tugas belajar. */
export const EXCEPTION_TYPES = ['cuti_tahunan', 'cuti_besar', 'cuti_sakit', 'cuti_melahirkan', 'cuti_alasan_penting', 'cltn', 'dinas_luar', 'tugas_belajar'] as const;
export type ExceptionType = (typeof EXCEPTION_TYPES)[number];

const band = z.strictObject({
  from: z.number().int().min(1),
  to: z.number().int().min(1).nullable(),
  pct: z.number().min(0).max(100),
});

function checkBands(bands: z.output<typeof band>[], path: string, ctx: z.RefinementCtx): void {
  let expected = 1;
  for (const [i, b] of bands.entries()) {
    if (b.from !== expected) ctx.addIssue({ code: 'custom', path: [path, i, 'from'], message: `band must start at ${expected} minutes (bands must follow each other without gaps or overlaps)` });
    if (b.to === null) {
      if (i !== bands.length - 1) ctx.addIssue({ code: 'custom', path: [path, i, 'to'], message: 'only the last band may be open-ended (to: null)' });
      expected = Number.POSITIVE_INFINITY;
    } else {
      if (b.to < b.from) ctx.addIssue({ code: 'custom', path: [path, i, 'to'], message: '"to" is below "from"' });
      expected = b.to + 1;
    }
  }
  if (bands.length && bands[bands.length - 1]!.to !== null) ctx.addIssue({ code: 'custom', path: [path, bands.length - 1, 'to'], message: 'the last band must be open-ended (to: null) so every minute has a percent' });
}

/** One Perbup version (DESIGN "TPP rules"). Extra optional keys: `missingMidPct` for 3-punch days. */
export const tppRuleSchema = z
  .strictObject({
    id: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'letters, digits, . _ -'),
    effectiveFrom: dateSchema,
    weights: z.strictObject({ disiplin: z.number().min(0).max(100), produktivitas: z.number().min(0).max(100) }),
    graceMinutes: z.number().int().min(0).max(240),
    late: z.array(band).min(1),
    early: z.array(band).min(1),
    missingCheckInPct: z.number().min(0).max(100),
    missingCheckOutPct: z.number().min(0).max(100),
    /** The midday punch of a 3-punch schedule; defaults to missingCheckOutPct. */
    missingMidPct: z.number().min(0).max(100).optional(),
    absentPct: z.number().min(0).max(100),
    /** Per exception type; a type not listed is 0 — except cltn (unpaid leave), which is absentPct unless listed. */
    excusedPct: z.partialRecord(z.enum(EXCEPTION_TYPES), z.number().min(0).max(100)),
    monthlyCapPct: z.number().min(0).max(100),
  })
  .superRefine((r, ctx) => {
    if (r.weights.disiplin + r.weights.produktivitas !== 100) ctx.addIssue({ code: 'custom', path: ['weights'], message: `disiplin + produktivitas must be 100 (is ${r.weights.disiplin + r.weights.produktivitas})` });
    checkBands(r.late, 'late', ctx);
    checkBands(r.early, 'early', ctx);
  });
export type TppRule = z.output<typeof tppRuleSchema>;

/** The band for minutes (already net of grace); index is 0-based (TL1 = index 0). */
export function bandFor(bands: TppRule['late'], minutes: number): { index: number; pct: number } | null {
  if (minutes <= 0) return null;
  for (let i = 0; i < bands.length; i++) {
    const b = bands[i]!;
    if (minutes >= b.from && (b.to === null || minutes <= b.to)) return { index: i, pct: b.pct };
  }
  return null;
}

export function excusedPct(rule: TppRule, type: ExceptionType): number {
  const v = rule.excusedPct[type];
  if (v !== undefined) return v;
  return type === 'cltn' ? rule.absentPct : 0;
}

/** The version in force on a date: the latest effectiveFrom not after it. `rules` sorted ascending. */
export function ruleFor(rules: readonly TppRule[], date: string): TppRule | null {
  let found: TppRule | null = null;
  for (const r of rules) {
    if (r.effectiveFrom <= date) found = r;
    else break;
  }
  return found;
}

export function bandLabel(b: { from: number; to: number | null }): string {
  return b.to === null ? `>= ${b.from} mnt` : `${b.from}–${b.to} mnt`;
}
