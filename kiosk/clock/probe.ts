import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { ClockConfig } from './config.js';
import type { ClockState } from './state.js';
import { chronyClockState, parseChronySources, parseChronyTracking } from './chrony.js';
import { parseShowTimesync, parseTimedatectlShow, timesyncdClockState } from './timesyncd.js';

/** Runs a command and returns stdout; rejects on a missing binary, non-zero exit or timeout. */
export type CommandRunner = (cmd: string, args: string[]) => Promise<string>;

export const execRunner: CommandRunner = (cmd, args) =>
  new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: 3000, encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } }, (err, stdout, stderr) => {
      if (err) {
        const msg = (stderr || stdout || err.message).trim().split('\n')[0];
        reject(Object.assign(new Error(`${cmd} ${args.join(' ')}: ${msg}`), { code: (err as NodeJS.ErrnoException).code }));
      } else resolve(stdout);
    });
  });

type ProbeConfig = Pick<ClockConfig, 'maxErrorMs' | 'chronyc' | 'chronyHost' | 'timedatectl' | 'timesyncFlag'>;

/**
 * Asks chrony first (the clock daemon provisioning installs), then systemd-timesyncd; when
 * neither answers the clock is `system` and unsynced — punches still go on, marked unsynced.
 */
export async function probeClock(cfg: ProbeConfig, run: CommandRunner = execRunner, fileExists: (p: string) => boolean = existsSync): Promise<ClockState> {
  const host = cfg.chronyHost ? ['-h', cfg.chronyHost] : [];
  let chronyError: string;
  try {
    const [tracking, sources] = await Promise.all([run(cfg.chronyc, [...host, '-c', 'tracking']), run(cfg.chronyc, [...host, '-c', 'sources'])]);
    return chronyClockState(parseChronyTracking(tracking), parseChronySources(sources), cfg.maxErrorMs);
  } catch (e) {
    chronyError = (e as Error).message;
  }
  try {
    const show = parseTimedatectlShow(await run(cfg.timedatectl, ['show']));
    const status = await run(cfg.timedatectl, ['show-timesync']).then(parseShowTimesync, () => null);
    return timesyncdClockState(show, status, fileExists(cfg.timesyncFlag));
  } catch (e) {
    return {
      synced: false,
      source: 'system',
      detail: `tidak ada chrony/timesyncd / neither chrony nor timesyncd answered (${chronyError.slice(0, 120)}; ${(e as Error).message.slice(0, 120)})`,
    };
  }
}
