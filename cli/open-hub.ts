import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import type { HubConfig } from '../hub/config.js';
import { UserError } from '../lib/errors.js';
import { systemClock, type Clock } from '../lib/clock.js';
import type { SqliteDb } from '../hub/store/sqlite.js';
import type { CoreStore } from '../hub/store/core-store.js';
import type { HubStores } from '../hub/store/stores.js';

/**
 * The one way a `hadir` command reaches the hub's data (DESIGN.md "Command line": administrative
 * commands work on `HADIR_DATA_DIR` / `HADIR_DB_URL` whether or not the hub runs). Settings come
 * from the hub's own resolver (hub/config.ts: flag over environment over default), the stores from
 * the one store factory (hub/store/open.ts openStores), so a command sees exactly the database and
 * the repositories the hub process uses. On a postgres:// HADIR_DB_URL / --db only commands whose
 * repositories all have a PostgreSQL implementation open it (`postgres: true`); every other
 * command is refused in one line by the resolver (hub/config.ts dbPathFor) until issue 15 ports it.
 */

/** `--data DIR` / `--db URL`, as every command that works on the hub's data takes them. */
export interface HubFlags {
  data?: string;
  db?: string;
}

/** What a command gets: the settings, the core store and every repository. */
export interface OpenedHub {
  config: HubConfig;
  store: CoreStore;
  /** Every repository, as the hub's modules get them (HubContext.stores). */
  stores: HubStores;
  /** The raw SQLite handle, for the command line's SQLite-only commands (never for hub modules; on PostgreSQL touching it is refused). */
  db: SqliteDb;
  /** The clock every "now" of the command comes from (lib/clock.ts; the system clock unless the caller passes one). */
  clock: Clock;
}

export interface OpenHubOptions {
  /**
   * May this command make a new, empty hub database? Only commands that can stand first on a new
   * hub (`hadir import org`, `user add`, `rules add`, …) say yes; a command that reads or changes
   * data that must already be there refuses, so a wrong `--db` / `--data` is an error, not an
   * empty answer from a database made on the spot.
   */
  create?: boolean;
  /**
   * Does this command use only repositories (HubStores: every one has a PostgreSQL implementation),
   * not the raw SQLite handle? Then a postgres:// database URL is opened; otherwise it is
   * refused in one line, naming the SQLite-only state (hub/config.ts dbPathFor).
   */
  postgres?: boolean;
  /** The command's clock (default the system clock: a command is a process edge). */
  clock?: Clock;
}

/** Adds `--data` and `--db` to a command. */
export function hubDataOptions(c: Command): Command {
  return c
    .option('--data <dir>', 'hub data directory (HADIR_DATA_DIR, default ./data)')
    .option('--db <url>', 'hub database (HADIR_DB_URL; default <data>/hub.db)');
}

/** The hub's settings for these flags (also for commands that only need an address or the prefix). */
export async function hubConfig(flags: HubFlags, env: NodeJS.ProcessEnv = process.env, o: { postgres?: boolean } = {}): Promise<HubConfig> {
  const { resolveHubConfig } = await import('../hub/config.js'); // lazily, like every heavy module of the CLI
  return resolveHubConfig({ dataDir: flags.data, dbUrl: flags.db }, env, o);
}

/** Opens the hub's store (migrations applied); the caller closes it with `closeHub`, or uses `withHub`. */
export async function openHub(flags: HubFlags, opts: OpenHubOptions = {}, env: NodeJS.ProcessEnv = process.env): Promise<OpenedHub> {
  const config = await hubConfig(flags, env, { postgres: opts.postgres });
  if (!config.postgresUrl && config.dbPath !== ':memory:' && !existsSync(config.dbPath)) {
    const { envInput } = await import('../hub/config.js');
    refuseMissing(config, flags, opts, envInput(env));
  }
  const { openHubStores } = await import('../hub/store/open.js');
  const { db, store, stores } = await openHubStores(config);
  return { config, store, stores, db, clock: opts.clock ?? systemClock };
}

export async function closeHub(hub: OpenedHub): Promise<void> {
  await hub.store.close();
}

/** Opens the hub, runs `fn`, closes the hub whatever happens. */
export async function withHub<T>(flags: HubFlags, fn: (hub: OpenedHub) => Promise<T> | T, opts: OpenHubOptions = {}): Promise<T> {
  const hub = await openHub(flags, opts);
  try {
    return await fn(hub);
  } finally {
    await closeHub(hub);
  }
}

function refuseMissing(config: HubConfig, flags: HubFlags, opts: OpenHubOptions, fromEnv: { dataDir?: string; dbUrl?: string }): void {
  const named = flags.data || flags.db || fromEnv.dataDir || fromEnv.dbUrl;
  if (!named) {
    // Run without any of them in a directory with no ./data/hub.db: even a command that may create
    // one should not silently start a second, empty hub here.
    throw new UserError(
      "tidak ada data hub di ./data (./data/hub.db belum ada) / no hub data in ./data",
      "pass --data DIR (or HADIR_DATA_DIR) with the hub's data directory; `--data ./data` creates a new one here",
    );
  }
  if (opts.create) return;
  // the same order as the resolver: a database URL (flag, then env) over a data dir (flag, then env)
  const where = flags.db ? '--db' : fromEnv.dbUrl ? 'HADIR_DB_URL' : flags.data ? '--data' : 'HADIR_DATA_DIR';
  throw new UserError(
    `tidak ada basis data hub di ${config.dbPath} / no hub database at ${config.dbPath} (from ${where})`,
    'check --data / --db (HADIR_DATA_DIR / HADIR_DB_URL); a new hub is made by `hadir hub` or `hadir import org`',
  );
}
