import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseCsv } from '../../hub/org/csv.js';
import { STAFF_COLUMNS } from '../../hub/org/import.js';
import { parseSchedule, HOLIDAY_COLUMNS, KINERJA_COLUMNS, PUNCH_COLUMNS, ROSTER_COLUMNS } from '../../hub/attendance/admin.js';
import type { ReportQuery } from '../../hub/reports/data.js';
import { A, B, C, NOW, ingestInto, seedStore, tempStore, type AttStore } from './db.js';
import { rule } from './fixtures.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The attendance repository on the store under test (test/store.ts: SQLite, or PostgreSQL with HADIR_TEST_DB=postgres). */
let s: AttStore;
beforeEach(async () => {
  s = await tempStore();
  await seedStore(s);
});
afterEach(() => s.close());

const Q = { month: '2026-10', today: '2026-11-20', now: NOW };
/** As a report reads after the hub's derivation job has caught up: the queue drained, a started month completed. */
async function caughtUp(q: Pick<ReportQuery, 'month' | 'today' | 'now'>): Promise<void> {
  await s.att.settle(q.now);
  if (q.month <= q.today.slice(0, 7)) await s.att.prepareMonth(q.month, q.now);
}
const tppReport = async (q: ReportQuery) => (await caughtUp(q), s.att.tppReport(q));
const attendanceReport = async (q: ReportQuery) => (await caughtUp(q), s.att.attendanceReport(q));
const lateToday = async (q: { date: string; opd?: string | null; now: string }) => (await caughtUp({ month: q.date.slice(0, 7), today: q.date, now: q.now }), s.att.lateToday(q));
const tppOf = async (nip: string, q = Q) => (await tppReport(q)).rows.find((r) => r.nip === nip)!;
const dayOf = async (nip: string, date: string) => (await attendanceReport({ ...Q, month: date.slice(0, 7) })).rows.find((r) => r.nip === nip)!.days.find((d) => d.date === date)!;
const ingest = (nip: string, localWib: string, opts?: Parameters<typeof ingestInto>[3]) => ingestInto(s, nip, localWib, opts);
/** The first column of the first row. */
const value = async (sql: string, ...args: unknown[]) => Object.values((await s.sql.all(sql, ...args))[0] ?? {})[0];

/** A present every weekday of October 2026 for A (07:25–16:05, Fri –16:35). */
async function fullMonth(nip: string): Promise<void> {
  for (let d = 1; d <= 31; d++) {
    const date = `2026-10-${String(d).padStart(2, '0')}`;
    const wd = new Date(`${date}T00:00:00Z`).getUTCDay();
    if (wd === 0 || wd === 6) continue;
    await ingest(nip, `${date}T07:25`);
    await ingest(nip, `${date}T${wd === 5 ? '16:35' : '16:05'}`);
  }
}

