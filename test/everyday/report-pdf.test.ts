import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { attendancePdf } from '../../hub/reports/render.js';

/** Word boxes from a real PDF reader (poppler's pdftotext -bbox, as the tester used). */
function words(pdf: Buffer): { text: string; yMin: number; yMax: number }[] {
  const r = spawnSync('pdftotext', ['-bbox', '-', '-'], { input: pdf });
  if (r.status !== 0) throw new Error(`pdftotext: ${r.stderr}`);
  return [...r.stdout.toString().matchAll(/<word xMin="[\d.]+" yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)">([^<]*)<\/word>/g)].map((m) => ({ text: m[3]!, yMin: Number(m[1]), yMax: Number(m[2]) }));
}

describe('attendance PDF', () => {
  it('a two-line header ("Pulang Cepat") ends above the first data row', async () => {
    const row = { nip: '199001012015032001', name: 'Budi Santoso', opd: 'DINKES', opd_name: 'Dinas Kesehatan', unit: 'PKM-01', unit_name: 'Puskesmas', schedule: 'KANTOR5', changed_at: '', days: [],
      work_days: 22, present_days: 20, late_days: 3, early_days: 1, absent_days: 1, missing_days: 1, excused_days: 0, pending_review: 0, deduction_pct: 7.5 };
    const pdf = await attendancePdf({ meta: { month: '2026-10', opd: 'DINKES', opd_name: 'Dinas Kesehatan', through: '2026-10-31', generated_at: '2026-11-01T00:00:00Z', pending_review: 0, pending_exceptions: 0 }, rows: [row] } as never);
    const w = words(pdf);
    const nip = w.find((x) => x.text === '199001012015032001')!;
    const cepat = w.find((x) => x.text === 'Cepat')!;
    expect(nip).toBeDefined();
    expect(cepat).toBeDefined();
    // before the fix the second header line was drawn over the first data row
    expect(cepat.yMax).toBeLessThanOrEqual(nip.yMin);
  });
});
