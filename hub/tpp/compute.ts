import type { DayRecord, DeductionLine } from '../attendance/derive.js';
import { ruleFor, type TppRule } from './rules.js';

/**
 * Monthly TPP of one employee (DESIGN "TPP rules"), pure and exact:
 *   disiplin      = base × weights.disiplin/100 × (1 − min(sum, cap)/100)
 *   produktivitas = base × weights.produktivitas/100 × score/100   (no score → 0, reported missing)
 *   total         = floor(disiplin + produktivitas), rounded down once, at the end.
 * In the month of an end of service (DESIGN is silent; docs/attendance.md "Akhir masa kerja") the
 * base is paid pro rata first: base × working days in service / working days of the month, where a
 * working day lost to the exit is a not_employed day that keeps its shift key (derive.ts).
 * Percents, weights and scores are scaled to integers and the sum is done in BigInt, so a total
 * like 1 930 000 never comes out as 1 929 999 through binary floating point.
 */
export interface TppDay {
  date: string;
  status: string;
  code: string;
  minutes_late: number;
  minutes_early: number;
  pct: number;
  lines: DeductionLine[];
}
export interface TppResult {
  month: string;
  base: number;
  /** The rule whose weights and cap apply to the month: the one in force on its last counted day. */
  rule: string | null;
  deduction_pct: number;
  cap_pct: number;
  applied_pct: number;
  weight_disiplin: number;
  weight_produktivitas: number;
  disiplin: number;
  produktivitas_score: number | null;
  produktivitas_missing: boolean;
  produktivitas: number;
  total: number;
  /** Set in the month of an end of service: the base was paid for these working days only. */
  prorata: { work_days_in_service: number; work_days: number; base: number } | null;
  days: TppDay[];
}

/** Working days in service and working days lost to an end of service (not_employed with a shift). */
function serviceDays(days: readonly DayRecord[]): { inService: number; lost: number } {
  let inService = 0;
  let lost = 0;
  for (const d of days) {
    if (d.status === 'not_employed') {
      if (d.shift !== null) lost++;
    } else if (d.status !== 'off' && d.status !== 'holiday') inService++;
  }
  return { inService, lost };
}

const P = 10_000n; // percent and weight scale (4 decimals)
const scale = (x: number) => BigInt(Math.round(x * 10_000));

/** Rupiah with at most 2 decimals from a scaled fraction (display only; `total` is exact). */
function money(num: bigint, den: bigint): number {
  return Number((num * 100n) / den) / 100;
}

export function computeTpp(input: {
  month: string;
  base: number;
  days: readonly DayRecord[];
  rules: readonly TppRule[];
  score: number | null;
  /** Days after this date are not yet counted (a month still running): status "future", 0 %. */
  through?: string;
}): TppResult {
  const days: TppDay[] = input.days.map((d) =>
    input.through && d.date > input.through
      ? { date: d.date, status: 'future', code: '', minutes_late: 0, minutes_early: 0, pct: 0, lines: [] }
      : { date: d.date, status: d.status, code: d.code, minutes_late: d.minutes_late, minutes_early: d.minutes_early, pct: d.pct, lines: d.lines },
  );
  const counted = days.filter((d) => d.status !== 'future' && d.status !== 'not_employed');
  const lastDay = counted.length ? counted[counted.length - 1]!.date : (days[days.length - 1]?.date ?? `${input.month}-01`);
  const rule = ruleFor(input.rules, lastDay);
  let sumScaled = 0n;
  for (const d of days) sumScaled += scale(d.pct);
  const deduction_pct = Number(sumScaled) / 10_000;
  if (!rule) {
    return {
      month: input.month, base: input.base, rule: null, deduction_pct, cap_pct: 0, applied_pct: 0, weight_disiplin: 0, weight_produktivitas: 0,
      disiplin: 0, produktivitas_score: input.score, produktivitas_missing: input.score === null, produktivitas: 0, total: 0, prorata: null, days,
    };
  }
  // Pro rata (end of service): counted on the derived days, not on how far a running month has got.
  const sd = serviceDays(input.days);
  const workIn = BigInt(sd.inService);
  const workAll = BigInt(sd.inService + sd.lost);
  const prorata = sd.lost > 0 ? { work_days_in_service: sd.inService, work_days: sd.inService + sd.lost, base: money(BigInt(input.base) * workIn, workAll) } : null;
  if (prorata) {
    // the explanation goes with the last day in service (the days out of service are not listed in reports)
    const last = days[input.days.findLastIndex((d) => d.status !== 'not_employed')];
    if (last)
      last.lines = [
        ...last.lines,
        { rule: rule.id, item: `prorata masa tugas / pro rata in service: ${sd.inService}/${sd.inService + sd.lost} hari kerja, dasar ${input.base} × ${sd.inService}/${sd.inService + sd.lost} = ${prorata.base}`, pct: 0 },
      ];
  }
  const cap = scale(rule.monthlyCapPct);
  const applied = sumScaled < cap ? sumScaled : cap;
  const base = BigInt(input.base);
  const wd = scale(rule.weights.disiplin);
  const wp = scale(rule.weights.produktivitas);
  const sc = input.score === null ? 0n : scale(input.score);
  // disiplin = base·wd/(100·P) · (100·P − applied)/(100·P); produktivitas = base·wp/(100·P) · sc/(100·P)
  const H = 100n * P;
  // pro rata: base × workIn / workAll, kept as a fraction so the total is still rounded down once
  const [num, div] = prorata ? [workIn, workAll] : [1n, 1n];
  const dNum = base * num * wd * (H - applied);
  const pNum = base * num * wp * sc;
  const den = H * H * div;
  return {
    month: input.month,
    base: input.base,
    rule: rule.id,
    deduction_pct,
    cap_pct: rule.monthlyCapPct,
    applied_pct: Number(applied) / 10_000,
    weight_disiplin: rule.weights.disiplin,
    weight_produktivitas: rule.weights.produktivitas,
    disiplin: money(dNum, den),
    produktivitas_score: input.score,
    produktivitas_missing: input.score === null,
    produktivitas: money(pNum, den),
    total: Number((dNum + pNum) / den),
    prorata,
    days,
  };
}
