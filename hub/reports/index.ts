import type { CsvDialect } from './csv.js';
import type { ReportFormat, AttendanceReport, TppReport } from './render.js';
import { attendanceCsv, attendanceJson, attendancePdf, attendanceXlsx, tppCsv, tppJson, tppPdf, tppXlsx } from './render.js';

export async function renderTpp(r: TppReport, format: ReportFormat, csvDialect: CsvDialect = 'en'): Promise<Buffer> {
  if (format === 'json') return Buffer.from(tppJson(r) + '\n');
  if (format === 'csv') return Buffer.from(tppCsv(r, csvDialect));
  if (format === 'xlsx') return tppXlsx(r);
  return tppPdf(r);
}

export async function renderAttendance(r: AttendanceReport, format: ReportFormat, csvDialect: CsvDialect = 'en'): Promise<Buffer> {
  if (format === 'json') return Buffer.from(attendanceJson(r) + '\n');
  if (format === 'csv') return Buffer.from(attendanceCsv(r, csvDialect));
  if (format === 'xlsx') return attendanceXlsx(r);
  return attendancePdf(r);
}

export { CSV_DIALECTS, type CsvDialect } from './csv.js';
export { REPORT_FORMATS, CONTENT_TYPE, lateText, type ReportFormat } from './render.js';
