/** A row as the database drivers return it (better-sqlite3, pg): column name → value. */
export type Row = Record<string, unknown>;

/** `createdAt` → `created_at`, at the type level. */
type Snake<S extends string> = S extends `${infer H}${infer T}` ? `${H extends Lowercase<H> ? H : `_${Lowercase<H>}`}${Snake<T>}` : S;

/**
 * A row as a record whose fields are these columns in camelCase (`used_at` → `usedAt`), NULL (or
 * a missing column) as null. For records that mirror their table; the columns are named, so a
 * column added to the table later does not leak into an API answer. Fields that convert (JSON,
 * 0/1 flags) are set by the caller after it.
 */
export function camelRecord<T>(r: Row, columns: readonly Snake<keyof T & string>[]): T {
  const o: Row = {};
  for (const c of columns) o[c.replace(/_([a-z0-9])/g, (_, x: string) => x.toUpperCase())] = r[c] ?? null;
  return o as T;
}
