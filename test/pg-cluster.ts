import { execFile } from 'node:child_process';
import { chownSync, existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './e2e/harness.js';
import { makeTmpDir } from './tmp.js';

const run = promisify(execFile);

/**
 * A private PostgreSQL cluster for a test that restarts or kills the server (the shared one at
 * 127.0.0.1:5432 serves other people's tests and must never be restarted): initdb into a temporary
 * directory, started on a free port with trust auth for `postgres`. As root the server runs as the
 * `postgres` user (PostgreSQL refuses root).
 */
export interface PgCluster {
  url: string;
  port: number;
  /** `pg_ctl restart`; `immediate` is a crash (no checkpoint: recovery from the WAL at start). */
  restart(mode: 'fast' | 'immediate'): Promise<void>;
  /** Stops the server and removes its directory. */
  stop(): Promise<void>;
}

function binDir(): string {
  const base = '/usr/lib/postgresql';
  const versions = existsSync(base) ? readdirSync(base).filter((v) => existsSync(join(base, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a)) : [];
  if (!versions.length) throw new Error(`no PostgreSQL server binaries under ${base}: apt-get install postgresql`);
  return join(base, versions[0]!, 'bin');
}

export async function privatePostgres(): Promise<PgCluster> {
  const bin = binDir();
  const dir = makeTmpDir('hadir-pgcluster-');
  const data = join(dir, 'data');
  const root = process.getuid?.() === 0;
  let uid = -1;
  let gid = -1;
  if (root) {
    const { stdout } = await run('id', ['-u', 'postgres']);
    uid = Number(stdout.trim());
    gid = Number((await run('id', ['-g', 'postgres'])).stdout.trim());
    chownSync(dir, uid, gid);
  }
  const as = (cmd: string, args: string[]) => (root ? run('runuser', ['-u', 'postgres', '--', join(bin, cmd), ...args]) : run(join(bin, cmd), args));
  await as('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8', '--locale=C']);
  const port = await freePort();
  const opts = `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=${dir} -c max_connections=200`;
  const ctl = (args: string[]) => as('pg_ctl', ['-D', data, '-l', join(dir, 'server.log'), '-o', opts, '-w', '-t', '120', ...args]);
  await ctl(['start']);
  let stopped = false;
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    restart: async (mode) => void (await ctl(['restart', '-m', mode])),
    stop: async () => {
      if (!stopped) await ctl(['stop', '-m', 'immediate']).catch(() => {});
      stopped = true;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
