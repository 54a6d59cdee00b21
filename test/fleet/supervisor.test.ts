import { afterAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignalSupervisor, SystemdSupervisor } from '../../kiosk/updater/supervisor.js';

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
