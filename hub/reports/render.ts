import { toCsv, type CsvDialect } from './csv.js';
import type { AttendanceRow, LateRow, ReportMeta, TppRow } from './data.js';
import { STATUS_ID, dateLabel, monthLabel, pct, rupiah } from './labels.js';

/**
 * Report formats. JSON is for machines (ISO dates, plain numbers, `total` an integer); CSV, XLSX
 * and PDF are for people (Indonesian labels; rupiah formatting in XLSX/PDF). exceljs and pdfkit are
 * imported lazily so light commands start fast.
 */
export type ReportFormat = 'json' | 'csv' | 'xlsx' | 'pdf';
export const REPORT_FORMATS: readonly ReportFormat[] = ['json', 'csv', 'xlsx', 'pdf'];
export const CONTENT_TYPE: Record<ReportFormat, string> = {
  json: 'application/json; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  pdf: 'application/pdf',
};

export interface TppReport {
  meta: ReportMeta;
  rows: TppRow[];
  totals: { base: number; total: number; missing_scores: number };
}
export interface AttendanceReport {
  meta: ReportMeta;
  rows: AttendanceRow[];
}

// ---- TPP ---------------------------------------------------------------------------------

export function tppJson(r: TppReport): string {
  return JSON.stringify(
    r.rows.map((x) => ({
      nip: x.nip, name: x.name, opd: x.opd, unit: x.unit, month: r.meta.month, base: x.base, rule: x.rule,
      deduction_pct: x.deduction_pct, cap_pct: x.cap_pct, applied_pct: x.applied_pct, disiplin: x.disiplin,
      produktivitas_score: x.produktivitas_score, produktivitas_missing: x.produktivitas_missing, produktivitas: x.produktivitas,
      total: x.total, prorata: x.prorata, pending_review: x.pending_review, changed_at: x.changed_at,
      days: x.days.map((d) => ({ date: d.date, status: d.status, code: d.code, minutes_late: d.minutes_late, minutes_early: d.minutes_early, pct: d.pct, lines: d.lines })),
    })),
    null,
    2,
  );
}

const TPP_HEAD = ['NIP', 'Nama', 'OPD', 'Unit', 'TPP Dasar (Rp)', 'Potongan (%)', 'Potongan Diterapkan (%)', 'Disiplin (Rp)', 'Nilai Kinerja', 'Produktivitas (Rp)', 'Jumlah Diterima (Rp)', 'Aturan', 'Absen Menunggu Verifikasi', 'Terakhir Berubah', 'Hari Kerja Bertugas (pro rata)'];
const tppCells = (x: TppRow) => [x.nip, x.name, x.opd ?? '', x.unit ?? '', x.base, x.deduction_pct, x.applied_pct, x.disiplin, x.produktivitas_score ?? 'belum ada', x.produktivitas, x.total, x.rule ?? '', x.pending_review, x.changed_at, x.prorata ? `${x.prorata.work_days_in_service}/${x.prorata.work_days}` : ''];

export function tppCsv(r: TppReport, dialect: CsvDialect = 'en'): string {
  return toCsv([TPP_HEAD, ...r.rows.map(tppCells)], dialect);
}

// ---- attendance --------------------------------------------------------------------------

export function attendanceJson(r: AttendanceReport): string {
  return JSON.stringify(
    r.rows.map((x) => ({ ...x, month: r.meta.month, days: x.days.filter((d) => d.status !== 'not_employed') })),
    null,
    2,
  );
}

const ATT_HEAD = ['NIP', 'Nama', 'OPD', 'Unit', 'Jadwal', 'Hari Kerja', 'Hadir', 'Terlambat', 'Pulang Cepat', 'Absen Tidak Lengkap', 'TK', 'Cuti/Izin', 'Potongan (%)', 'Menunggu Verifikasi'];
const attCells = (x: AttendanceRow) => [x.nip, x.name, x.opd ?? '', x.unit ?? '', x.schedule, x.work_days, x.present_days, x.late_days, x.early_days, x.missing_days, x.absent_days, x.excused_days, x.deduction_pct, x.pending_review];

export function attendanceCsv(r: AttendanceReport, dialect: CsvDialect = 'en'): string {
  const n = r.rows[0]?.days.length ?? 0;
  const dayHead = Array.from({ length: n }, (_, i) => String(i + 1));
  return toCsv([[...ATT_HEAD, ...dayHead], ...r.rows.map((x) => [...attCells(x), ...x.days.map((d) => d.code)])], dialect);
}

