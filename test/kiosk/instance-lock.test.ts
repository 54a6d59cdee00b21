import { afterEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KioskApp } from '../../kiosk/app.js';
import { lockHolder } from '../../kiosk/instance-lock.js';
import { BIN } from '../e2e/harness.js';
import { randomPrefix, sampleRoster, startBroker, startRosterServer, testConfig, tmpDir, waitFor } from './helpers.js';

/**
 * The data-dir lock after power cuts (issue 11): a kiosk.lock left with a pid that now belongs to
 * another process, or a killed kiosk not yet reaped (a zombie), must not keep a kiosk from
 * starting; a second live kiosk on the same data dir must still be refused.
 */
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup() {
  const broker = await startBroker();
  cleanups.push(() => broker.close());
  const dir = tmpDir('lock');
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const roster = await startRosterServer(sampleRoster(3), { user: 'kiosk-test', pass: 'secret' });
  cleanups.push(() => roster.close());
  const { config } = testConfig({ dataDir: dir, mqttUrl: broker.url, prefix: randomPrefix(), hubUrl: roster.url });
  const configPath = join(dir, 'kiosk.json');
  writeFileSync(configPath, JSON.stringify(config));
  const app = () => {
    const a = new KioskApp(config, { extensions: [] });
    cleanups.push(() => a.stop());
    return a;
  };
  return { dir, configPath, app };
}

/**
 * A real `hadir kiosk` process started by a shell that then execs `sleep`: the sleep is its parent
 * and never reaps it, so after SIGKILL the kiosk stays a zombie, as it did in the fault run.
 */
async function kioskUnderNonReapingParent(configPath: string): Promise<{ kioskPid: number; parent: ChildProcess }> {
  const parent = spawn('sh', ['-c', `"${process.execPath}" "${BIN}" kiosk --config "${configPath}" >/dev/null 2>&1 & echo $!; exec sleep 300`], {
    env: { ...process.env, HADIR_LOG_LEVEL: 'warn', VITEST: '' },
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  cleanups.push(() => {
    parent.kill('SIGKILL');
  });
  const kioskPid = await new Promise<number>((ok) => parent.stdout!.once('data', (d: Buffer) => ok(Number(d.toString().trim()))));
  cleanups.push(() => {
    try {
      process.kill(kioskPid, 'SIGKILL');
    } catch {
      /* gone */
    }
  });
  return { kioskPid, parent };
}

async function waitForHolder(dir: string, pid: number): Promise<void> {
  let holder: number | null = null;
  const t0 = Date.now();
  while (holder !== pid) {
    if (Date.now() - t0 > 60_000) throw new Error(`kiosk ${pid} never took the lock (holder ${holder})`);
    await new Promise((r) => setTimeout(r, 200));
    holder = await lockHolder(dir);
  }
}

const procState = (pid: number) => readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '')[0];

describe('kiosk data-dir lock', () => {
  it('a kiosk.lock holding the pid of another live process does not keep the kiosk from starting', async () => {
    const { dir, app } = await setup();
    const other = spawn('sleep', ['300'], { stdio: 'ignore' });
    cleanups.push(() => {
      other.kill('SIGKILL');
    });
    writeFileSync(join(dir, 'kiosk.lock'), String(other.pid)); // what a power cut left, pid now reused
    await app().start();
    expect(await lockHolder(dir)).toBe(process.pid);
    expect(existsSync(join(dir, 'kiosk.lock'))).toBe(false);
  });

  it('a second live kiosk process on the same data dir is refused; once it is a zombie, the kiosk starts', async () => {
    const { dir, configPath, app } = await setup();
    const { kioskPid } = await kioskUnderNonReapingParent(configPath);
    await waitForHolder(dir, kioskPid);
    await expect(app().start()).rejects.toThrow(`another kiosk process (pid ${kioskPid}) is already running`);

    process.kill(kioskPid, 'SIGKILL');
    await waitFor(() => procState(kioskPid) === 'Z', 10_000, 'the killed kiosk to be a zombie');
    writeFileSync(join(dir, 'kiosk.lock'), String(kioskPid));
    await app().start();
    expect(await lockHolder(dir)).toBe(process.pid);
  }, 90_000);

  it('a second kiosk in the same process is refused, and the lock is free again after stop()', async () => {
    const { dir, app } = await setup();
    const first = app();
    await first.start();
    await expect(app().start()).rejects.toThrow('already running in this process');
    await first.stop();
    expect(await lockHolder(dir)).toBe(null);
    await app().start();
  });

  it('hadir-kiosk.service keeps the host network namespace (the lock is an abstract socket in it)', () => {
    const unit = readFileSync(new URL('../../systemd/hadir-kiosk.service', import.meta.url), 'utf8');
    expect(unit).not.toMatch(/^\s*(PrivateNetwork|NetworkNamespacePath|JoinsNamespaceOf)\s*=/m);
  });
});
