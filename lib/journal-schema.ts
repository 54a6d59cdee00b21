import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The kiosk journal's schema versions, read from one file by the two parties that need them: the
 * kiosk (kiosk/journal.ts applies the migrations) and the release builder (lib/release-build.ts
 * writes the version into the manifest, so the updater and the hub know what a release expects).
 * Version 1 is the baseline in kiosk/journal.ts; migration i (0-based) brings a journal to 2 + i.
 */
export const JOURNAL_MIGRATIONS_FILE = 'kiosk/journal-migrations.json';

export interface JournalMigration {
  sql: string;
}

/** The migrations of the app at `appDir`; none for an app from before migrations existed. */
export function readJournalMigrations(appDir: string): JournalMigration[] {
  const file = join(appDir, JOURNAL_MIGRATIONS_FILE);
  if (!existsSync(file)) return [];
  return (JSON.parse(readFileSync(file, 'utf8')) as { migrations: JournalMigration[] }).migrations;
}

/** The schema version a journal has once every migration in `migrations` is applied. */
export function journalSchemaVersion(migrations: readonly JournalMigration[]): number {
  return 1 + migrations.length;
}
