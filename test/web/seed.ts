import { parseCsv } from '../../hub/org/csv.js';
import { importOrg, importStaff, ORG_COLUMNS, STAFF_COLUMNS } from '../../hub/org/import.js';
import { addException, importKinerja, importPunches, KINERJA_COLUMNS, PUNCH_COLUMNS } from '../../hub/attendance/admin.js';
import { addRule } from '../../hub/tpp/store.js';
import { tppRuleSchema } from '../../hub/tpp/rules.js';
import { addUser, setPassword } from '../../hub/users.js';
import type { RunningHub } from '../../hub/server.js';

/** The month the TPP/attendance assertions use: a whole past month, so "today" does not move it. */
export const MONTH = '2026-10';
export const PASSWORD = { bk: 'bkpsdm-rahasia-1', dinkes: 'dinkes-rahasia-1', disdik: 'disdik-rahasia-1' };

const ORG = `opd_code,opd_name,unit_code,unit_name,site_code,site_name
DINKES,Dinas Kesehatan,PKM-01,Puskesmas Kota,PKM-01-A,Puskesmas Kota gedung A
DISDIK,Dinas Pendidikan,SDN-01,SD Negeri 1,SDN-01-A,SDN 1 halaman`;

export const STAFF = `nip,name,opd,unit,employment,job_class,tpp_base,schedule
198503122010011002,Siti Rahma,DINKES,PKM-01,ASN,8,4290000,KANTOR5
199001012015032001,Budi Santoso,DINKES,PKM-01,ASN,7,3750000,KANTOR5
198707072012122003,Dewi Lestari,DINKES,PKM-01,PPPK,7,3100000,KANTOR5
198001012005011003,Guru Ani,DISDIK,SDN-01,ASN,8,4010000,KANTOR5
198202022008012004,Guru Bayu,DISDIK,SDN-01,ASN,7,3650000,KANTOR5`;

const RULE = {
  id: 'perbup-2026-01', effectiveFrom: '2026-01-01', weights: { disiplin: 40, produktivitas: 60 }, graceMinutes: 0,
  late: [{ from: 1, to: 30, pct: 0.5 }, { from: 31, to: 60, pct: 1 }, { from: 61, to: 90, pct: 1.25 }, { from: 91, to: null, pct: 1.5 }],
  early: [{ from: 1, to: 30, pct: 0.5 }, { from: 31, to: 60, pct: 1 }, { from: 61, to: 90, pct: 1.25 }, { from: 91, to: null, pct: 1.5 }],
  missingCheckInPct: 1.5, missingCheckOutPct: 1.5, absentPct: 3,
  excusedPct: { cuti_tahunan: 0, cuti_sakit: 0, cuti_besar: 0, cuti_melahirkan: 0, cuti_alasan_penting: 0, dinas_luar: 0, tugas_belajar: 0 },
  monthlyCapPct: 100,
};

/** October 2026 workdays (Mon–Fri) as YYYY-MM-DD. */
function workdays(month: string): string[] {
  const [y, m] = month.split('-').map(Number) as [number, number];
  const out: string[] = [];
  for (let d = 1; d <= new Date(Date.UTC(y, m, 0)).getUTCDate(); d++) {
    const dt = new Date(Date.UTC(y, m - 1, d));
    if (dt.getUTCDay() >= 1 && dt.getUTCDay() <= 5) out.push(dt.toISOString().slice(0, 10));
  }
  return out;
}

/**
 * Organisation, staff, the DESIGN rule, kinerja scores (Dewi has none), a month of paper punches
 * (Siti: on time; Budi: 20–40 min late and no check-out on Fridays; Guru Ani: on time; Dewi and Guru Bayu:
 * nothing → absent, deduction capped), and two users with passwords — through the real import functions.
 */
export async function seed(hub: RunningHub): Promise<void> {
  const db = hub.db;
  const now = new Date().toISOString();
  const chk = (r: { errors: unknown[] }, what: string) => {
    if (r.errors.length) throw new Error(`${what}: ${JSON.stringify(r.errors)}`);
  };
  chk(importOrg(db, parseCsv(ORG, 'org.csv', ORG_COLUMNS, ['tz'])), 'org');
  chk(importStaff(db, parseCsv(STAFF, 'staff.csv', STAFF_COLUMNS), { by: 'test', now, effective: '2026-01-01' }), 'staff');
  addRule(db, tppRuleSchema.parse(RULE), 'test', now);
  chk(importKinerja(db, parseCsv(`nip,month,score
198503122010011002,${MONTH},90
199001012015032001,${MONTH},80
198001012005011003,${MONTH},85
198202022008012004,${MONTH},70`, 'kinerja.csv', KINERJA_COLUMNS), { by: 'test', now }), 'kinerja');
  const lines = ['nip,time,site,method,note'];
  workdays(MONTH).forEach((d, i) => {
    const friday = new Date(`${d}T00:00:00Z`).getUTCDay() === 5;
    lines.push(`198503122010011002,${d}T07:2${i % 10}:00+07:00,PKM-01-A,manual,`);
    lines.push(`198503122010011002,${d}T16:4${i % 10}:00+07:00,PKM-01-A,manual,`);
    lines.push(`199001012015032001,${d}T07:${50 + (i % 10)}:00+07:00,PKM-01-A,manual,`);
    if (!friday) lines.push(`199001012015032001,${d}T16:05:00+07:00,PKM-01-A,manual,`);
    lines.push(`198001012005011003,${d}T07:1${i % 10}:00+07:00,SDN-01-A,manual,`);
    lines.push(`198001012005011003,${d}T16:3${i % 10}:00+07:00,SDN-01-A,manual,`);
  });
  chk(importPunches(db, parseCsv(lines.join('\n'), 'punches.csv', PUNCH_COLUMNS), { by: 'test', now }), 'punches');
  // a sick-leave request waiting for approval
  addException(db, { nip: '198707072012122003', type: 'cuti_sakit', from: `${MONTH}-05`, to: `${MONTH}-07`, evidence: 'SK-445/123/PKM', note: 'demam berdarah', by: 'admin.dinkes', now, scope: 'DINKES' });
  await addUser(hub.store, { username: 'bkpsdm', name: 'Rina (BKPSDM)', role: 'bkpsdm', now: new Date() });
  await setPassword(hub.store, 'bkpsdm', PASSWORD.bk);
  await addUser(hub.store, { username: 'admin.dinkes', name: 'Agus (Dinkes)', role: 'opd_admin', opdCode: 'DINKES', now: new Date() });
  await setPassword(hub.store, 'admin.dinkes', PASSWORD.dinkes);
  await addUser(hub.store, { username: 'admin.disdik', name: 'Wati (Disdik)', role: 'opd_admin', opdCode: 'DISDIK', now: new Date() });
  await setPassword(hub.store, 'admin.disdik', PASSWORD.disdik);
}
