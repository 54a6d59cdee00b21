import { describe, expect, it } from 'vitest';
import { deriveMonth, totals } from '../../hub/attendance/derive.js';
import type { Schedule } from '../../hub/attendance/schedule.js';
import { EXCEPTION_TYPES } from '../../hub/tpp/rules.js';
import { context, employee, rule, wib } from './fixtures.js';

// October 2026: Thu 1st; Mon 5th … Fri 9th; Sat 10th, Sun 11th.
const MONTH = '2026-10';
const day = (days: ReturnType<typeof deriveMonth>, date: string) => days.find((d) => d.date === date)!;

describe('KANTOR5 band edges (hand-worked, DESIGN rule: 1–30 .5, 31–60 1, 61–90 1.25, >=91 1.5)', () => {
  // check-in on Mon 2026-10-05 (start 07:30), check-out on time at 16:00
  const lateCases: [string, number, string, number][] = [
    ['07:30', 0, 'H', 0],
    ['07:30:59', 0, 'H', 0], // seconds dropped: still 07:30
    ['07:31', 1, 'TL1', 0.5],
    ['08:00', 30, 'TL1', 0.5],
    ['08:01', 31, 'TL2', 1],
    ['08:30', 60, 'TL2', 1],
    ['08:31', 61, 'TL3', 1.25],
    ['09:00', 90, 'TL3', 1.25],
    ['09:01', 91, 'TL4', 1.5],
  ];
  for (const [t, minutes, code, pct] of lateCases) {
    it(`check-in ${t} → ${minutes} min late, ${code}, ${pct} %`, () => {
      const p = t.length > 5 ? { ...wib(`2026-10-05T${t.slice(0, 5)}`), utcMin: Math.floor(Date.parse(`2026-10-05T${t}+07:00`) / 60_000) } : wib(`2026-10-05T${t}`);
      const d = day(deriveMonth(context(MONTH), employee([p, wib('2026-10-05T16:00')])), '2026-10-05');
      expect(d.minutes_late).toBe(minutes);
      expect(d.code).toBe(code);
      expect(d.pct).toBe(pct);
      expect(d.status).toBe(minutes ? 'late' : 'present');
      if (minutes) expect(d.lines[0]).toMatchObject({ rule: 'perbup-2026-01', pct });
    });
  }
  // check-out on Fri 2026-10-09 (end 16:30), check-in on time
  const earlyCases: [string, number, string, number][] = [
    ['16:30', 0, 'H', 0],
    ['16:29', 1, 'PSW1', 0.5],
    ['16:00', 30, 'PSW1', 0.5],
    ['15:59', 31, 'PSW2', 1],
    ['15:30', 60, 'PSW2', 1],
    ['15:29', 61, 'PSW3', 1.25],
    ['15:00', 90, 'PSW3', 1.25],
    ['14:59', 91, 'PSW4', 1.5],
  ];
  for (const [t, minutes, code, pct] of earlyCases) {
    it(`Friday check-out ${t} → ${minutes} min early, ${code}, ${pct} %`, () => {
      const d = day(deriveMonth(context(MONTH), employee([wib('2026-10-09T07:15'), wib(`2026-10-09T${t}`)])), '2026-10-09');
      expect(d.minutes_early).toBe(minutes);
      expect(d.code).toBe(code);
      expect(d.pct).toBe(pct);
    });
  }
  it('late and early on the same day add up (TL2 + PSW1 = 1.5 %), with the rule line of each', () => {
    const d = day(deriveMonth(context(MONTH), employee([wib('2026-10-06T08:15'), wib('2026-10-06T15:50')])), '2026-10-06');
    expect(d).toMatchObject({ status: 'late_early', code: 'TL2 PSW1', minutes_late: 45, minutes_early: 10, pct: 1.5, in: '08:15', out: '15:50' });
    expect(d.lines.map((l) => l.item)).toEqual(['late[2] 31–60 mnt', 'early[1] 1–30 mnt']);
  });
  it('earliest punch is the check-in, latest other punch the check-out', () => {
    const d = day(deriveMonth(context(MONTH), employee([wib('2026-10-06T07:40'), wib('2026-10-06T07:10'), wib('2026-10-06T12:05'), wib('2026-10-06T16:20'), wib('2026-10-06T16:02')])), '2026-10-06');
    expect(d).toMatchObject({ in: '07:10', out: '16:20', status: 'present', pct: 0 });
  });
});

