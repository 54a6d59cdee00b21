import { createHash } from 'node:crypto';
import { realpathSync, rmSync } from 'node:fs';
import { createConnection, createServer, type Server } from 'node:net';
import { join, resolve } from 'node:path';
import { UserError } from '../lib/errors.js';

/**
 * One kiosk process per data dir, held as an abstract unix socket
 * (`\0hadir-kiosk/<sha256 of the data dir's real path>`) that the kiosk binds and serves its pid on.
 *
 * Why a socket and not a pid file: the kernel unbinds it when the holder's last fd closes — at
 * exit, SIGKILL or power cut, before the process is even reaped (a zombie holds no fds) — and
 * there is no file to go stale, so no reused pid after a reboot can keep a kiosk down. Why not
 * flock/fcntl: Node has neither, and the npm packages for them are native addons that must be
 * cross-built for the Pi; this needs nothing. The catch: abstract sockets live in the network
 * namespace, so hadir-kiosk.service must not get PrivateNetwork= (test/ops checks that).
 */
export class InstanceLock {
  private constructor(
    private readonly server: Server,
    readonly name: string,
  ) {}

  static async acquire(dataDir: string): Promise<InstanceLock> {
    const name = lockName(dataDir);
    const server = createServer((sock) => sock.end(`${process.pid}\n`));
    server.unref();
    // A holder that is dying right now (threads still exiting) refuses connections but is not
    // unbound yet: nobody answering means try again shortly, not "refused".
    for (let attempt = 1; ; attempt++) {
      try {
        await listen(server, name);
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw e;
        const pid = await lockHolder(dataDir);
        if (pid === null && attempt < 25) {
          await new Promise((r) => setTimeout(r, 200));
          continue;
        }
        if (pid === process.pid) {
          throw new UserError(`another kiosk is already running in this process with data dir ${dataDir}`, 'stop it first');
        }
        throw new UserError(
          `another kiosk process (pid ${pid ?? '?'}) is already running with data dir ${dataDir}`,
          'stop it first (systemctl stop hadir-kiosk) — `hadir kiosk journal` can read the journal while it runs',
        );
      }
    }
    // The pid file of older versions is what kept kiosks down after a power cut: gone for good.
    rmSync(join(dataDir, 'kiosk.lock'), { force: true });
    return new InstanceLock(server, name);
  }

  async release(): Promise<void> {
    await new Promise<void>((ok) => this.server.close(() => ok()));
  }
}

/** The pid of the kiosk holding `dataDir`, or null when none does (for the CLI and tests). */
export async function lockHolder(dataDir: string, timeoutMs = 2000): Promise<number | null> {
  return new Promise((ok) => {
    let buf = '';
    const sock = createConnection(lockName(dataDir));
    const done = (v: number | null) => {
      sock.destroy();
      ok(v);
    };
    sock.setTimeout(timeoutMs, () => done(null));
    sock.on('data', (d) => (buf += d.toString()));
    sock.on('end', () => done(Number(buf.trim()) || null));
    sock.on('error', () => done(null));
  });
}

function listen(server: Server, name: string): Promise<void> {
  return new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(name, () => {
      server.off('error', fail);
      ok();
    });
  });
}

function lockName(dataDir: string): string {
  let path = resolve(dataDir);
  try {
    path = realpathSync(path);
  } catch {
    /* not made yet: the resolved path names it */
  }
  return `\0hadir-kiosk/${createHash('sha256').update(path).digest('hex').slice(0, 32)}`;
}
