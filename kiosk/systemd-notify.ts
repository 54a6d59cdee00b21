import { createRequire } from 'node:module';
import { childLogger } from '../lib/logger.js';

/**
 * sd_notify for `Type=notify` units: READY=1 once the kiosk is up, WATCHDOG=1 at half of
 * WatchdogSec so systemd restarts a hung process. Node has no AF_UNIX datagram sockets, hence the
 * optional native `unix-dgram`. Silent when NOTIFY_SOCKET is unset (tests, a shell); when the
 * module is missing or the socket is abstract (`@…`, which unix-dgram cannot address), it warns
 * once and the unit's watchdog would fire — the unit file documents that dependency.
 */

interface DgramSocket {
  on(ev: 'error', cb: (e: Error) => void): void;
  send(buf: Buffer, offset: number, length: number, path: string, cb: (err?: Error) => void): void;
  close(): void;
}
interface UnixDgram {
  createSocket(type: 'unix_dgram'): DgramSocket;
}

const log = childLogger('systemd');
let warned = false;

let unixDgram: UnixDgram | null | undefined;
function loadUnixDgram(): UnixDgram | null {
  if (unixDgram !== undefined) return unixDgram;
  try {
    unixDgram = createRequire(import.meta.url)('unix-dgram') as UnixDgram;
  } catch {
    unixDgram = null;
  }
  return unixDgram;
}

/** Loads the native socket module now (a synchronous require), so a later notification costs one send. */
export function prepareNotify(env: NodeJS.ProcessEnv = process.env): void {
  if (env.NOTIFY_SOCKET) loadUnixDgram();
}

/** Sends one notification; resolves false when not under systemd or it could not be sent. */
export async function sdNotify(state: string, env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  const path = env.NOTIFY_SOCKET;
  if (!path) return false;
  const warn = (why: string) => {
    if (!warned) log.warn({ notifySocket: path }, `sd_notify unavailable: ${why}`);
    warned = true;
    return false;
  };
  if (path.startsWith('@')) return warn('abstract NOTIFY_SOCKET is not supported by unix-dgram');
  const mod = loadUnixDgram();
  if (!mod) return warn('optional module unix-dgram is not installed (npm install unix-dgram)');
  const sock = mod.createSocket('unix_dgram');
  const buf = Buffer.from(state);
  return new Promise((resolve) => {
    sock.on('error', (e) => {
      warn(e.message);
      resolve(false);
    });
    sock.send(buf, 0, buf.length, path, (err) => {
      try {
        sock.close();
      } catch {}
      if (err) resolve(warn(err.message));
      else resolve(true);
    });
  });
}

export function notifyReady(status = 'Hadir kiosk berjalan / running'): Promise<boolean> {
  return sdNotify(`READY=1\nSTATUS=${status}`);
}

export function notifyStopping(): Promise<boolean> {
  return sdNotify('STOPPING=1');
}

/**
 * Starts the watchdog pings at half of WATCHDOG_USEC (systemd sets it from WatchdogSec). `healthy`
 * lets the app withhold pings when its own main loop is stuck (e.g. the journal cannot be written),
 * so systemd restarts it. Returns a stop function; a no-op when no watchdog is configured.
 */
export function startWatchdog(healthy: () => boolean = () => true, env: NodeJS.ProcessEnv = process.env): () => void {
  const usec = Number(env.WATCHDOG_USEC);
  if (!env.NOTIFY_SOCKET || !Number.isFinite(usec) || usec <= 0) return () => {};
  // WATCHDOG_PID, when set, must be us (otherwise the watchdog belongs to another process).
  if (env.WATCHDOG_PID && Number(env.WATCHDOG_PID) !== process.pid) return () => {};
  const everyMs = Math.max(500, Math.floor(usec / 1000 / 2));
  const timer = setInterval(() => {
    if (healthy()) void sdNotify('WATCHDOG=1', env);
    else log.warn('watchdog ping withheld: the kiosk reports itself unhealthy');
  }, everyMs);
  timer.unref();
  void sdNotify('WATCHDOG=1', env);
  return () => clearInterval(timer);
}
