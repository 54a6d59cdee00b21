import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { UserError, isErrno } from '../../lib/errors.js';

/** A CSV row with its line number in the file (for per-line error reports). */
export interface CsvRow {
  line: number;
  values: Record<string, string>;
}
export interface LineError {
  line: number;
  reason: string;
}

/**
 * Reads an import CSV: UTF-8 (BOM tolerated), header row, comma or semicolon (Excel in an
 * Indonesian locale saves with semicolons). Missing required columns stop the whole import.
 */
export function readCsv(path: string, required: readonly string[], optional: readonly string[] = []): CsvRow[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if (isErrno(e, 'ENOENT')) throw new UserError(`file ${path} does not exist (berkas tidak ditemukan)`, 'check the path');
    throw e;
  }
  return parseCsv(text, path, required, optional);
}

export function parseCsv(text: string, source: string, required: readonly string[], optional: readonly string[] = []): CsvRow[] {
  const firstLine = text.replace(/^\uFEFF/, '').split(/\r?\n/, 1)[0] ?? '';
  const delimiter = (firstLine.match(/;/g)?.length ?? 0) > (firstLine.match(/,/g)?.length ?? 0) ? ';' : ',';
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parse(text, { bom: true, delimiter, relax_column_count: true, skip_empty_lines: true, trim: true, info: true }) as unknown as typeof records;
  } catch (e) {
    throw new UserError(`${source} is not valid CSV: ${(e as Error).message}`, 'save it as CSV (UTF-8) from the spreadsheet');
  }
  const header = (records[0]?.record ?? []).map((h) => h.toLowerCase());
  const missing = required.filter((c) => !header.includes(c));
  if (missing.length) {
    throw new UserError(`${source}: missing column(s) ${missing.join(', ')} (kolom tidak ada)`, `the header row must be: ${[...required, ...optional].join(',')}`);
  }
  return records.slice(1).map(({ record, info }) => ({
    line: info.lines,
    values: Object.fromEntries(header.map((h, i) => [h, record[i] ?? ''])),
  }));
}
