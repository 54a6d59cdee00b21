import { Option } from 'commander';

/** `--csv-dialect en|id` of every command that writes CSV (hub/reports/csv.ts says what each is). */
export function csvDialectOption(): Option {
  return new Option('--csv-dialect <dialect>', "CSV untuk Excel berbahasa Indonesia / for Excel in an Indonesian locale: id (';', decimal ',', UTF-8 BOM); en: RFC 4180 (',', decimal '.')")
    .choices(['en', 'id'])
    .default('en');
}
