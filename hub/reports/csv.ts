import { stringify } from 'csv-stringify/sync';

/**
 * CSV for spreadsheets. Two dialects:
 * - `en` (default): RFC 4180 — `,` between fields, `.` in decimals, no BOM. What scripts and
 *   spreadsheets in an English locale expect.
 * - `id`: for Excel with an Indonesian locale, whose list separator is `;` and decimal mark `,` —
 *   `;` between fields, `4,25`, and a UTF-8 BOM so Excel reads the names as UTF-8 (without it, it
 *   guesses Windows-1252).
 * Both neutralise spreadsheet formulas in text (OWASP "CSV Injection"): a text cell starting with
 * `=`, `+`, `-`, `@`, tab or CR gets a leading `'`; so does such a character right after a `,` or `;`
 * inside the text (a file opened with the other dialect's separator would start a cell there), and
 * text holding either separator is always quoted. Numbers are
 * written as numbers (never prefixed), so numeric columns stay numeric.
 */
export type CsvDialect = 'en' | 'id';
export const CSV_DIALECTS: readonly CsvDialect[] = ['en', 'id'];

const FORMULA_START = /^[=+\-@\t\r]/;
/**
 * A formula character just after a separator inside the value: Excel honours quotes only at the
 * start of a field, so a `,`-dialect file opened with `;` (or the reverse) would start a cell there.
 * Only when something follows, so "Rp 5.000,-" stays as it is.
 */
const FORMULA_AFTER_SEPARATOR = /([,;\r\n][\s"]*)(?=[=+\-@]\S)/g;

/** A text cell as a spreadsheet will take it as text, never as a formula. */
export function neutraliseFormula(s: string): string {
  const inner = s.replace(FORMULA_AFTER_SEPARATOR, "$1'");
  return FORMULA_START.test(inner) ? `'${inner}` : inner;
}

export type CsvCell = string | number | boolean | null | undefined;

export function toCsv(rows: CsvCell[][], dialect: CsvDialect = 'en'): string {
  const id = dialect === 'id';
  const body = stringify(
    rows.map((r) => r.map((v) => (typeof v === 'string' ? neutraliseFormula(v) : v))),
    {
      delimiter: id ? ';' : ',',
      record_delimiter: id ? 'windows' : 'unix',
      cast: {
        // quoted when it holds either separator (not numbers: "4,25" unquoted is what Excel expects)
        string: (v) => (/[,;]/.test(v) ? { value: v, quoted: true } : v),
        number: (n) => (id ? String(n).replace('.', ',') : String(n)),
        boolean: (b) => (b ? 'true' : 'false'),
      },
    },
  );
  return id ? `\uFEFF${body}` : body;
}
