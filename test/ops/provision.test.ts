import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { generateReleaseKeys } from '../../lib/release-bundle.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHub, type RunningHub } from '../../hub/server.js';
import { registerDevice } from '../../hub/devices/registry.js';
import { kioskConfigSchema } from '../../kiosk/config.js';
import { createPublicKey, createPrivateKey } from 'node:crypto';
import { seedOrg } from '../hub/helpers.js';
import { verifyUnits } from './units-helpers.js';

const REPO = join(import.meta.dirname, '..', '..');
const SHARED_MODELS = join(REPO, '..', 'shared', 'models');

async function freePort(): Promise<number> {
  return new Promise((res) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => res(p));
    });
  });
}

/** Runs a command WITHOUT blocking the event loop: the hub under test lives in this process. */
function sh(cmd: string, args: string[], opts: { cwd?: string; timeout?: number } = {}): Promise<{ status: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd ?? REPO,
      env: { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH}`, HADIR_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    const t = setTimeout(() => child.kill('SIGKILL'), opts.timeout ?? 240_000);
    child.on('close', (status) => {
      clearTimeout(t);
      resolve({ status, out });
    });
  });
}

/** A minimal Debian-like root: account files, chrony's default config, the Pi's config.txt, systemd's units. */
function makeImageRoot(): string {
  const root = mkdtempSync(join(tmpdir(), 'hadir-root-'));
  const w = (p: string, s: string, mode = 0o644) => {
    mkdirSync(dirname(join(root, p)), { recursive: true });
    writeFileSync(join(root, p), s);
    chmodSync(join(root, p), mode);
  };
  w('etc/passwd', 'root:x:0:0:root:/root:/bin/bash\npi:x:1000:1000:,,,:/home/pi:/bin/bash\n');
  w('etc/group', 'root:x:0:\ndialout:x:20:pi\nvideo:x:44:pi\ninput:x:105:pi\nrender:x:106:pi\ngpio:x:993:pi\npi:x:1000:\n');
  w('etc/shadow', 'root:*:19800:0:99999:7:::\npi:*:19800:0:99999:7:::\n', 0o640);
  w('etc/gshadow', 'root:*::\ndialout:*::pi\nvideo:*::pi\ninput:*::pi\nrender:*::pi\ngpio:!::pi\npi:!::\n', 0o640);
  w('etc/chrony/chrony.conf', 'pool 2.debian.pool.ntp.org iburst\nmakestep 1 3\n');
  w('boot/firmware/config.txt', '[all]\ndtoverlay=vc4-kms-v3d\n');
  cpSync('/usr/lib/systemd/system', join(root, 'usr/lib/systemd/system'), { recursive: true, verbatimSymlinks: true });
  return root;
}

const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');
const canRun = existsSync(SHARED_MODELS) && process.getuid?.() === 0 && spawnSync('sh', ['-c', 'command -v useradd && command -v systemctl']).status === 0;

describe.skipIf(!canRun)('provision.sh --root into a temp root against a real hub', () => {
  let hub: RunningHub;
  let root: string;
  let mirror: string;
  const tmp: string[] = [];
  let args: string[];
  let token = '';

  beforeAll(async () => {
    const hubDir = mkdtempSync(join(tmpdir(), 'hadir-prov-hub-'));
    const work = mkdtempSync(join(tmpdir(), 'hadir-prov-'));
    tmp.push(hubDir, work);
    const [httpPort, mqttPort] = [await freePort(), await freePort()];
    hub = await startHub({
      dataDir: hubDir, httpPort, mqttPort, httpHost: '127.0.0.1', mqttHost: '127.0.0.1', env: {}, defaultMetrics: false,
      publicUrl: `http://127.0.0.1:${httpPort}`, publicMqttUrl: `mqtt://127.0.0.1:${mqttPort}`,
    });
    seedOrg(hub.db);
    token = (await registerDevice(hub.store, { siteCode: 'PKM-01-A', deviceId: 'kiosk-prov-1', now: new Date() })).token;

    // The "Node.js release" of this test is the node running it, packed like nodejs.org's tarballs.
    const nodeStage = join(work, `node-v${process.versions.node}-linux-x64`);
    mkdirSync(join(nodeStage, 'bin'), { recursive: true });
    cpSync(process.execPath, join(nodeStage, 'bin', 'node'));
    const tarball = join(work, `node-v${process.versions.node}-linux-x64.tar.gz`);
    expect((await sh('tar', ['-czf', tarball, '-C', work, `node-v${process.versions.node}-linux-x64`])).status).toBe(0);

    mirror = join(work, 'mirror');
    const mm = await sh('bash', [join(REPO, 'provisioning/make-mirror.sh'), '--out', mirror, '--no-app', '--no-debs', '--node-tarball', tarball, '--models-from', SHARED_MODELS]);
    expect(mm.out).toMatch(/SELESAI \/ DONE/);
    expect(mm.status).toBe(0);

    // A snapshot of the checkout (others keep editing the live tree); node_modules linked, not copied.
    const app = join(work, 'app');
    mkdirSync(app);
    for (const e of readdirSync(REPO)) if (!['node_modules', '.git', 'tmp', 'data', 'coverage'].includes(e)) cpSync(join(REPO, e), join(app, e), { recursive: true });
    symlinkSync(join(REPO, 'node_modules'), join(app, 'node_modules'));

    root = makeImageRoot();
    tmp.push(root);
    args = [join(REPO, 'provisioning/provision.sh'), '--root', root, '--offline', mirror, '--app-dir', app, '--hub', hub.publicUrl, '--token', token, '--site', 'PKM-01-A', '--ntp', 'ntp1.kab.go.id ntp2.kab.go.id'];
  }, 240_000);

  afterAll(async () => {
    await hub?.close();
    for (const d of tmp) rmSync(d, { recursive: true, force: true });
  });

  it('enrols with the token, writes the files with the right owners and modes, enables verified units, passes the self-test', async () => {
    // Under strace where it is installed: the release's data must reach the disk (syncfs) before
    // the rename that marks it installed — a power cut otherwise leaves a "complete" release of
    // unwritten files that the next run trusts (found in the arm64 system test).
    const straced = spawnSync('sh', ['-c', 'command -v strace']).status === 0;
    const trace = join(tmpdir(), `hadir-prov-strace-${process.pid}.log`);
    const r = straced ? await sh('strace', ['-f', '-qq', '-e', 'trace=syncfs,rename,renameat,renameat2', '-o', trace, 'bash', ...args]) : await sh('bash', args);
    expect(r.out).toMatch(/provision: SELESAI \/ DONE/);
    expect(r.status).toBe(0);
    if (straced) {
      const lines = readFileSync(trace, 'utf8').split('\n');
      rmSync(trace, { force: true });
      const installed = lines.findIndex((l) => /rename.*\/opt\/hadir\/releases\/[^"]+\.new"/.test(l));
      expect(installed, 'the release is renamed into place').toBeGreaterThan(0);
      expect(lines.slice(0, installed).some((l) => /syncfs\(\d+\) += 0/.test(l)), 'syncfs before the release is renamed into place').toBe(true);
    }
    // self-test checklist: config, hub, enrolment and MQTT OK against the real hub; hardware skipped
    expect(r.out).toMatch(/\[ {2}OK {2}\]\s+Konfigurasi \/ config: .*mode 600/);
    expect(r.out).toMatch(/\[ {2}OK {2}\]\s+Hub \(HTTP\)/);
    expect(r.out).toMatch(/\[ {2}OK {2}\]\s+Pendaftaran perangkat \/ device enrolment: accepted by the hub/);
    expect(r.out).toMatch(/\[ {2}OK {2}\]\s+MQTT broker/);
    expect(r.out).toMatch(/\[LEWATI\/SKIP\]\s+Kamera/);

    // users in the image's account files
    const passwd = readFileSync(join(root, 'etc/passwd'), 'utf8');
    const hadirLine = passwd.split('\n').find((l) => l.startsWith('hadir:'))!;
    expect(hadirLine).toMatch(/^hadir:x:\d+:\d+:Hadir:\/var\/lib\/hadir:\/usr\/sbin\/nologin$/);
    const uid = Number(hadirLine.split(':')[2]);
    expect(readFileSync(join(root, 'etc/group'), 'utf8')).toMatch(/^video:x:44:pi,hadir,hadir-screen$/m);
    expect(readFileSync(join(root, 'etc/group'), 'utf8')).toMatch(/^gpio:x:993:pi,hadir$/m);

    // kiosk.json: 0600, owned by hadir, valid, key made here and registered at the hub
    const conf = join(root, 'etc/hadir/kiosk.json');
    const st = statSync(conf);
    expect(st.mode & 0o777).toBe(0o600);
    expect(st.uid).toBe(uid);
    expect(statSync(join(root, 'etc/hadir')).mode & 0o777).toBe(0o750);
    const cfg = kioskConfigSchema.parse(JSON.parse(readFileSync(conf, 'utf8')));
    expect(cfg).toMatchObject({ deviceId: 'kiosk-prov-1', siteCode: 'PKM-01-A', dataDir: '/var/lib/hadir', hubUrl: hub.publicUrl });
    const registered = hub.db.prepare('SELECT public_key_pem FROM devices WHERE id = ?').get('kiosk-prov-1') as { public_key_pem: string };
    const derived = createPublicKey(createPrivateKey(cfg.privateKeyPem)).export({ type: 'spki', format: 'pem' }).toString();
    expect(registered.public_key_pem.trim()).toBe(derived.trim());
    expect(readFileSync(conf, 'utf8')).not.toContain(token);
    expect(statSync(join(root, 'var/lib/hadir')).uid).toBe(uid);

    // app release + node + models
    const current = readlinkSync(join(root, 'opt/hadir/current'));
    expect(current).toMatch(/^releases\/[0-9a-f]{12}$/);
    expect(existsSync(join(root, 'opt/hadir/current/bin/hadir.mjs'))).toBe(true);
    expect(existsSync(join(root, 'opt/hadir/current/tmp'))).toBe(false);
    expect(spawnSync(join(root, 'opt/hadir/node/bin/node'), ['--version'], { encoding: 'utf8' }).stdout.trim()).toBe(process.version);
    expect(r.out).toMatch(/Semua model baik \/ all \d+ models verified/);
    expect(readdirSync(join(root, 'opt/hadir/current/models/onnx')).filter((f) => f.endsWith('.onnx')).length).toBeGreaterThanOrEqual(1);

    // chrony: regency servers preferred, hub as fallback, step only at boot, maxchange
    const chrony = readFileSync(join(root, 'etc/chrony/chrony.conf'), 'utf8');
    expect(chrony).toMatch(/^server ntp1\.kab\.go\.id iburst prefer$/m);
    expect(chrony).toMatch(/^server ntp2\.kab\.go\.id iburst prefer$/m);
    expect(chrony).toMatch(/^server 127\.0\.0\.1 iburst$/m);
    expect(chrony).toMatch(/^makestep 1 3$/m);
    expect(chrony).toMatch(/^maxchange 60 3 -1$/m);
    expect(chrony).not.toMatch(/@[A-Z_]+@/);
    expect(readFileSync(join(root, 'etc/chrony/chrony.conf.orig-hadir'), 'utf8')).toContain('pool 2.debian.pool.ntp.org');
    if (spawnSync('sh', ['-c', 'command -v chronyd']).status === 0) {
      // chronyd itself parses the generated file (-p prints the parsed configuration and exits)
      const p = spawnSync('chronyd', ['-p', '-f', join(root, 'etc/chrony/chrony.conf')], { encoding: 'utf8' });
      expect(p.stderr).not.toMatch(/Fatal|Invalid|Could not/);
    }

    // watchdog + UART in config.txt, systemd watchdog
    const bootcfg = readFileSync(join(root, 'boot/firmware/config.txt'), 'utf8');
    expect(bootcfg).toMatch(/^dtparam=watchdog=on$/m);
    expect(bootcfg).toMatch(/^enable_uart=1$/m);
    expect(readFileSync(join(root, 'etc/systemd/system.conf.d/hadir-watchdog.conf'), 'utf8')).toMatch(/^RuntimeWatchdogSec=15$/m);

    // units installed, enabled (systemctl --root), and verified against the provisioned root
    for (const u of ['hadir-kiosk.service', 'hadir-display.service']) {
      expect(readFileSync(join(root, 'etc/systemd/system', u), 'utf8')).toBe(readFileSync(join(REPO, 'systemd', u), 'utf8'));
      expect(lstatSync(join(root, 'etc/systemd/system/multi-user.target.wants', u)).isSymbolicLink()).toBe(true);
    }
    const v = verifyUnits(root, ['hadir-kiosk.service']);
    expect(v.output).not.toMatch(/hadir-kiosk/);
    expect(v.status).toBe(0);

    // what --root did not do is written down
    const skipped = readFileSync(join(root, 'var/lib/hadir-provision/skipped-in-root-mode.txt'), 'utf8');
    expect(skipped).toMatch(/apt-get install chrony cage chromium/);
    expect(skipped).toMatch(/systemctl start hadir-kiosk.service hadir-display.service/);
  });

  it('re-running is safe: nothing changes, the used token is not needed again', async () => {
    const files = ['etc/hadir/kiosk.json', 'etc/chrony/chrony.conf', 'etc/chrony/chrony.conf.orig-hadir', 'boot/firmware/config.txt', 'etc/passwd', 'etc/group'];
    const before = files.map((f) => sha(join(root, f)));
    const r = await sh('bash', args);
    expect(r.out).toMatch(/sudah terdaftar \/ already enrolled/);
    expect(r.out).toMatch(/sudah terpasang \/ already installed: release/);
    expect(r.status).toBe(0);
    expect(files.map((f) => sha(join(root, f)))).toEqual(before);
    expect(readFileSync(join(root, 'boot/firmware/config.txt'), 'utf8').match(/dtparam=watchdog=on/g)).toHaveLength(1);
  });

  it('--release-key installs the release public key and enables hadir-updater (fleet updates); a non-key is refused', async () => {
    const kdir = mkdtempSync(join(tmpdir(), 'hadir-relkey-'));
    tmp.push(kdir);
    const pub = generateReleaseKeys().publicKeyPem;
    writeFileSync(join(kdir, 'release-key.pub'), pub);
    writeFileSync(join(kdir, 'not-a-key.pub'), 'hello');
    const bad = await sh('bash', [...args, '--release-key', join(kdir, 'not-a-key.pub')]);
    expect(bad.status).not.toBe(0);
    expect(bad.out).toMatch(/is not a PEM public key/);
    const r = await sh('bash', [...args, '--release-key', join(kdir, 'release-key.pub')]);
    expect(r.status).toBe(0);
    expect(readFileSync(join(root, 'etc/hadir/release-key.pub'), 'utf8')).toBe(pub);
    expect(readFileSync(join(root, 'etc/systemd/system/hadir-updater.service'), 'utf8')).toBe(readFileSync(join(REPO, 'systemd/hadir-updater.service'), 'utf8'));
    expect(lstatSync(join(root, 'etc/systemd/system/multi-user.target.wants/hadir-updater.service')).isSymbolicLink()).toBe(true);
  });

  it('a release unpacked from the mirror\'s app tarball is readable by the kiosk user even when the tarball\'s top dir is 0700 (found on the arm64 VM: systemd failed at CHDIR)', async () => {
    // make-mirror packs the app from a mktemp -d folder: "./" in the tarball is 0700, and tar as root keeps it.
    const stage = mkdtempSync(join(tmpdir(), 'hadir-appstage-'));
    tmp.push(stage);
    expect(statSync(stage).mode & 0o777).toBe(0o700);
    const app = args[args.indexOf('--app-dir') + 1]!;
    cpSync(app, stage, { recursive: true, verbatimSymlinks: true });
    chmodSync(stage, 0o700);
    mkdirSync(join(mirror, 'app'), { recursive: true });
    const tarball = join(mirror, 'app', 'hadir-app.tar.gz');
    try {
      expect((await sh('tar', ['-czf', tarball, '-C', stage, '.'])).status).toBe(0);
      const fromTar = args.filter((a, i) => a !== '--app-dir' && args[i - 1] !== '--app-dir');
      const r = await sh('bash', [...fromTar, '--skip-selftest']);
      expect(r.status, r.out).toBe(0);
      const rel = join(root, 'opt/hadir', readlinkSync(join(root, 'opt/hadir/current')));
      expect(statSync(rel).mode & 0o777).toBe(0o755);
      expect(statSync(join(rel, 'bin/hadir.mjs')).mode & 0o004).toBe(0o004);
    } finally {
      rmSync(join(mirror, 'app'), { recursive: true, force: true });
    }
  });

  it('a reused token is refused with the hub\'s reason and the existing config is kept', async () => {
    const before = sha(join(root, 'etc/hadir/kiosk.json'));
    const r = await sh('bash', [...args, '--force-enrol', '--skip-selftest']);
    expect(r.status).not.toBe(0);
    expect(r.out).toMatch(/hadir: .*(used|already)/i);
    expect(r.out).toMatch(/provision: GAGAL \/ FAILED: the hub refused the enrolment/);
    expect(sha(join(root, 'etc/hadir/kiosk.json'))).toBe(before);
    expect(existsSync(join(root, 'etc/hadir/.kiosk.json.new'))).toBe(false);
  });

  it('a token for another site or an expired token is refused; bad options change nothing', async () => {
    const other = (await registerDevice(hub.store, { siteCode: 'SDN-01', deviceId: 'kiosk-prov-2', now: new Date() })).token;
    const before = sha(join(root, 'etc/hadir/kiosk.json'));
    const r = await sh('bash', [...args.slice(0, -6), '--hub', hub.publicUrl, '--token', other, '--site', 'PKM-01-A', '--force-enrol', '--skip-selftest']);
    expect(r.status).not.toBe(0);
    expect(r.out).toMatch(/the token is for site SDN-01, not PKM-01-A/);
    expect(sha(join(root, 'etc/hadir/kiosk.json'))).toBe(before);
    // an expired token (issued 25 h ago, 24 h lifetime) gets the hub's clear refusal
    const expired = (await registerDevice(hub.store, { siteCode: 'PKM-01-A', deviceId: 'kiosk-prov-3', now: new Date(Date.now() - 25 * 3600_000) })).token;
    const e = await sh('bash', [...args.slice(0, -6), '--hub', hub.publicUrl, '--token', expired, '--site', 'PKM-01-A', '--force-enrol', '--skip-selftest']);
    expect(e.status).toBe(1);
    expect(e.out).toMatch(/token expired at .* \/ token kedaluwarsa/);
    expect(sha(join(root, 'etc/hadir/kiosk.json'))).toBe(before);
    const bad = await sh('bash', [join(REPO, 'provisioning/provision.sh'), '--root', root, '--hub', 'ftp://x', '--token', 't']);
    expect(bad.status).toBe(1);
    expect(bad.out).toMatch(/--hub must start with http/);
  });

  it('a mirror whose Node is Debian\'s nodejs .deb (make-mirror --arch arm64): /opt/hadir/node/bin/node links to /usr/bin/node; a missing gpio group is made', async () => {
    const deb = join(tmp[1]!, 'mirror-debnode');
    cpSync(mirror, deb, { recursive: true });
    rmSync(join(deb, 'node'), { recursive: true, force: true });
    rmSync(join(deb, 'SHA256SUMS'), { force: true });
    mkdirSync(join(deb, 'debs'), { recursive: true });
    writeFileSync(join(deb, 'debs', 'nodejs_20.19.2+dfsg-1+deb13u3_arm64.deb'), ''); // --root mode installs no packages
    const root2 = makeImageRoot();
    tmp.push(root2);
    // Plain Debian arm64 has no gpio group; the kiosk unit's SupplementaryGroups= names it.
    for (const f of ['etc/group', 'etc/gshadow']) writeFileSync(join(root2, f), readFileSync(join(root2, f), 'utf8').replace(/^gpio:.*\n/m, ''));
    const token2 = (await registerDevice(hub.store, { siteCode: 'PKM-01-A', deviceId: 'kiosk-prov-debnode', now: new Date() })).token;
    const a = args.map((x) => (x === mirror ? deb : x === root ? root2 : x === token ? token2 : x));
    const r = await sh('bash', [...a, '--skip-selftest']);
    expect(r.out).toMatch(/provision: SELESAI \/ DONE/);
    expect(readlinkSync(join(root2, 'opt/hadir/node/bin/node'))).toBe('/usr/bin/node');
    expect(readFileSync(join(root2, 'etc/group'), 'utf8')).toMatch(/^gpio:x:\d+:hadir$/m);
    const noNode = join(tmp[1]!, 'mirror-nonode');
    cpSync(deb, noNode, { recursive: true });
    rmSync(join(noNode, 'debs'), { recursive: true, force: true });
    const r2 = await sh('bash', [...a.map((x) => (x === deb ? noNode : x)), '--skip-selftest']);
    expect(r2.status).toBe(1);
    expect(r2.out).toMatch(/offline mirror has neither node\/node-v\*-linux-\*.tar.xz nor debs\/nodejs_\*.deb/);
  });

  it('make-mirror refuses to build CPU-specific parts on another CPU', async () => {
    if (process.arch === 'arm64') return;
    const r = await sh('bash', [join(REPO, 'provisioning/make-mirror.sh'), '--out', join(tmp[1]!, 'mirror2'), '--node-tarball', '/nonexistent.tar.gz']);
    expect(r.status).toBe(1);
    expect(r.out).toMatch(/--node-tarball \/nonexistent.tar.gz does not exist/);
    const r2 = await sh('bash', [join(REPO, 'provisioning/make-mirror.sh'), '--out', join(tmp[1]!, 'mirror2')]);
    expect(r2.status).toBe(1);
    expect(r2.out).toMatch(/not arm64: node_modules and .deb files would not run on a Pi/);
    const r3 = await sh('bash', [join(REPO, 'provisioning/make-mirror.sh'), '--out', join(tmp[1]!, 'mirror3'), '--arch', 'armhf']);
    expect(r3.status).toBe(1);
    expect(r3.out).toMatch(/--arch armhf: only arm64 \(the Pi\) can be built on another machine/);
  });

  it('shellcheck is clean', async () => {
    const r = await sh('shellcheck', [join(REPO, 'provisioning/provision.sh'), join(REPO, 'provisioning/make-mirror.sh')]);
    expect(r.out).toBe('');
    expect(r.status).toBe(0);
  });
});
