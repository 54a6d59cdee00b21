import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import ExcelJS from 'exceljs';
import { TEST_DB, freshPostgres } from '../store.js';

const run = promisify(execFile);
const FIX = join(import.meta.dirname, 'fixtures');
let dir: string;
/** HADIR_DB_URL when the tests run on PostgreSQL (test/store.ts): the commands then work on that database. */
let pgdb: Awaited<ReturnType<typeof freshPostgres>> | null = null;

/** Runs the real `hadir` command on a real data directory; never throws, returns code and output. */
async function hadir(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  try {
    const r = await run('node', ['bin/hadir.mjs', ...args], { env: { ...process.env, HADIR_DATA_DIR: dir, ...(pgdb ? { HADIR_DB_URL: pgdb.url } : {}), HADIR_ADMIN: 'operator-bkpsdm', HADIR_LOG_LEVEL: 'warn' }, maxBuffer: 20e6 });
    return { code: 0, out: r.stdout, err: r.stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, out: x.stdout, err: x.stderr };
  }
}

let hasPdftotext = true;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hadir-cli-att-'));
  if (TEST_DB === 'postgres') pgdb = await freshPostgres();
  try {
    await run('pdftotext', ['-v']);
  } catch {
    hasPdftotext = false;
  }
});
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await pgdb?.drop();
});

