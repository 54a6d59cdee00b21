/**
 * The arm64 kiosk VM, reusable by any system test: boots Debian's arm64 kernel + initrd from the
 * image built by build-image.sh in qemu-system-aarch64 (-M virt, TCG), on a copy-on-write disk
 * whose base stays untouched, runs commands in it over ssh, and cuts its power (SIGKILL to qemu:
 * no shutdown, no flush beyond what the guest already flushed).
 *
 *   const vm = new Vm({ image, disk: join(work, 'kiosk.qcow2'), usb: mirrorImage, log });
 *   Vm.createDisk(image, vm.disk);    // once: a fresh Pi
 *   await vm.boot(); await vm.waitSsh();
 *   await vm.ssh('systemctl is-active hadir-kiosk');
 *   await vm.powerCut();
 *
 * The guest reaches this machine's loopback as 10.0.2.2 (qemu user-mode networking); this
 * machine reaches the guest's sshd on 127.0.0.1:<sshPort>. Docs: docs/technician.md.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

export interface VmOptions {
  /** Directory made by build-image.sh: vmlinuz, initrd.img, root.img, KERNEL. */
  image: string;
  /** The VM's own disk (qcow2 over image/root.img); made by Vm.createDisk. */
  disk: string;
  /** An ext4 image labelled HADIRUSB attached read-only as the second disk (the technician's stick). */
  usb?: string;
  /** Serial console log (appended across boots). */
  log: string;
  /** The ssh key authorised in the image (build-image.sh puts <cache>/id_ed25519.pub there). */
  sshKey: string;
  memMb?: number;
  smp?: number;
  /**
   * qemu's CPU model. Default cortex-a72, the Raspberry Pi 4's core (ARMv8.0: no pointer
   * authentication, no LSE atomics, no SVE): a program built for a newer core fails here as it
   * would on a Pi 4. (`-cpu max` also has TCG emulate pointer authentication with its QARMA
   * cipher on the calls of Debian's PAC-enabled userland, which qemu's docs name as slow.)
   * $HADIR_VM_CPU overrides.
   */
  cpu?: string;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export class Vm {
  private qemu: ChildProcess | null = null;
  private exited: Promise<void> | null = null;
  sshPort = 0;
  /** Date.now() when the current boot's qemu process started. */
  bootedAt = 0;
  boots = 0;

  constructor(readonly opts: VmOptions) {}

  get disk(): string {
    return this.opts.disk;
  }

  get running(): boolean {
    return this.qemu !== null;
  }

  /** A fresh disk over the cached image (the image itself is never written). */
  static createDisk(image: string, disk: string): void {
    const r = spawnSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', join(image, 'root.img'), '-F', 'raw', disk], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`qemu-img create failed: ${r.stderr}`);
  }

  async boot(): Promise<void> {
    if (this.qemu) throw new Error('VM already running');
    const { image, disk, usb, log } = this.opts;
    this.sshPort = await freePort();
    const kernel = readFileSync(join(image, 'KERNEL'), 'utf8').trim();
    const args = [
      '-M', 'virt', '-cpu', this.opts.cpu ?? process.env.HADIR_VM_CPU ?? 'cortex-a72', '-smp', String(this.opts.smp ?? 2), '-m', String(this.opts.memMb ?? 2048),
      '-nographic', '-no-reboot', '-monitor', 'none', '-serial', 'stdio',
      '-kernel', join(image, 'vmlinuz'), '-initrd', join(image, 'initrd.img'),
      // panic=5 + -no-reboot: a guest that panics ends qemu instead of hanging the test.
      '-append', `root=/dev/vda ro console=ttyAMA0 panic=5 systemd.show_status=1 net.ifnames=0 hadir.kernel=${kernel}`,
      '-drive', `if=virtio,format=qcow2,file=${disk}`,
      // romfile= : no PXE boot ROM (the kernel is given directly; Debian ships the ROM in ipxe-qemu,
      // a package qemu-system-arm only recommends, and without it qemu refused to start)
      '-netdev', `user,id=n0,hostfwd=tcp:127.0.0.1:${this.sshPort}-:22`, '-device', 'virtio-net-pci,netdev=n0,romfile=',
      // The Pi's hardware watchdog, for systemd's RuntimeWatchdogSec.
      '-device', 'i6300esb',
      '-device', 'virtio-rng-pci',
    ];
    if (usb) args.push('-drive', `if=virtio,format=raw,readonly=on,file=${usb}`);
    const out = createWriteStream(log, { flags: 'a' });
    out.write(`\n===== boot ${this.boots + 1} ${new Date().toISOString()} =====\n`);
    // nice: emulation takes whole cores; others may share this machine ($HADIR_VM_NICE, default 5).
    const child = spawn('nice', ['-n', process.env.HADIR_VM_NICE ?? '5', 'qemu-system-aarch64', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.pipe(out, { end: false });
    child.stderr!.pipe(out, { end: false });
    this.exited = new Promise((r) =>
      child.on('exit', () => {
        this.qemu = null;
        r();
      }),
    );
    this.qemu = child;
    this.bootedAt = Date.now();
    this.boots++;
  }

  /** Power cut: SIGKILL to qemu (the guest gets no shutdown, unflushed writes are lost). */
  async powerCut(): Promise<void> {
    if (!this.qemu) return;
    // nice(1) execs qemu, so the child's pid is qemu's.
    this.qemu.kill('SIGKILL');
    await this.exited;
  }

  /** Clean shutdown (poweroff in the guest; qemu exits by itself), power cut after timeoutMs. */
  async shutdown(timeoutMs = 120_000): Promise<void> {
    if (!this.qemu) return;
    await this.ssh('systemctl poweroff', { timeoutMs: 15_000 }).catch(() => {});
    const done = await Promise.race([this.exited!.then(() => true), sleep(timeoutMs).then(() => false)]);
    if (!done) await this.powerCut();
  }

  /** Waits until sshd answers (the system is up to multi-user far enough to log in). */
  async waitSsh(timeoutMs = Number(process.env.HADIR_VM_SSH_WAIT_S ?? 1200) * 1000): Promise<number> {
    const t0 = Date.now();
    while (Date.now() - t0 < timeoutMs) {
      if (!this.qemu) throw new Error(`the VM stopped while booting (see ${this.opts.log})`);
      const r = await this.sshOnce('true', { timeoutMs: 60_000 }).catch(() => null);
      if (r?.code === 0) return (Date.now() - this.bootedAt) / 1000;
      await sleep(2000);
    }
    throw new Error(`no ssh after ${timeoutMs / 1000} s (see ${this.opts.log})`);
  }

  /**
   * Runs a shell command as root in the guest. A connection that fails before the session starts
   * (an emulated guest on a loaded host can take longer than ConnectTimeout for sshd's banner) is
   * tried again: the command never ran, so repeating it is safe whatever it does.
   */
  async ssh(command: string, o: { timeoutMs?: number; input?: string | Buffer } = {}): Promise<RunResult> {
    for (let attempt = 1; ; attempt++) {
      const r = await this.sshOnce(command, o);
      const notConnected = r.code === 255 && !r.stdout && /during banner exchange|connect to host .*(timed out|refused)|kex_exchange_identification/.test(r.stderr);
      if (!notConnected || attempt >= 5) return r;
      await sleep(5_000);
    }
  }

  private sshOnce(command: string, o: { timeoutMs?: number; input?: string | Buffer }): Promise<RunResult> {
    return new Promise((resolve, reject) => {
      const child = spawn('ssh', [...this.sshArgs(), 'root@127.0.0.1', command], { stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`ssh timed out after ${(o.timeoutMs ?? 600_000) / 1000} s: ${command}`));
      }, o.timeoutMs ?? 600_000);
      child.on('error', reject);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code: code ?? -1, stdout, stderr });
      });
      child.stdin.on('error', () => {});
      child.stdin.end(o.input ?? '');
    });
  }

  /** Like ssh() but throws with the output when the command fails. */
  async run(command: string, o: { timeoutMs?: number; input?: string | Buffer } = {}): Promise<string> {
    const r = await this.ssh(command, o);
    if (r.code !== 0) throw new Error(`guest command failed (${r.code}): ${command}\n${r.stdout.slice(-2000)}\n${r.stderr.slice(-2000)}`);
    return r.stdout;
  }

  /** Copies a host file into the guest (over ssh; no scp/sftp needed in the guest). */
  async put(hostPath: string, guestPath: string, mode = '0644'): Promise<void> {
    await this.run(`cat > '${guestPath}.part' && chmod ${mode} '${guestPath}.part' && mv '${guestPath}.part' '${guestPath}'`, { input: readFileSync(hostPath) });
  }

  sshArgs(): string[] {
    return [
      '-i', this.opts.sshKey, '-p', String(this.sshPort),
      '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR',
      '-o', 'ConnectTimeout=60', '-o', 'BatchMode=yes', '-o', 'ServerAliveInterval=10', '-o', 'ServerAliveCountMax=6',
    ];
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => ok(port));
    });
  });
}

/** The files build-image.sh leaves in an image directory. */
export function isImage(dir: string): boolean {
  return ['vmlinuz', 'initrd.img', 'root.img', 'KERNEL', '.complete'].every((f) => existsSync(join(dir, f)));
}
