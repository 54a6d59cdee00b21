import { describe, expect, it } from 'vitest';
import { deriveMonth } from '../../hub/attendance/derive.js';
import { packDays, unpackDays } from '../../hub/attendance/pack.js';
import { context, employee, wib } from './fixtures.js';

describe('stored day records', () => {
  it('round-trip exactly, with a transfer, days before employment and deductions', () => {
    const days = deriveMonth(
      context('2026-10'),
      employee([wib('2026-10-05T07:50'), wib('2026-10-05T15:00'), wib('2026-10-19T07:05', 'S2')], {
        assignments: [
          { from: '2026-10-03', unit: 'U1', opd: 'OPD1', schedule: 'KANTOR5' },
          { from: '2026-10-15', unit: 'U2', opd: 'OPD2', schedule: 'GURU5' },
        ],
      }),
    );
    expect(days[0]!.status).toBe('not_employed');
    const month = { unit: 'U2', opd: 'OPD2' };
    const json = packDays(days, month);
    expect(unpackDays(json, month)).toEqual(days);
    // defaults are left out: an off day is a few bytes
    const doc = JSON.parse(json);
    expect(doc).toMatchObject({ v: 2, first: '2026-10-01', schedule: 'GURU5', rule: 'perbup-2026-01' });
    expect(doc.days[9]).toEqual({ status: 'off', code: 'L', unit: 'U1', opd: 'OPD1', schedule: 'KANTOR5', rule: null });
    expect(doc.days[0]).toEqual({ status: 'not_employed', code: '-', rule: null });
  });
});

describe('stored day records of the first format', () => {
  it('are still readable', () => {
    const v1 = JSON.stringify([{ date: '2026-10-01', status: 'present', code: 'H', schedule: 'KANTOR5', shift: 'thu', start: '07:30', end: '16:00', in: '07:20', out: '16:05', rule: 'perbup-2026-01' }]);
    expect(unpackDays(v1, { unit: 'U1', opd: 'OPD1' })[0]).toMatchObject({ date: '2026-10-01', status: 'present', schedule: 'KANTOR5', unit: 'U1', rule: 'perbup-2026-01', lines: [] });
  });
});
