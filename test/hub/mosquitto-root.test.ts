import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Topics } from '../../protocol/index.js';
import { openStore } from '../../hub/store/open.js';
import { systemUser } from '../../lib/system-user.js';
import { TestKiosk, enrolTestDevice, runHadir, seedOrg, tmpDir, waitFor } from './helpers.js';

const DOCS = join(import.meta.dirname, '..', '..', 'docs', 'hub.md');
const mosquittoUser = systemUser('mosquitto');
const asRoot = process.getuid?.() === 0;

/** The `/etc/mosquitto/conf.d/hadir.conf` example of docs/hub.md, as written there. */
function documentedConf(): string {
  const md = readFileSync(DOCS, 'utf8');
  const m = /Example `\/etc\/mosquitto\/conf\.d\/hadir\.conf`:\n```\n([\s\S]*?)```/.exec(md);
  if (!m) throw new Error('docs/hub.md has no hadir.conf example');
  return m[1]!;
}

const freePort = () =>
  new Promise<number>((res) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => res(p));
    });
  });

/**
 * The documented recipe, for real: `hadir device broker-passwd` writes the password file and ACL,
 * and Mosquitto is started as root with the documented hadir.conf (only the listener port and the
 * file locations changed). Mosquitto drops to its `mosquitto` user before it reads them; a
 * root-owned 0600 password file made it fail with "Unable to open pwfile".
 */
describe.skipIf(!asRoot || !mosquittoUser)('Mosquitto started as root with the generated password file (needs root and the mosquitto user)', () => {
  const dir = tmpDir('mosq-root');
  let mosq: ChildProcess | null = null;
  afterAll(async () => {
    if (mosq && mosq.exitCode === null && mosq.signalCode === null) {
      const gone = new Promise((r) => mosq!.once('exit', r));
      mosq.kill('SIGTERM');
      await gone;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads the files as the mosquitto user and authenticates the hub and a kiosk', async () => {
    const { store, db } = openStore({ dbPath: join(dir, 'hub.db') });
    seedOrg(db);
    const kiosk = await enrolTestDevice(store, 'PKM-01-A', 'kiosk-root-1');
    await store.close();

    // /etc/mosquitto stand-in: root-owned, 0755 (a mkdtemp dir is 0700: mosquitto could not even enter it)
    const etc = join(dir, 'etc');
    mkdirSync(etc);
    chmodSync(dir, 0o755);
    chmodSync(etc, 0o755);
    const passwd = join(etc, 'hadir.passwd');
    const acl = join(etc, 'hadir.acl');
    const r = await runHadir(['device', 'broker-passwd', '--out', passwd, '--acl', acl, '--mqtt-url', 'mqtt://hadir-hub:rahasia-hub@127.0.0.1:1883', '--data', dir]);
    expect(r.code, r.stderr).toBe(0);
    for (const [f, mode] of [[passwd, 0o600], [acl, 0o640]] as const) {
      const st = statSync(f);
      expect({ uid: st.uid, gid: st.gid, mode: st.mode & 0o777 }).toEqual({ ...mosquittoUser, mode });
    }

    const port = await freePort();
    const data = join(dir, 'lib');
    mkdirSync(data);
    chownSync(data, mosquittoUser!.uid, mosquittoUser!.gid); // as /var/lib/mosquitto
    const conf = documentedConf()
      .replace(/^listener 1883$/m, `listener ${port} 127.0.0.1`)
      .replaceAll('/etc/mosquitto/', `${etc}/`);
    expect(conf).toContain(`password_file ${passwd}`);
    expect(conf).not.toMatch(/^user /m); // Mosquitto's default: drop from root to `mosquitto`
    writeFileSync(join(etc, 'mosquitto.conf'), `${conf}persistence_location ${data}/\nlog_dest stderr\n`);
    let log = '';
    mosq = spawn('mosquitto', ['-c', join(etc, 'mosquitto.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
    mosq.stderr!.on('data', (b: Buffer) => (log += b.toString()));

    const topics = new Topics();
    const url = `mqtt://127.0.0.1:${port}`;
    const k = await waitFor(() => (mosq!.exitCode !== null ? Promise.reject(new Error(`mosquitto exited: ${log}`)) : TestKiosk.connect(url, topics, kiosk.id, kiosk.password).catch(() => null)), 10_000, 'mosquitto accepting the kiosk');
    await k.close();
    // it runs as the mosquitto user, not as root
    const uid = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${mosq.pid}/status`, 'utf8'))?.[1];
    expect(Number(uid)).toBe(mosquittoUser!.uid);
    const hub = await TestKiosk.connect(url, topics, 'hadir-hub', 'rahasia-hub', 'hadir-hub-test').catch((e: Error) => e);
    expect(hub).toBeInstanceOf(TestKiosk);
    await (hub as TestKiosk).close();
    await expect(TestKiosk.connect(url, topics, kiosk.id, 'wrong')).rejects.toThrow(/Not authorized|Bad username/i);
    expect(log).not.toMatch(/Unable to open/);
  });
});