// ---- XLSX --------------------------------------------------------------------------------

const RP = '"Rp" #,##0';

export async function tppXlsx(r: TppReport): Promise<Buffer> {
  const { default: ExcelJS } = await import('exceljs');
  const wb = new ExcelJS.Workbook();
  wb.creator = 'Hadir';
  const ws = wb.addWorksheet('Rekap TPP');
  ws.addRow([`Rekapitulasi TPP ${monthLabel(r.meta.month)}${r.meta.opd_name ? ` — ${r.meta.opd_name}` : ''}`]).font = { bold: true, size: 14 };
  ws.addRow([`Dihitung sampai ${dateLabel(r.meta.through)}; absen menunggu verifikasi: ${r.meta.pending_review}; izin menunggu persetujuan: ${r.meta.pending_exceptions}; nilai kinerja belum ada: ${r.totals.missing_scores}`]);
  ws.addRow([]);
  const head = ws.addRow(TPP_HEAD);
  head.font = { bold: true };
  for (const x of r.rows) ws.addRow(tppCells(x));
  ws.addRow(['', 'JUMLAH', '', '', r.totals.base, '', '', '', '', '', r.totals.total]).font = { bold: true };
  for (const c of [5, 8, 10, 11]) ws.getColumn(c).numFmt = RP;
  ws.columns.forEach((c, i) => (c.width = [20, 28, 10, 14, 16, 12, 12, 16, 12, 16, 18, 18, 12, 24, 14][i] ?? 12));
  const detail = wb.addWorksheet('Rincian Potongan');
  detail.addRow(['NIP', 'Nama', 'Tanggal', 'Status', 'Kode', 'Menit Terlambat', 'Menit Pulang Cepat', 'Potongan (%)', 'Dasar Aturan']).font = { bold: true };
  for (const x of r.rows) {
    // the exit month's pro rata is part of the explanation of the rupiah, as the deductions are
    if (x.prorata) detail.addRow([x.nip, x.name, '', 'Pro rata masa tugas', '', '', '', 0, `${x.prorata.work_days_in_service}/${x.prorata.work_days} hari kerja: TPP dasar ${x.base} → ${x.prorata.base}`]);
    for (const d of x.days)
      if (d.pct > 0) detail.addRow([x.nip, x.name, d.date, STATUS_ID[d.status] ?? d.status, d.code, d.minutes_late, d.minutes_early, d.pct, d.lines.map((l) => `${l.rule} ${l.item}: ${pct(l.pct)}%`).join('; ')]);
  }
  detail.columns.forEach((c, i) => (c.width = [20, 28, 12, 26, 10, 10, 10, 10, 50][i] ?? 12));
  return Buffer.from(await wb.xlsx.writeBuffer());
}

export async function attendanceXlsx(r: AttendanceReport): Promise<Buffer> {
  const { default: ExcelJS } = await import('exceljs');
  const wb = new ExcelJS.Workbook();
  wb.creator = 'Hadir';
  const ws = wb.addWorksheet('Rekap Kehadiran');
  ws.addRow([`Rekapitulasi Kehadiran ${monthLabel(r.meta.month)}${r.meta.opd_name ? ` — ${r.meta.opd_name}` : ''}`]).font = { bold: true, size: 14 };
  ws.addRow([`Dihitung sampai ${dateLabel(r.meta.through)}; absen menunggu verifikasi: ${r.meta.pending_review}; izin menunggu persetujuan: ${r.meta.pending_exceptions}`]);
  ws.addRow([]);
  const n = r.rows[0]?.days.length ?? 0;
  ws.addRow([...ATT_HEAD, ...Array.from({ length: n }, (_, i) => i + 1)]).font = { bold: true };
  for (const x of r.rows) ws.addRow([...attCells(x), ...x.days.map((d) => d.code)]);
  ws.columns.forEach((c, i) => (c.width = i < ATT_HEAD.length ? ([20, 28, 10, 14, 10][i] ?? 10) : 6));
  const legend = wb.addWorksheet('Keterangan');
  legend.addRow(['Kode', 'Arti']).font = { bold: true };
  for (const [k, v] of Object.entries(CODE_LEGEND)) legend.addRow([k, v]);
  return Buffer.from(await wb.xlsx.writeBuffer());
}

