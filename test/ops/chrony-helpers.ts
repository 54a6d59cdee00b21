import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const haveChronyd = spawnSync('sh', ['-c', 'command -v chronyd && command -v chronyc']).status === 0;

/**
 * Private chronyd instances for tests (-x: they never touch the system clock). A "server" serves
 * the local clock with `local stratum 8`; a "client" synchronises to it over UDP on a random port.
 */
export class ChronyLab {
  readonly dir = mkdtempSync(join(tmpdir(), 'hadir-chrony-'));
  readonly port = 20000 + Math.floor(Math.random() * 20000);
  private pidFiles: string[] = [];

  constructor() {
    chmodSync(this.dir, 0o700); // chronyd refuses a socket directory others can enter
  }

  private start(name: string, conf: string): void {
    writeFileSync(join(this.dir, `${name}.conf`), `${conf}\npidfile ${this.dir}/${name}.pid\nbindcmdaddress ${this.dir}/${name}.sock\ndriftfile ${this.dir}/${name}.drift\n`);
    this.pidFiles.push(join(this.dir, `${name}.pid`));
    const r = spawnSync('chronyd', ['-u', 'root', '-x', '-f', join(this.dir, `${name}.conf`), '-l', join(this.dir, `${name}.log`)], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`chronyd ${name} did not start: ${r.stderr}`);
  }
  startServer(): void {
    this.start('server', `port ${this.port}\ncmdport 0\nlocal stratum 8\nallow 127.0.0.1`);
  }
  startClient(): void {
    this.start('client', `port 0\ncmdport 0\nserver 127.0.0.1 port ${this.port} iburst minpoll 0 maxpoll 0\nmakestep 1 3`);
  }
  get clientSocket(): string {
    return join(this.dir, 'client.sock');
  }
  /** Stops the daemons and waits until they are gone (chronyd writes its drift file on exit). */
  async stop(): Promise<void> {
    const pids: number[] = [];
    for (const p of this.pidFiles) {
      try {
        const pid = Number(readFileSync(p, 'utf8'));
        process.kill(pid);
        pids.push(pid);
      } catch {}
    }
    const alive = (pid: number) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    for (let i = 0; i < 50 && pids.some(alive); i++) await new Promise((r) => setTimeout(r, 50));
    rmSync(this.dir, { recursive: true, force: true, maxRetries: 5 });
  }
}