describe('grace minutes', () => {
  const ctx = context(MONTH, { rules: [rule({ graceMinutes: 5 })] });
  it('7 minutes late with grace 5 counts as 2 (TL1)', () => {
    const d = day(deriveMonth(ctx, employee([wib('2026-10-05T07:37'), wib('2026-10-05T16:00')])), '2026-10-05');
    expect(d).toMatchObject({ minutes_late: 2, code: 'TL1', pct: 0.5 });
  });
  it('5 minutes late with grace 5 is on time; 35 minutes with grace 5 is 30 → TL1', () => {
    expect(day(deriveMonth(ctx, employee([wib('2026-10-05T07:35'), wib('2026-10-05T16:00')])), '2026-10-05')).toMatchObject({ minutes_late: 0, code: 'H', pct: 0 });
    expect(day(deriveMonth(ctx, employee([wib('2026-10-05T08:05'), wib('2026-10-05T16:00')])), '2026-10-05')).toMatchObject({ minutes_late: 30, code: 'TL1', pct: 0.5 });
  });
  it('grace applies to early leaving too', () => {
    expect(day(deriveMonth(ctx, employee([wib('2026-10-05T07:00'), wib('2026-10-05T15:52')])), '2026-10-05')).toMatchObject({ minutes_early: 3, code: 'PSW1' });
  });
});

describe('missing punches and TK', () => {
  it('only a morning punch: missing check-out (TAP) 1.5 %', () => {
    const d = day(deriveMonth(context(MONTH), employee([wib('2026-10-05T07:20')])), '2026-10-05');
    expect(d).toMatchObject({ status: 'missing_out', code: 'TAP', pct: 1.5, in: '07:20', out: null });
  });
  it('only an afternoon punch after the end time: missing check-in (TAM) 1.5 %', () => {
    const d = day(deriveMonth(context(MONTH), employee([wib('2026-10-05T16:05')])), '2026-10-05');
    expect(d).toMatchObject({ status: 'missing_in', code: 'TAM', pct: 1.5, in: null, out: '16:05' });
  });
  it('only a late punch before the end time is a (very late) check-in, not a check-out: TL4 + TAP', () => {
    const d = day(deriveMonth(context(MONTH), employee([wib('2026-10-05T14:00')])), '2026-10-05');
    expect(d).toMatchObject({ status: 'missing_out', code: 'TL4 TAP', minutes_late: 390, pct: 3 });
  });
  it('no punch on a working day: TK 3 % (absentPct, not the missing percents); weekend is off', () => {
    const days = deriveMonth(context(MONTH), employee([]));
    expect(day(days, '2026-10-05')).toMatchObject({ status: 'absent', code: 'TK', pct: 3, lines: [{ item: 'absentPct', pct: 3 }] });
    expect(day(days, '2026-10-10')).toMatchObject({ status: 'off', pct: 0 });
    const t = totals(days);
    expect(t.work_days).toBe(22); // October 2026 has 22 weekdays
    expect(t.absent_days).toBe(22);
    expect(t.deduction_pct).toBe(66);
  });
  it('a punch before 05:00 counts for nothing', () => {
    expect(day(deriveMonth(context(MONTH), employee([wib('2026-10-05T04:59')])), '2026-10-05')).toMatchObject({ status: 'absent' });
  });
  it('a clock-unverified punch waiting for review is not counted but shown', () => {
    const d = day(deriveMonth(context(MONTH), employee([wib('2026-10-05T07:20', 'S1', true), wib('2026-10-05T16:10')])), '2026-10-05');
    expect(d).toMatchObject({ status: 'missing_in', pending_review: 1 });
  });
});

describe('leave, duty and holidays', () => {
  for (const type of EXCEPTION_TYPES) {
    it(`${type} on a working day`, () => {
      const days = deriveMonth(context(MONTH), employee([], { exceptions: [{ id: 7, type, from: '2026-10-05', to: '2026-10-06' }] }));
      const d = day(days, '2026-10-05');
      expect(d.status).toBe(type);
      expect(d.exception_id).toBe(7);
      // cltn (unpaid leave) is not in the DESIGN rule's excusedPct: it costs absentPct; the others 0
      expect(d.pct).toBe(type === 'cltn' ? 3 : 0);
      expect(day(days, '2026-10-07').status).toBe('absent');
      if (type === 'dinas_luar') expect(totals(days).present_days).toBe(2);
    });
  }
  it('an approved leave wins over punches; a rule may charge a leave type', () => {
    const ctx = context(MONTH, { rules: [rule({ excusedPct: { ...rule().excusedPct, cuti_alasan_penting: 0.25 } as never })] });
    const d = day(deriveMonth(ctx, employee([wib('2026-10-05T09:00')], { exceptions: [{ id: 1, type: 'cuti_alasan_penting', from: '2026-10-05', to: '2026-10-05' }] })), '2026-10-05');
    expect(d).toMatchObject({ status: 'cuti_alasan_penting', code: 'CAP', pct: 0.25, lines: [{ item: 'excusedPct.cuti_alasan_penting' }] });
  });
  it('a national holiday is no working day; a direct-service unit excepted from it works', () => {
    const holidays = new Map([['2026-10-05', { name: 'Libur uji', kind: 'nasional' }]]);
    const a = day(deriveMonth(context(MONTH, { holidays }), employee([])), '2026-10-05');
    expect(a).toMatchObject({ status: 'holiday', code: 'LN', pct: 0, holiday: 'Libur uji' });
    const b = day(deriveMonth(context(MONTH, { holidays, holidayExceptions: new Set(['2026-10-05|U1']) }), employee([])), '2026-10-05');
    expect(b).toMatchObject({ status: 'absent', pct: 3 });
    expect(totals(deriveMonth(context(MONTH, { holidays }), employee([]))).work_days).toBe(21);
  });
});

