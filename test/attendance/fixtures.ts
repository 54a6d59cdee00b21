import { compileSchedule, BUILTIN_SCHEDULES, type Schedule } from '../../hub/attendance/schedule.js';
import type { EmployeeInput, ExceptionIn, MonthContext, PunchIn } from '../../hub/attendance/derive.js';
import { monthDates } from '../../hub/attendance/time.js';
import { tppRuleSchema, type TppRule } from '../../hub/tpp/rules.js';

/** The rule file exactly as printed in DESIGN.md "TPP rules". */
export const DESIGN_RULE = {
  id: 'perbup-2026-01',
  effectiveFrom: '2026-01-01',
  weights: { disiplin: 40, produktivitas: 60 },
  graceMinutes: 0,
  late: [{ from: 1, to: 30, pct: 0.5 }, { from: 31, to: 60, pct: 1 }, { from: 61, to: 90, pct: 1.25 }, { from: 91, to: null, pct: 1.5 }],
  early: [{ from: 1, to: 30, pct: 0.5 }, { from: 31, to: 60, pct: 1 }, { from: 61, to: 90, pct: 1.25 }, { from: 91, to: null, pct: 1.5 }],
  missingCheckInPct: 1.5,
  missingCheckOutPct: 1.5,
  absentPct: 3,
  excusedPct: { cuti_tahunan: 0, cuti_sakit: 0, cuti_besar: 0, cuti_melahirkan: 0, cuti_alasan_penting: 0, dinas_luar: 0, tugas_belajar: 0 },
  monthlyCapPct: 100,
};
export const rule = (over: Partial<typeof DESIGN_RULE> = {}): TppRule => tppRuleSchema.parse({ ...DESIGN_RULE, ...over });

export function context(month: string, over: Partial<MonthContext> & { extraSchedules?: Schedule[] } = {}): MonthContext {
  const schedules = new Map([...BUILTIN_SCHEDULES, ...(over.extraSchedules ?? [])].map((s) => [s.code, compileSchedule(s)]));
  return {
    month,
    dates: monthDates(month),
    schedules,
    holidays: new Map(),
    holidayExceptions: new Set(),
    rules: [rule()],
    siteUnit: new Map([['S1', 'U1'], ['S2', 'U2']]),
    unitsWithSites: new Set(['U1', 'U2']),
    unitOffset: new Map(),
    defaultOffset: 420,
    sitePolicy: 'unit',
    events: new Map(),
    ...over,
  };
}

/** A punch at a local WIB wall time, e.g. "2026-10-05T07:31" (site S1 by default). */
export function wib(local: string, site: string | null = 'S1', pending = false): PunchIn {
  return { id: local, utcMin: Math.floor(Date.parse(`${local}:00+07:00`) / 60_000), site, pending };
}

export function employee(punches: PunchIn[], over: Partial<EmployeeInput> = {}): EmployeeInput {
  return {
    nip: '198501012010011001',
    assignments: [{ from: '0000-01-01', unit: 'U1', opd: 'OPD1', schedule: 'KANTOR5' }],
    punches: [...punches].sort((a, b) => a.utcMin - b.utcMin),
    exceptions: [] as ExceptionIn[],
    roster: new Map(),
    ...over,
  };
}
