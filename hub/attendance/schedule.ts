import { z } from 'zod';
import { dateSchema, parseClock } from './time.js';

/**
 * Schedules are data: named work patterns with per-weekday shifts, each shift listing the punches a
 * day requires (1–3: masuk, siang, pulang) and the window each may fall in. Times are "HH:MM"
 * relative to the date the shift starts; "HH:MM+1" is the next day (night shifts).
 */
const clock = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d(\+1)?$/, 'expected HH:MM or HH:MM+1 (next day)');

export const punchWindowSchema = z.strictObject({
  kind: z.enum(['in', 'mid', 'out']),
  /** Shown to people: "masuk", "siang", "pulang". */
  label: z.string().min(1),
  from: clock,
  to: clock,
});
export const shiftSchema = z
  .strictObject({
    start: clock,
    end: clock,
    punches: z.array(punchWindowSchema).min(1).max(3),
  })
  .superRefine((s, ctx) => {
    if (parseClock(s.end) <= parseClock(s.start)) ctx.addIssue({ code: 'custom', message: 'end must be after start (use HH:MM+1 for a shift ending the next day)', path: ['end'] });
    for (const [i, p] of s.punches.entries())
      if (parseClock(p.to) < parseClock(p.from)) ctx.addIssue({ code: 'custom', message: 'window "to" is before "from"', path: ['punches', i, 'to'] });
    const kinds = s.punches.map((p) => p.kind);
    if (new Set(kinds).size !== kinds.length) ctx.addIssue({ code: 'custom', message: 'each punch kind (in, mid, out) at most once', path: ['punches'] });
  });

const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export type WeekdayKey = (typeof WEEKDAYS)[number];
const weekSchema = z.strictObject(Object.fromEntries(WEEKDAYS.map((d) => [d, shiftSchema.nullable().optional()])) as Record<WeekdayKey, z.ZodOptional<z.ZodNullable<typeof shiftSchema>>>);

export const scheduleSchema = z.discriminatedUnion('type', [
  z.strictObject({
    code: z.string().regex(/^[A-Z0-9_]{2,32}$/, 'code: capitals, digits, _'),
    name: z.string().min(1),
    type: z.literal('weekly'),
    /** A weekday missing or null is an off day. */
    days: weekSchema,
    /** Date-ranged replacements of some weekdays (Ramadan hours …); the last matching wins. */
    overrides: z.array(z.strictObject({ name: z.string().min(1), from: dateSchema, to: dateSchema, days: weekSchema })).default([]),
  }),
  z.strictObject({
    code: z.string().regex(/^[A-Z0-9_]{2,32}$/, 'code: capitals, digits, _'),
    name: z.string().min(1),
    type: z.literal('roster'),
    /** Shift keys used in the roster (att_roster); a date without a roster entry is off. Holidays do not apply. */
    shifts: z.record(z.string().regex(/^[A-Z0-9]{1,8}$/), shiftSchema),
  }),
]);
export type Schedule = z.output<typeof scheduleSchema>;
export type Shift = z.output<typeof shiftSchema>;

/** A shift in minutes, ready for the deriver. */
export interface CompiledShift {
  key: string;
  start: number;
  end: number;
  windows: { kind: 'in' | 'mid' | 'out'; label: string; from: number; to: number }[];
}
export interface CompiledSchedule {
  code: string;
  name: string;
  roster: boolean;
  /** weekly: shift per weekday 0=Sun…6=Sat. */
  week: (CompiledShift | null)[];
  overrides: { name: string; from: string; to: string; week: (CompiledShift | null | undefined)[] }[];
  shifts: Map<string, CompiledShift>;
}

function compileShift(key: string, s: Shift): CompiledShift {
  return {
    key,
    start: parseClock(s.start),
    end: parseClock(s.end),
    windows: s.punches.map((p) => ({ kind: p.kind, label: p.label, from: parseClock(p.from), to: parseClock(p.to) })),
  };
}

export function compileSchedule(s: Schedule): CompiledSchedule {
  if (s.type === 'roster') {
    return { code: s.code, name: s.name, roster: true, week: [], overrides: [], shifts: new Map(Object.entries(s.shifts).map(([k, v]) => [k, compileShift(k, v)])) };
  }
  const week = WEEKDAYS.map((d) => (s.days[d] ? compileShift(d, s.days[d]!) : null));
  const overrides = s.overrides.map((o) => ({
    name: o.name,
    from: o.from,
    to: o.to,
    // undefined = weekday not overridden; null = off during the override
    week: WEEKDAYS.map((d) => (o.days[d] === undefined ? undefined : o.days[d] === null ? null : compileShift(d, o.days[d]!))),
  }));
  return { code: s.code, name: s.name, roster: false, week, overrides, shifts: new Map() };
}