export const CODE_LEGEND: Record<string, string> = {
  H: 'Hadir tepat waktu', 'TL1–TL4': 'Terlambat (golongan menurut Perbup)', 'PSW1–PSW4': 'Pulang sebelum waktunya', TAM: 'Tidak absen masuk',
  TAP: 'Tidak absen pulang', TAS: 'Tidak absen siang', TK: 'Tanpa keterangan', L: 'Libur (bukan hari kerja)', LN: 'Libur nasional', 'CB*': 'Cuti bersama',
  CT: 'Cuti tahunan', CB: 'Cuti besar', CS: 'Cuti sakit', CM: 'Cuti melahirkan', CAP: 'Cuti alasan penting', CLTN: 'Cuti di luar tanggungan negara',
  DL: 'Dinas luar', TB: 'Tugas belajar', '-': 'Belum/tidak bertugas di unit ini',
};

// ---- PDF: a printable recap per OPD with the head of OPD's signature block ---------------

interface PdfTable {
  title: string;
  subtitle: string;
  head: string[];
  widths: number[];
  align: ('left' | 'right')[];
  groups: { opd: string; opdName: string; rows: string[][]; total?: string[] }[];
  signDate: string;
}

async function pdfTables(t: PdfTable): Promise<Buffer> {
  const { default: PDFDocument } = await import('pdfkit');
  const doc = new PDFDocument({ size: 'A4', layout: 'landscape', margin: 36, info: { Title: t.title, Creator: 'Hadir' } });
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<Buffer>((res) => doc.on('end', () => res(Buffer.concat(chunks))));
  const left = 36;
  const bottom = doc.page.height - 36;
  const rowH = 14;
  const drawRow = (cells: string[], bold = false) => {
    if (doc.y + rowH > bottom) doc.addPage();
    const y = doc.y;
    doc.font(bold ? 'Helvetica-Bold' : 'Helvetica').fontSize(8);
    let x = left;
    cells.forEach((c, i) => {
      doc.text(c, x + 2, y + 3, { width: t.widths[i]! - 4, align: t.align[i] ?? 'left', lineBreak: false, ellipsis: true });
      x += t.widths[i]!;
    });
    doc.moveTo(left, y + rowH).lineTo(x, y + rowH).lineWidth(0.3).stroke();
    doc.x = left;
    doc.y = y + rowH;
  };
  // The header may need two lines ("Pulang / Cepat" in a narrow column): its row grows to fit, so
  // a wrapped label can never run over the first data row.
  const drawHead = (cells: string[]) => {
    doc.font('Helvetica-Bold').fontSize(8);
    const h = Math.max(rowH, ...cells.map((c, i) => doc.heightOfString(c, { width: t.widths[i]! - 4 }) + 6));
    if (doc.y + h > bottom) doc.addPage();
    const y = doc.y;
    let x = left;
    cells.forEach((c, i) => {
      doc.text(c, x + 2, y + 3, { width: t.widths[i]! - 4, align: t.align[i] ?? 'left' });
      x += t.widths[i]!;
    });
    doc.moveTo(left, y + h).lineTo(x, y + h).lineWidth(0.3).stroke();
    doc.x = left;
    doc.y = y + h;
  };
  t.groups.forEach((g, gi) => {
    if (gi > 0) doc.addPage();
    doc.font('Helvetica-Bold').fontSize(13).text(t.title, left, 36, { align: 'center' });
    doc.font('Helvetica').fontSize(10).text(`${g.opdName} (${g.opd})`, { align: 'center' }).text(t.subtitle, { align: 'center' });
    doc.moveDown(0.8);
    doc.x = left;
    drawHead(t.head);
    for (const r of g.rows) drawRow(r);
    if (g.total) drawRow(g.total, true);
    // signature block of the head of the OPD
    if (doc.y + 110 > bottom) doc.addPage();
    const sx = doc.page.width - 36 - 240;
    const sy = doc.y + 24;
    doc.font('Helvetica').fontSize(10);
    doc.text(`......................, ${t.signDate}`, sx, sy, { width: 240, align: 'center' });
    doc.text(`Kepala ${g.opdName}`, sx, sy + 14, { width: 240, align: 'center' });
    doc.text('(..........................................)', sx, sy + 70, { width: 240, align: 'center' });
    doc.text('NIP. ......................................', sx, sy + 84, { width: 240, align: 'center' });
    doc.x = left;
  });
  if (!t.groups.length) doc.font('Helvetica').fontSize(11).text(`${t.title}: tidak ada data / no data`);
  doc.end();
  return done;
}

