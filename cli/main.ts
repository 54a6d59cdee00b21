import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CommanderError, type Command } from 'commander';
import { isUserError } from '../lib/errors.js';
import { createProgram } from './program.js';
import { registerHubCommands } from './hub.js';
import { registerKioskCommands } from './kiosk.js';
import { registerFaceCommands } from './face.js';
import { registerFingerCommands } from './finger.js';
import { registerAttendanceCommands } from './attendance.js';
import { registerOpsCommands } from './ops.js';
import { installCliAudit, registerAuditCommands } from './audit.js';
import { registerFleetCommands } from './fleet.js';
import { registerEverydayCommands } from './everyday.js';

export async function main(argv: string[]): Promise<void> {
  const groups = createProgram();
  for (const register of [
    registerHubCommands,
    registerKioskCommands,
    registerFaceCommands,
    registerFingerCommands,
    registerAttendanceCommands,
    registerOpsCommands,
    registerAuditCommands,
    registerFleetCommands,
    registerEverydayCommands,
  ]) {
    register(groups);
  }
  installCliAudit(groups.program);
  // `hadir --version` / `-V` alone. Not commander's program.version(): a root option is matched after
  // any command too, and would swallow `release build --version 1.2.0` and `fleet rollout --version`.
  if (argv.length === 3 && (argv[2] === '--version' || argv[2] === '-V')) {
    const pkg = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'package.json'), 'utf8')) as { version: string };
    process.stdout.write(`${pkg.version}\n`);
    return;
  }
  groups.program.addHelpText('after', '\n  -V, --version   versi / print the version');
  groups.program.hook('preAction', (_root, action) => refuseImplicitEmptyData(action));
  groups.program.exitOverride();
  try {
    await groups.program.parseAsync(argv);
  } catch (e) {
    process.exitCode = exitCodeFor(e);
  }
}

/** Commands that create their own data (the hub itself, the demo) or use a kiosk's --data. */
const OWN_DATA = new Set(['hub', 'demo', 'kiosk']);

/**
 * An administrative command run without --data / HADIR_DATA_DIR / --db / HADIR_DB_URL in a
 * directory with no ./data/hub.db would silently create an empty hub database there and then
 * answer from it ("no TPP rule is installed"): refuse with the fix instead. An explicit
 * `--data ./data` still creates one (a new hub's first `hadir import org`).
 */
function refuseImplicitEmptyData(cmd: Command): void {
  const path: string[] = [];
  for (let c: Command | null = cmd; c?.parent; c = c.parent) path.unshift(c.name());
  if (OWN_DATA.has(path[0] ?? '')) return;
  if (!cmd.options.some((o) => o.long === '--data')) return;
  const opts = cmd.opts() as { data?: string; db?: string };
  if (opts.data || opts.db || process.env.HADIR_DATA_DIR || process.env.HADIR_DB_URL) return;
  if (existsSync(resolve('data', 'hub.db'))) return;
  throw Object.assign(new CommanderError(2, 'hadir.nodata', ''), {
    message: `${path.join(' ')}: tidak ada data hub di ./data (./data/hub.db belum ada) / no hub data in ./data — pass --data DIR (or HADIR_DATA_DIR) with the hub's data directory; \`--data ./data\` creates a new one here`,
  });
}

/** One line on stderr naming the problem and the fix; a stack only for real bugs. */
function exitCodeFor(e: unknown): number {
  if (e instanceof CommanderError) {
    if (e.code === 'hadir.nodata') process.stderr.write(`hadir: ${e.message}\n`);
    return e.exitCode; // commander printed its own messages
  }
  if (isUserError(e)) {
    process.stderr.write(`hadir: ${e.message}\n`);
    // a UserError thrown for the HTTP API carries a 4xx status: the CLI exits 2 for those
    return e.status < 100 ? e.status : 2;
  }
  const err = e as Error;
  process.stderr.write(`hadir: internal error: ${err?.message ?? String(e)} — please report this with the log (HADIR_LOG_LEVEL=debug)\n`);
  if (process.env.HADIR_LOG_LEVEL === 'debug') process.stderr.write(`${err?.stack}\n`);
  return 1;
}
