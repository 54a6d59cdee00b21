import type { SqliteDb } from '../hub/store/sqlite.js';

/** A plain-text table: columns padded to their widest cell, two spaces apart, no trailing blanks. */
export function table(rows: string[][]): string {
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(w[i]!)).join('  ').trimEnd()).join('\n') + '\n';
}

/** The regency's UTC offset (minutes) from the hub's settings, for printing local times; WIB when unknown. */
export async function officeOffset(db: SqliteDb): Promise<number> {
  try {
    const { readConfig } = await import('../hub/attendance/store.js');
    return readConfig(db).tzOffsetMin;
  } catch {
    return 420;
  }
}
