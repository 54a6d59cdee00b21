import type { Groups } from './program.js';
import { UserError } from '../lib/errors.js';
import { table } from './format.js';
import { hubConfig, hubDataOptions, type HubFlags } from './open-hub.js';

/**
 * The hub's database as a whole: `hadir backup --out DIR` and `hadir restore --from DIR` (the
 * database and the data-dir files that belong to it, hub/store/backup.ts; either store; backup
 * while the hub runs, restore into an empty target), and `hadir migrate --from sqlite:PATH --to
 * postgres://…` (hub/store/migrate.ts: one transaction, counts and a checksum per table).
 */
export function registerStoreAdminCommands(g: Groups): void {
  hubDataOptions(
    g.program
      .command('backup')
      .description('Cadangkan hub / back up the hub: database (consistent while the hub runs), biometric.key, release key and bundles, with a MANIFEST of sha256 and row counts')
      .requiredOption('--out <dir>', 'a new folder for this backup')
      .option('--no-releases', 'leave out the stored release bundles'),
  ).action(async (o: HubFlags & { out: string; releases: boolean }) => {
    const { backupHub } = await import('../hub/store/backup.js');
    const { APP_VERSION } = await import('../lib/version.js');
    const { systemClock } = await import('../lib/clock.js');
    const config = await hubConfig(o, process.env, { postgres: true });
    const t0 = Date.now();
    const m = await backupHub(config, { out: o.out, releases: o.releases, appVersion: APP_VERSION, clock: systemClock, progress: (l) => process.stderr.write(`  ${l}\n`) });
    const rows = Object.values(m.tables).reduce((a, b) => a + b, 0);
    const mb = Object.values(m.files).reduce((a, f) => a + f.bytes, 0) / 1e6;
    process.stdout.write(`cadangan / backup ${o.out}: ${m.store}, ${Object.keys(m.tables).length} tabel / tables, ${rows} baris / rows, ${Object.keys(m.files).length} berkas / files, ${mb.toFixed(1)} MB in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  });

  hubDataOptions(
    g.program
      .command('restore')
      .description('Pulihkan hub / restore a backup into an empty target (a new --data folder, or a new, empty PostgreSQL database); checks every sha256 first and the row counts after')
      .requiredOption('--from <dir>', 'the folder `hadir backup --out` made')
      .option('--force', 'SQLite: replace an existing hub database (stop the hub first; the old file is kept beside it)'),
  ).action(async (o: HubFlags & { from: string; force?: boolean }) => {
    const { restoreHub } = await import('../hub/store/backup.js');
    const { systemClock } = await import('../lib/clock.js');
    const config = await hubConfig(o, process.env, { postgres: true });
    const r = await restoreHub(config, { from: o.from, force: !!o.force, clock: systemClock, progress: (l) => process.stderr.write(`  ${l}\n`) });
    const rows = Object.values(r.tables).reduce((a, b) => a + b, 0);
    process.stdout.write(`dipulihkan / restored ${o.from} (${r.manifest.store}, made ${r.manifest.createdAt} by ${r.manifest.appVersion}): ${Object.keys(r.tables).length} tabel / tables, ${rows} baris / rows, counts match the backup\n`);
  });

  g.program
    .command('migrate')
    .description('Pindahkan hub ke PostgreSQL / move a SQLite hub to PostgreSQL in one transaction: rows and a checksum per table on both sides, rolled back on any difference; re-runnable')
    .requiredOption('--from <url>', 'the SQLite hub: sqlite:/path/to/data/hub.db (stop that hub first; kiosks keep their punches until acked)')
    .requiredOption('--to <url>', 'postgres://user@host:5432/db (made with createdb; the hub\'s migrations are applied to it)')
    .option('--replace', 'empty the target\'s hub tables first (a target with data is refused otherwise)')
    .action(async (o: { from: string; to: string; replace?: boolean }) => {
      const { isPostgresUrl } = await import('../hub/store/pg.js');
      if (!/^sqlite:/.test(o.from) && !o.from.endsWith('.db')) throw new UserError(`--from ${o.from} is not a SQLite hub database`, 'give --from sqlite:/path/to/data/hub.db');
      if (!isPostgresUrl(o.to)) throw new UserError(`--to ${o.to} is not a postgres:// URL`, 'give --to postgres://user@host:5432/database');
      const { migrateSqliteToPostgres } = await import('../hub/store/migrate.js');
      const t0 = Date.now();
      const results = await migrateSqliteToPostgres({ from: o.from, to: o.to, replace: !!o.replace, progress: (l) => process.stderr.write(`  ${l}\n`) });
      const rows = [['TABEL/TABLE', 'BARIS/ROWS', 'TUJUAN/TARGET', 'CHECKSUM', 'SAMA/EQUAL']];
      for (const r of results) rows.push([r.table, String(r.rows), String(r.targetRows), r.checksum, r.checksum === r.targetChecksum && r.rows === r.targetRows ? 'ya/yes' : 'TIDAK/NO']);
      process.stdout.write(table(rows));
      const total = results.reduce((a, r) => a + r.rows, 0);
      process.stdout.write(`selesai / done: ${results.length} tabel / tables, ${total} baris / rows copied and checked in ${((Date.now() - t0) / 1000).toFixed(1)} s; start the hub with HADIR_DB_URL=${o.to.replace(/\/\/[^@/]*@/, '//…@')}\n`);
    });
}
