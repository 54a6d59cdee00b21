import type { Groups } from './program.js';
import { hubConfig, hubDataOptions, type HubFlags } from './open-hub.js';

/**
 * `hadir backup --out DIR` and `hadir restore --from DIR`: the hub's database and the data-dir files
 * that belong to it (hub/store/backup.ts), on either store. Backup works while the hub runs;
 * restore goes into an empty target (a new data folder or a new PostgreSQL database).
 */
export function registerBackupCommands(g: Groups): void {
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
}
