import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { runStatePath } from '../run-state.js';

/** How the updater restarts the kiosk (a separate unit/process it does not own). */
export interface KioskSupervisor {
  /** Asks for a restart (the new process is then watched through run-state.json). */
  restart(): Promise<void>;
  /**
   * How many times the process manager has restarted the kiosk by itself since restart(), or null
   * when it cannot tell. A release that dies before its own first line runs (a broken import, a
   * missing native module) leaves no start record of its own: only the manager saw it die.
   */
  crashesSinceRestart?(): Promise<number | null>;
}

/**
 * systemd: `systemctl restart --no-block UNIT` (Type=notify; whether it came up is checked by the
 * updater). Crashes are systemd's own count of automatic restarts (NRestarts; the unit restarts
 * always, every RestartSec).
 */
export class SystemdSupervisor implements KioskSupervisor {
  /** NRestarts when last read, and the automatic restarts counted since restart(). */
  private last: number | null = null;
  private counted = 0;

  constructor(private readonly unit: string, private readonly systemctl = 'systemctl') {}

  async restart(): Promise<void> {
    this.last = await this.nRestarts();
    this.counted = 0;
    await promisify(execFile)(this.systemctl, ['restart', '--no-block', this.unit], { timeout: 30_000 });
  }

  async crashesSinceRestart(): Promise<number | null> {
    const now = await this.nRestarts();
    if (now === null || this.last === null) return null;
    // systemd may flush the counter at a manual start (or not: it depends on the state the unit was
    // in), so a value below the last one is a fresh count from zero, not a negative number of crashes.
    this.counted += now >= this.last ? now - this.last : now;
    this.last = now;
    return this.counted;
  }

  private async nRestarts(): Promise<number | null> {
    try {
      const { stdout } = await promisify(execFile)(this.systemctl, ['show', '--property', 'NRestarts', '--value', this.unit], { timeout: 30_000 });
      const n = Number(stdout.trim());
      return stdout.trim() !== '' && Number.isInteger(n) && n >= 0 ? n : null;
    } catch {
      return null; // an old systemd without NRestarts: the deadline still decides
    }
  }
}

/** Whether a process with this pid exists (EPERM: it does, owned by someone else). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * For a process manager with "restart always" (tests' supervisor, runit, a container): SIGTERM to
 * the kiosk's pid — from its run-state.json, or a pid lock file where the kiosk keeps one — waiting
 * until it has exited (SIGKILL after `killAfterMs`). The manager starts it again from `current`.
 */
export class SignalSupervisor implements KioskSupervisor {
  constructor(private readonly dataDir: string, private readonly killAfterMs = 20_000) {}

  private pids(): number[] {
    const out = new Set<number>();
    try {
      out.add(Number((JSON.parse(readFileSync(runStatePath(this.dataDir), 'utf8')) as { pid: number }).pid));
    } catch {}
    try {
      out.add(Number(readFileSync(join(this.dataDir, 'kiosk.lock'), 'utf8').trim()));
    } catch {}
    return [...out].filter((p) => Number.isInteger(p) && p > 1 && p !== process.pid && alive(p));
  }

  async restart(): Promise<void> {
    const pids = this.pids(); // none running: the manager is starting one anyway
    for (const pid of pids) process.kill(pid, 'SIGTERM');
    const until = Date.now() + this.killAfterMs;
    for (const pid of pids) {
      while (alive(pid)) {
        if (Date.now() > until) {
          process.kill(pid, 'SIGKILL');
          break;
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }
}