describe('hadir attendance commands on a real data directory', () => {
  it('imports org and staff; bad staff rows are reported by line, good ones imported, re-import is idempotent', async () => {
    const org = await hadir('import', 'org', join(FIX, 'org.csv'));
    expect(org.code).toBe(0);
    expect(org.out).toMatch(/created 4/);
    const st = await hadir('import', 'staff', join(FIX, 'staff.csv'));
    expect(st.code).toBe(1);
    expect(st.out).toMatch(/created 4/);
    expect(st.out).toMatch(/baris\/line 6: NIP must be 18 digits/);
    expect(st.out).toMatch(/baris\/line 7: unknown schedule code "KANTOR7"/);
    const again = await hadir('import', 'staff', join(FIX, 'staff.csv'));
    expect(again.out).toMatch(/created 0, updated 0, unchanged 4/);
  });

  it('rules check reports every problem on one line and exits non-zero; rules add installs', async () => {
    const bad = await hadir('rules', 'check', join(FIX, 'perbup-bad.yaml'));
    expect(bad.code).toBe(2);
    expect(bad.err.trim().split('\n')).toHaveLength(1);
    expect(bad.err).toMatch(/^hadir: .*effectiveFrom: expected a date.*disiplin \+ produktivitas must be 100.*late\.1\.from: band must start at 31/);
    expect((await hadir('rules', 'add', join(FIX, 'perbup-2026-01.json'))).out).toMatch(/dipasang \/ installed/);
    expect((await hadir('rules', 'add', join(FIX, 'perbup-2026-01.json'))).out).toMatch(/already installed/);
  });

  it('imports punches and kinerja, then reports TPP in all four formats', async () => {
    const p = await hadir('import', 'punches', join(FIX, 'punches.csv'));
    expect(p.out).toMatch(/created 5/);
    expect((await hadir('import', 'punches', join(FIX, 'punches.csv'))).out).toMatch(/created 0, unchanged 5/);
    const k = await hadir('import', 'kinerja', join(FIX, 'kinerja.csv'));
    expect(k.out).toMatch(/baris\/line 4: score "101" must be a number 0–100/);

    const json = await hadir('report', 'tpp', '--month', '2026-10', '--format', 'json');
    expect(json.code).toBe(0);
    const rows = JSON.parse(json.out) as { nip: string; total: number; deduction_pct: number; produktivitas_score: number | null; days: { date: string; status: string; minutes_late: number; pct: number }[] }[];
    const budi = rows.find((r) => r.nip === '198501012010011001')!;
    // Oct 2026: 22 working days. 5th: 07:41–16:02 → TL1 0.5; 6th: 07:20 only → TAP 1.5; 20 other days TK 3 → 60. Sum 62.
    expect(budi.deduction_pct).toBe(62);
    // 5 000 000 × 0.4 × 0.38 = 760 000; 5 000 000 × 0.6 × 0.8 = 2 400 000
    expect(budi.total).toBe(3160000);
    expect(budi.days.find((d) => d.date === '2026-10-05')).toMatchObject({ status: 'late', minutes_late: 11, pct: 0.5 });
    expect(rows.find((r) => r.nip === '199005122015032002')!.produktivitas_score).toBeNull();
    expect(json.err).toMatch(/missing scores 2/);

    const csv = await hadir('report', 'tpp', '--month', '2026-10', '--opd', 'DISDIK', '--format', 'csv');
    const lines = csv.out.trim().split('\n');
    expect(lines[0]).toMatch(/^NIP,Nama,OPD,Unit,TPP Dasar \(Rp\),Potongan \(%\)/);
    expect(lines).toHaveLength(3);
    expect(lines.find((l) => l.startsWith('198501012010011001'))).toMatch(/,3160000,/);

    const xlsxPath = join(dir, 'tpp.xlsx');
    expect((await hadir('report', 'tpp', '--month', '2026-10', '--format', 'xlsx', '--out', xlsxPath)).code).toBe(0);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.readFile(xlsxPath);
    const ws = wb.getWorksheet('Rekap TPP')!;
    expect(String(ws.getCell('A1').value)).toBe('Rekapitulasi TPP Oktober 2026');
    const header = ws.getRow(4).values as unknown[];
    expect(header).toContain('Jumlah Diterima (Rp)');
    let found = false;
    ws.eachRow((row) => {
      if (row.getCell(1).value === '198501012010011001') {
        found = true;
        expect(row.getCell(11).value).toBe(3160000);
        expect(row.getCell(11).numFmt).toBe('"Rp" #,##0');
      }
    });
    expect(found).toBe(true);
    const detail = wb.getWorksheet('Rincian Potongan')!;
    expect(detail.rowCount).toBeGreaterThan(20);
    expect(String(detail.getRow(2).getCell(9).value)).toMatch(/perbup-2026-01/);

    const pdfPath = join(dir, 'tpp.pdf');
    expect((await hadir('report', 'tpp', '--month', '2026-10', '--format', 'pdf', '--out', pdfPath)).code).toBe(0);
    expect(readFileSync(pdfPath).subarray(0, 5).toString()).toBe('%PDF-');
    if (hasPdftotext) {
      const { stdout } = await run('pdftotext', ['-layout', pdfPath, '-']);
      expect(stdout).toMatch(/REKAPITULASI TAMBAHAN PENGHASILAN PEGAWAI \(TPP\) — OKTOBER 2026/);
      expect(stdout).toMatch(/Dinas Pendidikan \(DISDIK\)/);
      expect(stdout).toMatch(/Rp 3\.160\.000/);
      expect(stdout).toMatch(/Kepala Dinas Kesehatan/);
      expect(stdout).toMatch(/Kepala Dinas Pendidikan/);
      expect(stdout).toMatch(/NIP\. \.\.\./);
    }
  });

  it('attendance report in csv/xlsx/pdf, leave with approval, late list, holidays, bench', async () => {
    const leave = await hadir('leave', 'add', '--nip', '198501012010011001', '--type', 'cuti_tahunan', '--from', '2026-10-07', '--to', '2026-10-09');
    expect(leave.out).toMatch(/#1 cuti_tahunan .*: pending/);
    expect((await hadir('leave', 'approve', '1')).out).toMatch(/approved/);
    const csv = await hadir('report', 'attendance', '--month', '2026-10', '--format', 'csv');
    const budi = csv.out.split('\n').find((l) => l.startsWith('198501012010011001'))!;
    // Hari Kerja 22, Hadir 2, Terlambat 1, Pulang Cepat 0, Tidak Lengkap 1, TK 17, Cuti 3; days 7–9 coded CT
    expect(budi).toMatch(/,KANTOR5,22,2,1,0,1,17,3,/);
    expect(budi).toMatch(/,TL1,TAP,CT,CT,CT,L,L,TK,/);
    const xlsxPath = join(dir, 'att.xlsx');
    await hadir('report', 'attendance', '--month', '2026-10', '--format', 'xlsx', '--out', xlsxPath);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.readFile(xlsxPath);
    expect(String(wb.getWorksheet('Rekap Kehadiran')!.getCell('A1').value)).toBe('Rekapitulasi Kehadiran Oktober 2026');
    const pdfPath = join(dir, 'att.pdf');
    await hadir('report', 'attendance', '--month', '2026-10', '--format', 'pdf', '--out', pdfPath);
    if (hasPdftotext) {
      const { stdout } = await run('pdftotext', ['-layout', pdfPath, '-']);
      expect(stdout).toMatch(/REKAPITULASI KEHADIRAN PEGAWAI — OKTOBER 2026/);
      expect(stdout).toMatch(/Budi Santoso/);
    }
    const late = await hadir('report', 'late', '--date', '2026-10-05', '--opd', 'DISDIK', '--json');
    expect(JSON.parse(late.out).late).toEqual([expect.objectContaining({ nip: '198501012010011001', minutes_late: 11 })]);
    const hol = await hadir('import', 'holidays', join(FIX, 'holidays-2026.csv'));
    expect(hol.out).toMatch(/created 4/);
    expect((await hadir('holidays', 'list', '--year', '2026')).out).toMatch(/2026-08-17  nasional +Hari Kemerdekaan RI  \(tetap masuk \/ works: PKM-SKM\)/);
    expect((await hadir('report', 'tpp', '--month', '2026-1O')).err).toMatch(/^hadir: month "2026-1O" is not YYYY-MM/);
    const bench = await hadir('bench', 'tpp', '--staff', '200');
    const last = JSON.parse(bench.out.trim().split('\n').pop()!) as Record<string, number>;
    expect(last).toMatchObject({ staff: 200, full_month_s: expect.any(Number), incremental_ms: expect.any(Number) });
  }, 180_000); // a dozen real hadir processes and a TPP benchmark; on PostgreSQL each command also connects and checks migrations
});
