import { Option } from 'commander';
import type { HubStores } from '../hub/store/stores.js';
import { UserError } from '../lib/errors.js';

/** A plain-text table: columns padded to their widest cell, two spaces apart, no trailing blanks. */
export function table(rows: string[][]): string {
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(w[i]!)).join('  ').trimEnd()).join('\n') + '\n';
}

/** The regency's UTC offset (minutes) from the hub's settings, for printing local times; WIB when unknown. */
export async function officeOffset(stores: HubStores): Promise<number> {
  try {
    return (await stores.attendance.config()).tzOffsetMin;
  } catch {
    return 420;
  }
}

/** `--format <f>` with its choices: anything else is refused in one line naming them (hadir: … — use …). */
export function formatOption(choices: readonly [string, ...string[]]): Option {
  return new Option('--format <f>', choices.join('|')).default(choices[0]).argParser((v: string) => {
    if (!choices.includes(v)) throw new UserError(`--format ${v} is not supported`, `use --format ${choices.slice(0, -1).join(', ')} or ${choices.at(-1)}`);
    return v;
  });
}
