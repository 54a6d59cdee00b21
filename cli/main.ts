import { CommanderError } from 'commander';
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
import { registerStoreAdminCommands } from './store-admin.js';

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
    registerStoreAdminCommands,
  ]) {
    register(groups);
  }
  installCliAudit(groups.program);
  // `hadir --version` / `-V` alone. Not commander's program.version(): a root option is matched after
  // any command too, and would swallow `release build --version 1.2.0` and `fleet rollout --version`.
  if (argv.length === 3 && (argv[2] === '--version' || argv[2] === '-V')) {
    const { APP_VERSION } = await import('../lib/version.js');
    process.stdout.write(`${APP_VERSION}\n`);
    return;
  }
  groups.program.addHelpText('after', '\n  -V, --version   versi / print the version');
  groups.program.exitOverride();
  try {
    await groups.program.parseAsync(argv);
  } catch (e) {
    process.exitCode = exitCodeFor(e);
  }
}

/** One line on stderr naming the problem and the fix; a stack only for real bugs. */
function exitCodeFor(e: unknown): number {
  // Commander printed its own messages. A command that would open a hub database where there is
  // none refuses in cli/open-hub.ts, as a UserError.
  if (e instanceof CommanderError) return e.exitCode;
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
