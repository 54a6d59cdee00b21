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
  ]) {
    register(groups);
  }
  installCliAudit(groups.program);
  groups.program.exitOverride();
  try {
    await groups.program.parseAsync(argv);
  } catch (e) {
    process.exitCode = exitCodeFor(e);
  }
}

/** One line on stderr naming the problem and the fix; a stack only for real bugs. */
function exitCodeFor(e: unknown): number {
  if (e instanceof CommanderError) return e.exitCode; // commander already printed its message
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
