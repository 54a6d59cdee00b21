import { afterAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignalSupervisor, SystemdSupervisor } from '../../kiosk/updater/supervisor.js';
import { Updater } from '../../kiosk/updater/updater.js';
import { kioskConfigSchema } from '../../kiosk/config.js';
import { generateReleaseKeys } from '../../lib/release-bundle.js';
import { childLogger } from '../../lib/logger.js';

/** How the updater restarts the kiosk: systemctl (production) or a signal to a process a manager restarts. */
describe('kiosk supervisors', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hadir-sup-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('systemd: systemctl restart --no-block UNIT (a stand-in systemctl records the call)', async () => {
    const fake = join(dir, 'systemctl');
    writeFileSync(fake, `#!/bin/sh\necho "$@" > ${join(dir, 'args')}\n`);
    chmodSync(fake, 0o755);
    await new SystemdSupervisor('hadir-kiosk.service', fake).restart();
    expect(readFileSync(join(dir, 'args'), 'utf8').trim()).toBe('restart --no-block hadir-kiosk.service');
    writeFileSync(fake, '#!/bin/sh\nexit 5\n');
    await expect(new SystemdSupervisor('hadir-kiosk.service', fake).restart()).rejects.toThrow();
  });

  it("systemd: counts the unit's automatic restarts since restart(), whether or not systemd flushed NRestarts", async () => {
    // A stand-in systemctl answering `show --property NRestarts --value UNIT` from a file.
    const fake = join(dir, 'systemctl-n');
    const n = join(dir, 'nrestarts');
    writeFileSync(fake, `#!/bin/sh\n[ "$1" = show ] && cat ${n}\nexit 0\n`);
    chmodSync(fake, 0o755);
    const set = (v: string) => writeFileSync(n, `${v}\n`);
    const sup = new SystemdSupervisor('hadir-kiosk.service', fake);
    set('7'); // restarts of earlier releases
    await sup.restart();
    expect(await sup.crashesSinceRestart()).toBe(0);
    set('9');
    expect(await sup.crashesSinceRestart()).toBe(2);
    // Flushed by a later manual start, then one more crash: counted from zero, not 1 - 9.
    set('1');
    expect(await sup.crashesSinceRestart()).toBe(3);
    set('1');
    expect(await sup.crashesSinceRestart()).toBe(3);
    // A new restart() starts a new count.
    await sup.restart();
    set('4');
    expect(await sup.crashesSinceRestart()).toBe(3);
    // A systemd that does not know the property: unknown, not zero.
    set('');
    const old = new SystemdSupervisor('hadir-kiosk.service', fake);
    await old.restart();
    expect(await old.crashesSinceRestart()).toBeNull();
  });

  it('the updater rolls back a release whose process dies before its first line runs, on the manager\'s count, without waiting out the deadline', async () => {
    const keys = generateReleaseKeys();
    const cfg = kioskConfigSchema.parse({
      deviceId: 'k-crash', siteCode: 'S1', hubUrl: 'http://127.0.0.1:1', dataDir: join(dir, 'kiosk'),
      mqtt: { url: 'mqtt://127.0.0.1:1', username: 'k-crash', password: 'x' }, privateKeyPem: keys.privateKeyPem,
      update: { root: join(dir, 'opt'), stateDir: join(dir, 'upd'), publicKeyFile: join(dir, 'none.pub'), confirmTimeoutS: 600 },
    });
    let crashes = 0;
    // No run-state, no start records: only the process manager saw it die, once a second.
    const u = new Updater({ config: cfg, configPath: '/dev/null', log: childLogger('test'), supervisor: { restart: async () => {}, crashesSinceRestart: async () => crashes++ } });
    const t0 = Date.now();
    const r = await u.confirm('9.9.9', t0);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toMatch(/crashed at start 3 times/);
    expect(Date.now() - t0).toBeLessThan(30_000); // not the 600 s deadline
  }, 40_000);

  it('signal: SIGTERM to the pid in run-state.json, returns once it has exited', async () => {
    const child = spawn(process.execPath, ['-e', 'process.on("SIGTERM", () => setTimeout(() => process.exit(0), 300)); console.log("up"); setInterval(() => {}, 1000)'], { stdio: ['ignore', 'pipe', 'ignore'] });
    const exited = new Promise((r) => child.on('exit', (code, sig) => r(code ?? sig)));
    await new Promise((r) => child.stdout!.once('data', r));
    writeFileSync(join(dir, 'run-state.json'), JSON.stringify({ pid: child.pid }));
    const t0 = Date.now();
    await new SignalSupervisor(dir).restart();
    expect(await exited).toBe(0); // it stopped gracefully …
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250); // … and restart() waited for it
    await new SignalSupervisor(dir).restart(); // nothing running: nothing to do
  });
});
