import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../e2e/harness.js';
import type { RunState } from '../../kiosk/run-state.js';

/** A copy of the working tree's app files (what `release build --app` would take), patched. */
export function appCopy(dest: string, patches: Record<string, (text: string) => string> = {}): string {
  const files = execFileSync('git', ['-C', ROOT, 'ls-files', '-z', '--cached', '--others', '--exclude-standard'], { maxBuffer: 64 << 20 })
    .toString()
    .split('\0')
    .filter((p) => p && !p.startsWith('test/') && existsSync(join(ROOT, p)));
  for (const f of files) {
    mkdirSync(join(dest, f, '..'), { recursive: true });
    cpSync(join(ROOT, f), join(dest, f));
  }
  for (const [f, patch] of Object.entries(patches)) {
    const before = readFileSync(join(dest, f), 'utf8');
    const after = patch(before);
    if (after === before) throw new Error(`patch of ${f} changed nothing`);
    writeFileSync(join(dest, f), after);
  }
  return dest;
}

/**
 * systemd's part in the tests: runs `<root>/current/bin/hadir.mjs kiosk` and starts it again
 * 300 ms after it exits (Restart=always), always from whatever `current` points at then.
 * powerCut() SIGKILLs it and stops restarting; start() is the next boot.
 */
export class KioskLoop {
  child: ChildProcess | null = null;
  readonly runs: { pid: number; exit: number | string | null; startedAt: number }[] = [];
  private stopped = true;
  /** Bumped at every start/stop: a restart timer of an earlier boot must not start a second kiosk. */
  private generation = 0;
  private log = '';

  constructor(private readonly root: string, private readonly configPath: string, private readonly args: string[] = ['--simulate', '--rate', '5', '--no-screen']) {}

  start(): void {
    this.stopped = false;
    this.generation++;
    this.spawn(this.generation);
  }

  private spawn(gen: number): void {
    if (this.stopped || gen !== this.generation) return;
    const cur = join(this.root, 'current');
    const child = spawn(process.execPath, [join(cur, 'bin/hadir.mjs'), 'kiosk', '--config', this.configPath, ...this.args], {
      cwd: cur,
      env: { ...process.env, HADIR_LOG_LEVEL: 'warn', VITEST: '' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const run = { pid: child.pid!, exit: null as number | string | null, startedAt: Date.now() };
    this.runs.push(run);
    child.stderr!.on('data', (d) => (this.log = (this.log + d).slice(-20_000)));
    this.child = child;
    child.on('exit', (code, sig) => {
      run.exit = code ?? sig ?? -1;
      if (this.child === child) this.child = null;
      setTimeout(() => this.spawn(gen), 300).unref();
    });
  }

  private async kill(sig: NodeJS.Signals): Promise<void> {
    this.stopped = true;
    this.generation++;
    const c = this.child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill(sig);
    await exited;
  }

  powerCut(): Promise<void> {
    return this.kill('SIGKILL');
  }

  stop(): Promise<void> {
    return this.kill('SIGTERM');
  }

  output(): string {
    return this.log;
  }
}

export function runState(dataDir: string): RunState | null {
  try {
    return JSON.parse(readFileSync(join(dataDir, 'run-state.json'), 'utf8')) as RunState;
  } catch {
    return null;
  }
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The kiosk runs `version`, READY, connected, roster loaded. */
export function kioskHealthy(dataDir: string, version?: string): boolean {
  const s = runState(dataDir);
  return !!s && alive(s.pid) && s.ready && s.mqttConnected && s.rosterLoaded && (!version || s.version === version);
}