describe('staff import', () => {
  it('reports bad rows by line and reason, imports the good ones, re-import updates without duplicates', async () => {
    const csv = `nip,name,opd,unit,employment,job_class,tpp_base,schedule
198501012010011001,Budi Santoso,DISDIK,DISDIK-SEK,ASN,Pelaksana,5500000,KANTOR5
19850101201001100,Short Nip,DISDIK,DISDIK-SEK,ASN,,1000,KANTOR5
198502302010011001,Bad Birth,DISDIK,DISDIK-SEK,ASN,,1000,KANTOR5
198501012010131001,Bad Month,DISDIK,DISDIK-SEK,ASN,,1000,KANTOR5
198501012010013001,Bad Gender,DISDIK,DISDIK-SEK,ASN,,1000,KANTOR5
198501011995011001,Too Young,DISDIK,DISDIK-SEK,ASN,,1000,KANTOR5
198501012010011001,Dup,DISDIK,DISDIK-SEK,ASN,,1000,KANTOR5
197001011995011004,Unknown Opd,DISHUB,DISDIK-SEK,ASN,,1000,KANTOR5
197001011995011005,Unknown Sched,DISDIK,DISDIK-SEK,ASN,,1000,KANTOR9
197001011995011006,Wrong Unit,DINKES,SDN1,ASN,,1000,KANTOR5
197001011995011007,Money Dots,DISDIK,SDN1,ASN,,4.500.000,KANTOR5
HON-0042,Honorer Satu,DISDIK,SDN1,HONORER,,1500000,SEKOLAH6
`;
    const r = await s.att.importStaff(parseCsv(csv, 'staff.csv', STAFF_COLUMNS), { by: 'admin', now: NOW, effective: '2026-10-01' });
    expect(r.errors.map((e) => e.line)).toEqual([3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(r.errors[0]!.reason).toMatch(/18 digits/);
    expect(r.errors[1]!.reason).toMatch(/birth date 19850230/);
    expect(r.errors[2]!.reason).toMatch(/appointment month 13/);
    expect(r.errors[3]!.reason).toMatch(/gender digit is 3/);
    expect(r.errors[4]!.reason).toMatch(/age 10/);
    expect(r.errors[5]!.reason).toMatch(/duplicates line 2/);
    expect(r.errors[6]!.reason).toMatch(/unknown OPD code "DISHUB"/);
    expect(r.errors[7]!.reason).toMatch(/unknown schedule code "KANTOR9"/);
    expect(r.errors[8]!.reason).toMatch(/belongs to OPD DISDIK/);
    expect(r.errors[9]!.reason).toMatch(/whole rupiah/);
    expect(r).toMatchObject({ created: 1, updated: 1 });
    expect((await value('SELECT count(*) FROM staff', ))).toBe(4);
    expect((await value('SELECT tpp_base FROM staff WHERE nip = ?', A))).toBe(5500000);
    const again = await s.att.importStaff(parseCsv(csv, 'staff.csv', STAFF_COLUMNS), { by: 'admin', now: NOW, effective: '2026-10-01' });
    expect(again).toMatchObject({ created: 0, updated: 0, unchanged: 2 });
  });
});

describe('derivation through the store', () => {
  it('derives a full month and the TPP of DESIGN\'s formula (hand-worked)', async () => {
    await fullMonth(A);
    // Tue 6th: 08:15 (45 min → TL2 1 %); Wed 7th: only morning (TAP 1.5 %); Thu 8th: nothing (TK 3 %)
    await s.sql.run("DELETE FROM punches WHERE nip = ? AND captured_at >= '2026-10-06' AND captured_at < '2026-10-09'", A);
    await ingest(A, '2026-10-06T08:15');
    await ingest(A, '2026-10-06T16:05');
    await ingest(A, '2026-10-07T07:20');
    await s.att.importKinerja(parseCsv(`nip,month,score\n${A},2026-10,80\n`, 'k.csv', KINERJA_COLUMNS), { by: 'admin', now: NOW });
    const r = (await tppOf(A));
    // sum = 1 + 1.5 + 3 = 5.5 → disiplin = 5 000 000 × 0.40 × 0.945 = 1 890 000; produktivitas = 5 000 000 × 0.60 × 0.80 = 2 400 000
    expect(r).toMatchObject({ base: 5000000, deduction_pct: 5.5, applied_pct: 5.5, disiplin: 1890000, produktivitas_score: 80, produktivitas: 2400000, total: 4290000, rule: 'perbup-2026-01' });
    expect(r.days.filter((d) => d.pct > 0).map((d) => [d.date, d.status, d.pct])).toEqual([
      ['2026-10-06', 'late', 1],
      ['2026-10-07', 'missing_out', 1.5],
      ['2026-10-08', 'absent', 3],
    ]);
    expect(Number.isInteger(r.total)).toBe(true);
  });

  it('a missing kinerja score is shown, not assumed: produktivitas 0', async () => {
    await fullMonth(A);
    const r = (await tppOf(A));
    expect(r).toMatchObject({ produktivitas_score: null, produktivitas_missing: true, produktivitas: 0, disiplin: 2000000, total: 2000000 });
    expect((await tppReport(Q)).totals.missing_scores).toBe(3);
  });

  it('the cap limits the deduction; deduction_pct is reported before the cap', async () => {
    await s.att.addRule(rule({ id: 'perbup-2026-10-cap', effectiveFrom: '2026-10-01', absentPct: 5 }), 'test', NOW);
    await s.att.importKinerja(parseCsv(`nip,month,score\n${A},2026-10,100\n`, 'k.csv', KINERJA_COLUMNS), { by: 'admin', now: NOW });
    const r = (await tppOf(A)); // 22 × 5 = 110 % > cap 100 %
    expect(r).toMatchObject({ deduction_pct: 110, applied_pct: 100, disiplin: 0, produktivitas: 3000000, total: 3000000, rule: 'perbup-2026-10-cap' });
  });

  it('a late offline punch changes a closed month\'s numbers, and the month says when it changed', async () => {
    await fullMonth(A);
    await s.sql.run("DELETE FROM punches WHERE nip = ? AND captured_at >= '2026-10-05' AND captured_at < '2026-10-06'", A);
    const before = (await tppOf(A));
    expect(before.deduction_pct).toBe(3); // Mon 5th: TK
    const changedBefore = (await value("SELECT changed_at FROM att_months WHERE nip = ? AND month = '2026-10'", A));
    // a kiosk that was offline for weeks delivers Monday's punches on 2026-11-21
    await ingest(A, '2026-10-05T07:29');
    await ingest(A, '2026-10-05T15:45');
    const later = '2026-11-21T01:00:00.000Z';
    const r = await s.att.settle(later);
    expect(r).toMatchObject({ months: 1, employees: 1, changed: 1 });
    const after = (await tppReport({ ...Q, now: later })).rows.find((x) => x.nip === A)!;
    expect(after.deduction_pct).toBe(0.5); // PSW1 (15 min)
    expect(after.changed_at).toBe(later);
    expect(changedBefore).not.toBe(later);
    expect(after.total).toBeGreaterThan(before.total);
    // nothing else changed: re-running does nothing
    expect(await s.att.settle('2026-11-22T00:00:00.000Z')).toMatchObject({ months: 0 });
  });

  it('imported paper punches are derived like any other, idempotent, with the importing admin', async () => {
    const csv = `nip,time,site,method,note\n${A},2026-10-05T07:41:00+07:00,DISDIK-KTR,manual,blangko\n${A},2026-10-05T16:02:00+07:00,DISDIK-KTR,manual,\nX,2026-10-05T16:02:00+07:00,DISDIK-KTR,manual,\n${A},2026-10-05 16:02,DISDIK-KTR,manual,\n${A},2026-10-05T16:02:00+07:00,NOPE,manual,\n${A},2026-10-05T16:02:00+07:00,DISDIK-KTR,face,\n`;
    const r = await s.att.importPunches(parseCsv(csv, 'p.csv', PUNCH_COLUMNS), { by: 'operator1', now: NOW });
    expect(r.created).toBe(2);
    expect(r.errors.map((e) => e.line)).toEqual([4, 5, 6, 7]);
    expect(await s.att.importPunches(parseCsv(csv, 'p.csv', PUNCH_COLUMNS), { by: 'operator1', now: NOW })).toMatchObject({ created: 0, unchanged: 2 });
    expect((await s.sql.all('SELECT DISTINCT imported_by FROM punches')).map((r) => Object.values(r)[0])).toEqual(['operator1']);
    expect(await dayOf(A, '2026-10-05')).toMatchObject({ in: '07:41', out: '16:02', minutes_late: 11, code: 'TL1' });
  });

  it('leave counts only once approved by the OPD admin of the employee\'s OPD', async () => {
    const e = await s.att.addException({ nip: A, type: 'cuti_sakit', from: '2026-10-05', to: '2026-10-06', evidence: 'Surat dokter 12/X', by: 'opd-disdik', now: NOW, scope: 'DISDIK' });
    expect((await dayOf(A, '2026-10-05')).status).toBe('absent');
    expect((await attendanceReport(Q)).meta.pending_exceptions).toBe(1);
    await expect(s.att.decideException({ id: e.id, approve: true, by: 'opd-dinkes', now: NOW, scope: 'DINKES' })).rejects.toThrow(/belongs to OPD DISDIK/);
    await expect(s.att.addException({ nip: A, type: 'dinas_luar', from: '2026-10-07', to: '2026-10-07', by: 'x', now: NOW, scope: null })).rejects.toThrow(/needs evidence/);
    await s.att.decideException({ id: e.id, approve: true, by: 'opd-disdik', now: NOW, scope: 'DISDIK' });
    expect(await dayOf(A, '2026-10-05')).toMatchObject({ status: 'cuti_sakit', code: 'CS', pct: 0, exception_id: e.id });
    expect((await dayOf(A, '2026-10-07')).status).toBe('absent');
  });

  it('a holiday imported later re-derives the month; a puskesmas excepted from it works', async () => {
    expect((await dayOf(A, '2026-10-05')).status).toBe('absent');
    const r = await s.att.importHolidays(parseCsv('date,name,kind,except_units\n2026-10-05,Hari uji,nasional,PKM-SKM\n2026-13-01,Bad,nasional,\n', 'h.csv', HOLIDAY_COLUMNS));
    expect(r).toMatchObject({ created: 1, errors: [{ line: 3 }] });
    expect(await dayOf(A, '2026-10-05')).toMatchObject({ status: 'holiday', code: 'LN', holiday: 'Hari uji' });
  });

  it('a transfer mid-month: the month follows the new unit, OPD and schedule from its date', async () => {
    await s.att.transferStaff({ nip: A, unit: 'SDN1', from: '2026-10-15', schedule: 'GURU5', by: 'bkpsdm', now: NOW });
    await ingest(A, '2026-10-15T07:05', { site: 'SDN1' });
    await ingest(A, '2026-10-15T14:00', { site: 'SDN1' });
    await ingest(A, '2026-10-14T07:05', { site: 'SDN1' }); // old unit's day at the new school's kiosk: not counted
    const rows = (await attendanceReport(Q)).rows;
    const a = rows.find((r) => r.nip === A)!;
    expect(a.unit).toBe('SDN1');
    expect(a.days.find((d) => d.date === '2026-10-15')).toMatchObject({ status: 'late', minutes_late: 5, schedule: 'GURU5', unit: 'SDN1', end: '14:00' });
    expect(a.days.find((d) => d.date === '2026-10-14')).toMatchObject({ status: 'absent', unit: 'DISDIK-SEK', other_site: 1 });
  });

  it('a clock-unverified punch waits for review; accepting it with a corrected time counts that time', async () => {
    await fullMonth(A);
    await s.sql.run("DELETE FROM punches WHERE nip = ? AND captured_at >= '2026-10-05' AND captured_at < '2026-10-05T05:00'", A);
    const id = await ingest(A, '2026-10-05T09:40', { pending: true });
    expect(await dayOf(A, '2026-10-05')).toMatchObject({ status: 'missing_in', pending_review: 1 });
    expect((await tppReport(Q)).meta.pending_review).toBe(1);
    expect(await s.att.listPendingPunches('DINKES')).toHaveLength(0);
    expect((await s.att.listPendingPunches('DISDIK')).map((p) => p.id)).toEqual([id]);
    await s.att.reviewPunch({ id, action: 'accept', correctedAt: '2026-10-05T07:31:00+07:00', by: 'opd-disdik', now: NOW, scope: 'DISDIK' });
    expect(await dayOf(A, '2026-10-05')).toMatchObject({ status: 'late', in: '07:31', minutes_late: 1, pending_review: 0 });
    await s.att.reviewPunch({ id, action: 'reject', by: 'opd-disdik', now: NOW, scope: 'DISDIK' });
    expect(await dayOf(A, '2026-10-05')).toMatchObject({ status: 'missing_in' });
    // terminal health reconstructed the true time from the kiosk's monotonic clock: accept that
    await s.sql.run("DELETE FROM punches WHERE nip = ? AND captured_at >= '2026-10-06' AND captured_at < '2026-10-06T05:00'", A);
    const id2 = await ingest(A, '2026-10-06T10:02', { pending: true });
    await expect(s.att.reviewPunch({ id: id2, action: 'accept', useSuggested: true, by: 'x', now: NOW, scope: null })).rejects.toThrow(/no suggested time/);
    await s.sql.run('UPDATE punches SET suggested_at = ?, suggested_span_ms = 1200 WHERE id = ?', '2026-10-06T00:28:00.000Z', id2);
    expect((await s.att.listPendingPunches(null))[0]).toMatchObject({ id: id2, suggested_at: '2026-10-06T00:28:00.000Z' });
    await s.att.reviewPunch({ id: id2, action: 'accept', useSuggested: true, by: 'opd-disdik', now: NOW, scope: 'DISDIK' });
    expect(await dayOf(A, '2026-10-06')).toMatchObject({ in: '07:28', status: 'present' });
  });

  it('a night shift from the roster across midnight and the month boundary', async () => {
    const r = await s.att.importRoster(parseCsv(`nip,date,shift\n${C},2026-10-31,M\n${C},2026-10-30,Q\n${A},2026-10-30,M\n`, 'r.csv', ['nip', 'date', 'shift']));
    expect(r.errors.map((e) => e.line)).toEqual([3, 4]);
    await ingest(C, '2026-10-31T20:58', { site: 'PKM-SKM' });
    await ingest(C, '2026-11-01T07:02', { site: 'PKM-SKM' });
    expect(await dayOf(C, '2026-10-31')).toMatchObject({ status: 'present', in: '20:58', out: '07:02+1' });
    void ROSTER_COLUMNS;
  });

  it('rule change mid-month by effective date through the store', async () => {
    await fullMonth(A);
    await s.sql.run("DELETE FROM punches WHERE nip = ? AND (captured_at LIKE '2026-10-13T00%' OR captured_at LIKE '2026-10-20T00%')", A);
    await ingest(A, '2026-10-13T07:50');
    await ingest(A, '2026-10-20T07:50');
    expect((await tppOf(A)).deduction_pct).toBe(1); // 2 × TL1 0.5
    await s.att.addRule(rule({ id: 'perbup-2026-10', effectiveFrom: '2026-10-15', late: [{ from: 1, to: null, pct: 2 }] as never }), 'bkpsdm', NOW);
    const r = (await tppOf(A));
    expect(r.deduction_pct).toBe(2.5); // 13th: old 0.5, 20th: new 2
    expect(r.days.find((d) => d.date === '2026-10-20')!.lines[0]).toMatchObject({ rule: 'perbup-2026-10', item: 'late[1] >= 1 mnt' });
    expect(r.rule).toBe('perbup-2026-10');
  });

  it('"who is late today" per OPD', async () => {
    await ingest(A, '2026-11-20T08:12');
    await ingest(B, '2026-11-20T06:55', { site: 'SDN1' });
    const r = (await lateToday({ date: '2026-11-20', opd: 'DISDIK', now: NOW }));
    expect(r.late).toEqual([expect.objectContaining({ nip: A, in: '08:12', minutes_late: 42, code: 'TL2' })]);
    expect(r.not_in).toEqual([]);
    expect((await lateToday({ date: '2026-11-20', opd: 'DINKES', now: NOW })).late).toEqual([]);
  });

  it('the Ramadan schedule file from the docs installs and re-derives derived months', async () => {
    const file = join(import.meta.dirname, 'fixtures', 'ramadan-kantor5.yaml');
    const sched = parseSchedule(readFileSync(file, 'utf8'), file);
    await ingest(A, '2027-02-08T07:58');
    await ingest(A, '2027-02-08T15:02');
    const q = { month: '2027-02', today: '2027-03-20', now: NOW };
    expect((await attendanceReport(q)).rows.find((r) => r.nip === A)!.days[7]).toMatchObject({ date: '2027-02-08', status: 'late_early', minutes_late: 28, minutes_early: 58 });
    await s.att.addSchedule(sched, 'bkpsdm', NOW);
    expect((await attendanceReport(q)).rows.find((r) => r.nip === A)!.days[7]).toMatchObject({ date: '2027-02-08', status: 'present', start: '08:00', end: '15:00', override: 'Ramadan 1448 H' });
    expect(() => parseSchedule('code: x\ntype: weekly\n', 'bad.yaml')).toThrow(/bad.yaml: .*code/);
  });

  it('an apel at another site counts for the OPD named in the event', async () => {
    await ingest(A, '2026-10-19T07:00', { site: 'SDN1' });
    await ingest(A, '2026-10-19T16:01', { site: 'DISDIK-KTR' });
    expect(await dayOf(A, '2026-10-19')).toMatchObject({ status: 'missing_in', other_site: 1 });
    await s.att.addEvent({ date: '2026-10-19', site: 'SDN1', name: 'Apel gabungan', opd: 'DISDIK', by: 'bkpsdm', now: NOW });
    expect(await dayOf(A, '2026-10-19')).toMatchObject({ status: 'present', in: '07:00', other_site: 0 });
    await expect(s.att.addEvent({ date: '2026-10-19', site: 'SDN1', name: 'x', by: 'b', now: NOW })).rejects.toThrow(/name the participants/);
  });

  it('a month that has not started is not derived', async () => {
    expect((await tppReport({ month: '2027-01', today: '2026-11-20', now: NOW })).rows).toEqual([]);
    expect((await value("SELECT count(*) FROM att_months WHERE month = '2027-01'", ))).toBe(0);
  });

  it('a running month counts days only up to yesterday', async () => {
    const r = (await tppReport({ month: '2026-11', today: '2026-11-20', now: NOW }));
    const a = r.rows.find((x) => x.nip === A)!;
    expect(r.meta.through).toBe('2026-11-19');
    expect(a.days.find((d) => d.date === '2026-11-20')!.status).toBe('future');
    expect(a.deduction_pct).toBe(14 * 3); // 14 weekdays 2–19 Nov, all TK
    void B;
  });
});
