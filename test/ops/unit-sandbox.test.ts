import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { addKiosk, exitWithin, freePort, hubPunches, seedOrg, tmp, waitHttp } from '../e2e/harness.js';
import { haveSeccompPython, underUnitCapabilities, underUnitFilter, unitSyscallFilter } from './unit-seccomp.js';
import { kioskConfigSchema } from '../../kiosk/config.js';
import { generateReleaseKeys } from '../../lib/release-bundle.js';
import { systemUser } from '../../lib/system-user.js';

const REPO = join(import.meta.dirname, '..', '..');
const unit = (u: string) => join(REPO, 'systemd', u);
const BIN = join(REPO, 'bin', 'hadir.mjs');

/**
 * There is no systemd here to start the units, so the part of their hardening most likely to stop
 * a program — the SystemCallFilter= with SystemCallErrorNumber=EPERM and NoNewPrivileges — is
 * applied with libseccomp the way systemd builds it from each unit file, and the real programs run
 * under it: the hub and a simulated kiosk deliver punches end to end; headless Chromium renders a
 * page with its own sandbox on, as an unprivileged user, under the display unit's filter.
 */
describe.skipIf(!haveSeccompPython())('the units\' system-call filters do not stop the programs (libseccomp, python3-seccomp)', () => {
  const dir = tmp('sandbox');
  const procs: { kill(s?: NodeJS.Signals): boolean; exitCode: number | null }[] = [];
  afterAll(() => {
    for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
  });

  it('the filters are what the units say (allow-list for hub and kiosk, deny-list for the display)', () => {
    const hub = unitSyscallFilter(unit('hadir-hub.service'))!;
    const kiosk = unitSyscallFilter(unit('hadir-kiosk.service'))!;
    const display = unitSyscallFilter(unit('hadir-display.service'))!;
    expect([hub.mode, kiosk.mode, display.mode]).toEqual(['allow', 'allow', 'deny']);
    for (const f of [hub, kiosk]) {
      expect(f.syscalls).toEqual(expect.arrayContaining(['read', 'epoll_wait', 'clone3', 'sched_setaffinity']));
      expect(f.syscalls).not.toContain('chown'); // @privileged taken away
      expect(f.syscalls).not.toContain('mount');
    }
    expect(display.syscalls).not.toContain('chroot'); // Chromium's sandbox chroots
    expect(display.syscalls).toContain('init_module');
  });

  it('the filter bites: chown fails with EPERM under the kiosk filter (root could otherwise)', () => {
    const argv = underUnitFilter(unit('hadir-kiosk.service'), join(dir, 'probe.list'), [process.execPath, '-e', `try { require('fs').chownSync(${JSON.stringify(dir)}, 0, 0); console.log('allowed') } catch (e) { console.log(e.code) }`]);
    const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
    expect(r.stdout.trim(), r.stderr).toBe(process.getuid?.() === 0 ? 'EPERM' : expect.stringMatching(/EPERM/));
  });

  it('hub (hub filter) and a simulated kiosk (kiosk filter) deliver every punch', async () => {
    const hubDir = join(dir, 'hub');
    mkdirSync(hubDir);
    seedOrg(hubDir, 'S-SBX', 10);
    const [httpPort, mqttPort] = [await freePort(), await freePort()];
    const env = { ...process.env, HADIR_LOG_LEVEL: 'warn', VITEST: '' };
    const hubArgv = underUnitFilter(unit('hadir-hub.service'), join(dir, 'hub.list'), [process.execPath, BIN, 'hub', '--http-port', String(httpPort), '--mqtt-port', String(mqttPort), '--data', hubDir]);
    const hub = spawn(hubArgv[0]!, hubArgv.slice(1), { env, stdio: ['ignore', 'ignore', 'pipe'] });
    procs.push(hub);
    let hubErr = '';
    hub.stderr!.on('data', (b: Buffer) => (hubErr += b.toString()));
    await waitHttp(`http://127.0.0.1:${httpPort}/healthz`).catch((e: Error) => {
      throw new Error(`${e.message}; hub stderr: ${hubErr}`);
    });
    const k = await addKiosk({ hubDataDir: hubDir, hubUrl: `http://127.0.0.1:${httpPort}`, mqttUrl: `mqtt://127.0.0.1:${mqttPort}`, site: 'S-SBX', dir });
    const kArgv = underUnitFilter(unit('hadir-kiosk.service'), join(dir, 'kiosk.list'), [process.execPath, BIN, 'kiosk', '--config', k.configPath, '--simulate', '--punches', '30', '--rate', '50']);
    const kiosk = spawn(kArgv[0]!, kArgv.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'] });
    procs.push(kiosk);
    let out = '';
    kiosk.stdout!.on('data', (b: Buffer) => (out += b.toString()));
    kiosk.stderr!.on('data', (b: Buffer) => (out += b.toString()));
    const exited = new Promise<number | string>((r) => kiosk.on('exit', (c, s) => r(c ?? s ?? -1)));
    expect(await exitWithin({ child: kiosk, exited, output: () => out }, 60_000, 'kiosk under the kiosk filter'), out).toBe(0);
    expect(JSON.parse(out.trim().split('\n').filter((l) => l.startsWith('{"deviceId"')).pop()!)).toMatchObject({ recorded: 30, undelivered: 0 });
    expect(hubPunches(hubDir, k.deviceId)).toHaveLength(30);
    expect(hubErr).not.toMatch(/"level":(5|6)\d/);
    hub.kill('SIGTERM');
    await new Promise((r) => hub.once('exit', r));
  }, 90_000);

  it.skipIf(process.getuid?.() !== 0)("the updater (root, its unit's filter, bounding set and no_new_privs) runs the journal migration as the kiosk's user", () => {
    // A release whose CLI answers the migration with the uid it runs as.
    const base = join(dir, 'upd');
    const rel = join(base, 'opt', 'releases', '9.9.9');
    mkdirSync(join(rel, 'bin'), { recursive: true });
    writeFileSync(join(rel, 'bin', 'hadir.mjs'), 'console.log(JSON.stringify({ schemaVersion: process.getuid(), applied: [] }));\n');
    symlinkSync('releases/9.9.9', join(base, 'opt', 'current'));
    for (const d of [dir, base, join(base, 'opt'), join(base, 'opt', 'releases'), rel, join(rel, 'bin')]) chmodSync(d, 0o755);
    const cfgPath = join(base, 'kiosk.json');
    writeFileSync(cfgPath, JSON.stringify(kioskConfigSchema.parse({
      deviceId: 'k-sbx', siteCode: 'S1', hubUrl: 'http://127.0.0.1:1', dataDir: join(base, 'data'),
      mqtt: { url: 'mqtt://127.0.0.1:1', username: 'k-sbx', password: 'x' }, privateKeyPem: generateReleaseKeys().privateKeyPem,
      update: { root: join(base, 'opt'), stateDir: join(base, 'state'), publicKeyFile: join(base, 'none.pub'), kioskUser: 'nobody' },
    })));
    const script = join(base, 'migrate.mts');
    writeFileSync(script, [
      `import { Updater } from ${JSON.stringify(join(REPO, 'kiosk/updater/updater.ts'))};`,
      `import { loadKioskConfig } from ${JSON.stringify(join(REPO, 'kiosk/config.ts'))};`,
      `import { childLogger } from ${JSON.stringify(join(REPO, 'lib/logger.ts'))};`,
      `const u = new Updater({ config: loadKioskConfig(process.argv[2]), configPath: process.argv[2], supervisor: { restart: async () => {} }, log: childLogger('sandbox') });`,
      `console.log(JSON.stringify({ migratedAs: await (u as any).migrateJournal() }));`,
    ].join('\n'));
    const unitFile = unit('hadir-updater.service');
    const argv = [...underUnitCapabilities(unitFile), ...underUnitFilter(unitFile, join(dir, 'updater.list'), [process.execPath, join(REPO, 'node_modules/tsx/dist/cli.mjs'), script, cfgPath])];
    expect(argv[0]).toBe('setpriv');
    const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: 120_000, env: { ...process.env, HADIR_LOG_LEVEL: 'warn' } });
    expect(r.status, r.stderr.slice(-1500)).toBe(0);
    expect(JSON.parse(r.stdout.trim().split('\n').pop()!)).toEqual({ migratedAs: systemUser('nobody')!.uid });
  }, 120_000);

  it('Chromium renders with its sandbox on, as an unprivileged user, under the display filter', () => {
    const home = join(dir, 'screen');
    mkdirSync(home);
    chmodSync(dir, 0o755);
    chmodSync(home, 0o777);
    const argv = underUnitFilter(unit('hadir-display.service'), join(dir, 'display.list'), ['chromium', '--headless', '--disable-gpu', `--user-data-dir=${join(home, 'profile')}`, '--dump-dom', 'data:text/html,<p>hadir-layar-ok</p>']);
    const r = spawnSync('runuser', ['-u', 'nobody', '--', 'env', `HOME=${home}`, `TMPDIR=${home}`, ...argv], { encoding: 'utf8', timeout: 60_000 });
    expect(r.stdout, r.stderr.slice(-2000)).toContain('<p>hadir-layar-ok</p>');
    expect(r.stderr).not.toMatch(/No usable sandbox|Operation not permitted/);
  }, 90_000);
});