describe('schedules as data', () => {
  const ramadan: Schedule = {
    code: 'KANTOR5R',
    name: 'Kantor 5 hari + Ramadan',
    type: 'weekly',
    days: {
      mon: { start: '07:30', end: '16:00', punches: [{ kind: 'in', label: 'masuk', from: '05:00', to: '16:00' }, { kind: 'out', label: 'pulang', from: '12:00', to: '23:59' }] },
      fri: { start: '07:30', end: '16:30', punches: [{ kind: 'in', label: 'masuk', from: '05:00', to: '16:30' }, { kind: 'out', label: 'pulang', from: '12:00', to: '23:59' }] },
    },
    overrides: [
      {
        name: 'Ramadan 1448 H',
        from: '2026-10-05',
        to: '2026-10-09',
        days: {
          mon: { start: '08:00', end: '15:00', punches: [{ kind: 'in', label: 'masuk', from: '05:00', to: '15:00' }, { kind: 'out', label: 'pulang', from: '12:00', to: '23:59' }] },
          fri: { start: '08:00', end: '15:30', punches: [{ kind: 'in', label: 'masuk', from: '05:00', to: '15:30' }, { kind: 'out', label: 'pulang', from: '12:00', to: '23:59' }] },
        },
      },
    ],
  };
  const ctx = context(MONTH, { extraSchedules: [ramadan] });
  const emp = (p: ReturnType<typeof wib>[]) => employee(p, { assignments: [{ from: '0000-01-01', unit: 'U1', opd: 'OPD1', schedule: 'KANTOR5R' }] });
  it('Ramadan override: 07:55–15:00 on Monday is on time; the same punches a week later are TL1 (25 min) + PSW2 (60 min)', () => {
    const days = deriveMonth(ctx, emp([wib('2026-10-05T07:55'), wib('2026-10-05T15:00'), wib('2026-10-12T07:55'), wib('2026-10-12T15:00')]));
    expect(day(days, '2026-10-05')).toMatchObject({ status: 'present', override: 'Ramadan 1448 H', start: '08:00', end: '15:00' });
    expect(day(days, '2026-10-12')).toMatchObject({ status: 'late_early', code: 'TL1 PSW2', minutes_late: 25, minutes_early: 60, pct: 1.5, override: null });
  });
  it('Ramadan Friday ends 15:30; 08:10 is 10 minutes late', () => {
    const d = day(deriveMonth(ctx, emp([wib('2026-10-09T08:10'), wib('2026-10-09T15:30')])), '2026-10-09');
    expect(d).toMatchObject({ minutes_late: 10, minutes_early: 0, code: 'TL1' });
  });
  it('night shift across midnight (SHIFT_PKM M 21:00–07:00): punches on two dates make one day', () => {
    const roster = new Map([['2026-10-05', 'M'], ['2026-10-06', 'OFF']]);
    const e = employee([wib('2026-10-05T21:10'), wib('2026-10-06T06:45')], { assignments: [{ from: '0000-01-01', unit: 'U1', opd: 'OPD1', schedule: 'SHIFT_PKM' }], roster });
    const days = deriveMonth(context(MONTH), e);
    expect(day(days, '2026-10-05')).toMatchObject({ status: 'late_early', in: '21:10', out: '06:45+1', minutes_late: 10, minutes_early: 15, code: 'TL1 PSW1', end: '07:00+1' });
    expect(day(days, '2026-10-06').status).toBe('off');
    expect(day(days, '2026-10-07').status).toBe('off'); // not rostered
  });
  it('a morning shift after a night shift does not reuse the night shift\'s check-out', () => {
    const roster = new Map([['2026-10-05', 'M'], ['2026-10-06', 'P']]);
    const e = employee([wib('2026-10-05T20:55'), wib('2026-10-06T07:00')], { assignments: [{ from: '0000-01-01', unit: 'U1', opd: 'OPD1', schedule: 'SHIFT_PKM' }], roster });
    const days = deriveMonth(context(MONTH), e);
    expect(day(days, '2026-10-05')).toMatchObject({ status: 'present' });
    expect(day(days, '2026-10-06')).toMatchObject({ status: 'absent' });
  });
  it('a holiday does not stop a shift roster (direct service)', () => {
    const e = employee([wib('2026-10-05T07:00'), wib('2026-10-05T14:00')], { assignments: [{ from: '0000-01-01', unit: 'U1', opd: 'OPD1', schedule: 'SHIFT_PKM' }], roster: new Map([['2026-10-05', 'P']]) });
    const d = day(deriveMonth(context(MONTH, { holidays: new Map([['2026-10-05', { name: 'X', kind: 'nasional' }]]) }), e), '2026-10-05');
    expect(d.status).toBe('present');
  });
  it('three punches a day (KANTOR5_3X): a missing midday punch is charged', () => {
    const e = employee([wib('2026-10-05T07:20'), wib('2026-10-05T16:05')], { assignments: [{ from: '0000-01-01', unit: 'U1', opd: 'OPD1', schedule: 'KANTOR5_3X' }] });
    expect(day(deriveMonth(context(MONTH), e), '2026-10-05')).toMatchObject({ status: 'missing_mid', code: 'TAS', pct: 1.5 });
    const e3 = employee([wib('2026-10-05T07:20'), wib('2026-10-05T12:30'), wib('2026-10-05T16:05')], { assignments: [{ from: '0000-01-01', unit: 'U1', opd: 'OPD1', schedule: 'KANTOR5_3X' }] });
    expect(day(deriveMonth(context(MONTH), e3), '2026-10-05')).toMatchObject({ status: 'present', mid: '12:30', pct: 0 });
  });
  it('a transfer mid-month: days follow the unit and schedule in force (KANTOR5 → SEKOLAH6 on the 15th)', () => {
    const e = employee([wib('2026-10-17T07:00'), wib('2026-10-17T12:30')], {
      assignments: [
        { from: '0000-01-01', unit: 'U1', opd: 'OPD1', schedule: 'KANTOR5' },
        { from: '2026-10-15', unit: 'U2', opd: 'OPD2', schedule: 'SEKOLAH6' },
      ],
      punches: [wib('2026-10-17T07:00', 'S2'), wib('2026-10-17T12:30', 'S2')],
    });
    const days = deriveMonth(context(MONTH), e);
    expect(day(days, '2026-10-10')).toMatchObject({ status: 'off', opd: 'OPD1' }); // Saturday under KANTOR5
    expect(day(days, '2026-10-17')).toMatchObject({ status: 'present', opd: 'OPD2', unit: 'U2', schedule: 'SEKOLAH6' }); // Saturday school day
    expect(day(days, '2026-10-14')).toMatchObject({ opd: 'OPD1', status: 'absent' });
  });
  it('punches at another unit\'s site do not count, unless an event relocates the participants there', () => {
    const p = [wib('2026-10-05T07:10', 'S2'), wib('2026-10-05T16:10', 'S2')];
    expect(day(deriveMonth(context(MONTH), employee(p)), '2026-10-05')).toMatchObject({ status: 'absent', other_site: 2 });
    const events = new Map([['2026-10-05', [{ id: 1, name: 'Apel gabungan', site: 'S2', opd: 'OPD1', unit: null, nips: null }]]]);
    expect(day(deriveMonth(context(MONTH, { events }), employee(p)), '2026-10-05')).toMatchObject({ status: 'present', other_site: 0 });
    expect(day(deriveMonth(context(MONTH, { sitePolicy: 'any' }), employee(p)), '2026-10-05').status).toBe('present');
  });
  it('WITA units: local times use the unit\'s offset', () => {
    // 07:31 WITA = 23:31 UTC the day before
    const p = { id: 'x', utcMin: Math.floor(Date.parse('2026-10-05T07:31:00+08:00') / 60_000), site: 'S1', pending: false };
    const d = day(deriveMonth(context(MONTH, { unitOffset: new Map([['U1', 480]]) }), employee([p])), '2026-10-05');
    expect(d).toMatchObject({ in: '07:31', minutes_late: 1 });
  });
});

describe('rule change mid-month by effective date', () => {
  it('days before the new Perbup use the old bands, days from it the new ones', () => {
    const v2 = rule({ id: 'perbup-2026-10', effectiveFrom: '2026-10-15', late: [{ from: 1, to: 15, pct: 0.25 }, { from: 16, to: null, pct: 2 }] as never });
    const days = deriveMonth(context(MONTH, { rules: [rule(), v2] }), employee([wib('2026-10-14T07:50'), wib('2026-10-14T16:00'), wib('2026-10-15T07:50'), wib('2026-10-15T16:00')]));
    expect(day(days, '2026-10-14')).toMatchObject({ rule: 'perbup-2026-01', code: 'TL1', pct: 0.5 });
    expect(day(days, '2026-10-15')).toMatchObject({ rule: 'perbup-2026-10', code: 'TL2', pct: 2 });
  });
});