function byOpd<T extends { opd: string | null; opd_name: string | null }>(rows: T[]): { opd: string; opdName: string; rows: T[] }[] {
  const m = new Map<string, { opd: string; opdName: string; rows: T[] }>();
  for (const r of rows) {
    const k = r.opd ?? '-';
    if (!m.has(k)) m.set(k, { opd: k, opdName: r.opd_name ?? k, rows: [] });
    m.get(k)!.rows.push(r);
  }
  return [...m.values()];
}

export function tppPdf(r: TppReport): Promise<Buffer> {
  return pdfTables({
    title: `REKAPITULASI TAMBAHAN PENGHASILAN PEGAWAI (TPP) — ${monthLabel(r.meta.month).toUpperCase()}`,
    subtitle: `Kehadiran dihitung sampai ${dateLabel(r.meta.through)} · absen menunggu verifikasi: ${r.meta.pending_review} · izin menunggu persetujuan: ${r.meta.pending_exceptions}`,
    head: ['No', 'NIP', 'Nama', 'TPP Dasar', 'Potongan %', 'Disiplin', 'Kinerja', 'Produktivitas', 'Diterima'],
    widths: [24, 110, 170, 80, 60, 80, 50, 90, 106],
    align: ['right', 'left', 'left', 'right', 'right', 'right', 'right', 'right', 'right'],
    signDate: dateLabel(r.meta.generated_at.slice(0, 10)),
    groups: byOpd(r.rows).map((g) => ({
      opd: g.opd,
      opdName: g.opdName,
      rows: g.rows.map((x, i) => [String(i + 1), x.nip, x.name, rupiah(x.base), pct(x.deduction_pct), rupiah(x.disiplin), x.produktivitas_score === null ? 'belum ada' : pct(x.produktivitas_score), rupiah(x.produktivitas), rupiah(x.total)]),
      total: ['', '', 'JUMLAH', rupiah(g.rows.reduce((a, x) => a + x.base, 0)), '', '', '', '', rupiah(g.rows.reduce((a, x) => a + x.total, 0))],
    })),
  });
}

export function attendancePdf(r: AttendanceReport): Promise<Buffer> {
  return pdfTables({
    title: `REKAPITULASI KEHADIRAN PEGAWAI — ${monthLabel(r.meta.month).toUpperCase()}`,
    subtitle: `Dihitung sampai ${dateLabel(r.meta.through)} · absen menunggu verifikasi: ${r.meta.pending_review} · izin menunggu persetujuan: ${r.meta.pending_exceptions}`,
    head: ['No', 'NIP', 'Nama', 'Unit', 'Hari Kerja', 'Hadir', 'Terlambat', 'Pulang Cepat', 'Tdk Lengkap', 'TK', 'Cuti/Izin', 'Potongan %'],
    widths: [24, 105, 150, 90, 50, 40, 50, 55, 55, 35, 50, 66],
    align: ['right', 'left', 'left', 'left', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right'],
    signDate: dateLabel(r.meta.generated_at.slice(0, 10)),
    groups: byOpd(r.rows).map((g) => ({
      opd: g.opd,
      opdName: g.opdName,
      rows: g.rows.map((x, i) => [String(i + 1), x.nip, x.name, x.unit ?? '', String(x.work_days), String(x.present_days), String(x.late_days), String(x.early_days), String(x.missing_days), String(x.absent_days), String(x.excused_days), pct(x.deduction_pct)]),
    })),
  });
}

/** The late list as text for the terminal. */
export function lateText(r: { date: string; late: LateRow[]; not_in: LateRow[] }): string {
  const lines = [`Terlambat hari ini / late today — ${dateLabel(r.date)}: ${r.late.length}`];
  for (const x of r.late) lines.push(`  ${x.code.padEnd(4)} ${String(x.minutes_late).padStart(4)} mnt  masuk ${x.in}  ${x.nip}  ${x.name} (${x.unit ?? ''})`);
  lines.push(`Belum absen masuk / no check-in yet: ${r.not_in.length}`);
  for (const x of r.not_in) lines.push(`  ${x.nip}  ${x.name} (${x.unit ?? ''})`);
  return lines.join('\n') + '\n';
}