/** The shift of a weekly schedule on a date, with the override that set it (if any). */
export function weeklyShift(s: CompiledSchedule, date: string, weekday: number): { shift: CompiledShift | null; override: string | null } {
  for (let i = s.overrides.length - 1; i >= 0; i--) {
    const o = s.overrides[i]!;
    if (date >= o.from && date <= o.to && o.week[weekday] !== undefined) return { shift: o.week[weekday] ?? null, override: o.name };
  }
  return { shift: s.week[weekday] ?? null, override: null };
}

// ---- built-in schedules --------------------------------------------------------------------

function office(start: string, end: string, punches?: Shift['punches']): Shift {
  // DESIGN "Schedules": check-in = earliest punch from 05:00 up to the end time; check-out =
  // latest punch from 12:00 to 23:59 other than the check-in.
  return { start, end, punches: punches ?? [{ kind: 'in', label: 'masuk', from: '05:00', to: end }, { kind: 'out', label: 'pulang', from: '12:00', to: '23:59' }] };
}
const monThu = (s: Shift) => ({ mon: s, tue: s, wed: s, thu: s });

/** Ramadan hours are dates that change every year: add them as an override (docs/attendance.md). */
export const BUILTIN_SCHEDULES: Schedule[] = [
  { code: 'KANTOR5', name: 'Kantor 5 hari (Sen–Kam 07:30–16:00, Jum 07:30–16:30)', type: 'weekly', days: { ...monThu(office('07:30', '16:00')), fri: office('07:30', '16:30') }, overrides: [] },
  {
    code: 'KANTOR5_3X',
    name: 'Kantor 5 hari, 3 kali absen (masuk, siang, pulang)',
    type: 'weekly',
    days: {
      ...monThu(office('07:30', '16:00', [
        { kind: 'in', label: 'masuk', from: '05:00', to: '12:00' },
        { kind: 'mid', label: 'siang', from: '12:00', to: '13:30' },
        { kind: 'out', label: 'pulang', from: '13:31', to: '23:59' },
      ])),
      fri: office('07:30', '16:30', [
        { kind: 'in', label: 'masuk', from: '05:00', to: '11:30' },
        { kind: 'mid', label: 'siang', from: '11:30', to: '13:30' },
        { kind: 'out', label: 'pulang', from: '13:31', to: '23:59' },
      ]),
    },
    overrides: [],
  },
  {
    code: 'SEKOLAH6',
    name: 'Sekolah 6 hari (Sen–Kam 07:00–13:30, Jum 07:00–11:00, Sab 07:00–12:30)',
    type: 'weekly',
    days: { ...monThu(office('07:00', '13:30', [{ kind: 'in', label: 'masuk', from: '05:00', to: '13:30' }, { kind: 'out', label: 'pulang', from: '10:00', to: '23:59' }])), fri: office('07:00', '11:00', [{ kind: 'in', label: 'masuk', from: '05:00', to: '11:00' }, { kind: 'out', label: 'pulang', from: '09:00', to: '23:59' }]), sat: office('07:00', '12:30', [{ kind: 'in', label: 'masuk', from: '05:00', to: '12:30' }, { kind: 'out', label: 'pulang', from: '09:00', to: '23:59' }]) },
    overrides: [],
  },
  {
    code: 'GURU5',
    name: 'Guru 5 hari (Sen–Jum 07:00–14:00)',
    type: 'weekly',
    days: Object.fromEntries(['mon', 'tue', 'wed', 'thu', 'fri'].map((d) => [d, office('07:00', '14:00', [{ kind: 'in', label: 'masuk', from: '05:00', to: '14:00' }, { kind: 'out', label: 'pulang', from: '10:00', to: '23:59' }])])),
    overrides: [],
  },
  {
    code: 'SHIFT_PKM',
    name: 'Shift puskesmas (pagi 07:00–14:00, siang 14:00–21:00, malam 21:00–07:00)',
    type: 'roster',
    shifts: {
      P: { start: '07:00', end: '14:00', punches: [{ kind: 'in', label: 'masuk', from: '05:00', to: '14:00' }, { kind: 'out', label: 'pulang', from: '10:00', to: '20:59' }] },
      S: { start: '14:00', end: '21:00', punches: [{ kind: 'in', label: 'masuk', from: '12:00', to: '21:00' }, { kind: 'out', label: 'pulang', from: '17:00', to: '23:59' }] },
      M: { start: '21:00', end: '07:00+1', punches: [{ kind: 'in', label: 'masuk', from: '19:00', to: '07:00+1' }, { kind: 'out', label: 'pulang', from: '01:00+1', to: '11:00+1' }] },
    },
  },
];
