import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Groups } from './program.js';
import { UserError } from '../lib/errors.js';
import { formatOption, table } from './format.js';
import { hubDataOptions, withHub, type HubFlags as StoreFlags } from './open-hub.js';

/**
 * Fleet updates: `hadir release keygen|build|sign|verify|add|list` (the release engineer, the key
 * kept offline), `hadir fleet rollout|status|pause|resume|abort|window` (hub data, hub running or
 * not) and `hadir updater` (the kiosk's updater unit).
 */

async function withFleet<T>(f: StoreFlags, fn: (s: import('../hub/fleet/service.js').FleetRepository) => Promise<T>): Promise<T> {
  const { HUB_VERSION_FOR_FLEET } = await import('../hub/fleet/version.js');
  const { fleetAudit } = await import('../hub/fleet/module.js');
  const { AuditLog } = await import('../hub/audit/index.js');
  const { childLogger } = await import('../lib/logger.js');
  // either store: the same repositories the hub's fleet module gets
  return withHub(
    f,
    async ({ stores, config, clock }) => {
      const audit = fleetAudit(new AuditLog(stores.audit, clock), childLogger('fleet'));
      try {
        return await fn(stores.fleet({ dataDir: config.dataDir, hubVersion: HUB_VERSION_FOR_FLEET, audit, clock, operatorKind: 'cli' }));
      } finally {
        await audit.settled(); // the audit entries are written before the store closes
      }
    },
    { postgres: true },
  );
}

function readKey(path: string, what: string): string {
  if (!existsSync(path)) throw new UserError(`${what} ${path} does not exist`, 'make the key pair with `hadir release keygen --out DIR` on the offline machine');
  return readFileSync(path, 'utf8');
}

function actor(o: { by?: string }): string {
  return o.by ?? process.env.SUDO_USER ?? process.env.USER ?? 'cli';
}

export function registerFleetCommands(g: Groups): void {
  const store = hubDataOptions;
  const release = g.program.command('release').description('Rilis aplikasi kiosk / kiosk release bundles: build, sign (offline key), add to the hub');

  release
    .command('keygen')
    .description('Buat kunci rilis Ed25519 / make the release key pair (keep release-key.pem OFFLINE; release-key.pub goes to the hub and every kiosk)')
    .requiredOption('--out <dir>', 'directory for release-key.pem (0600) and release-key.pub')
    .action(async (o: { out: string }) => {
      const { mkdirSync } = await import('node:fs');
      const { generateReleaseKeys, keyFingerprint } = await import('../lib/release-bundle.js');
      mkdirSync(o.out, { recursive: true });
      const priv = join(o.out, 'release-key.pem');
      if (existsSync(priv)) throw new UserError(`${priv} already exists`, 'refusing to overwrite a release key: choose another --out');
      const k = generateReleaseKeys();
      writeFileSync(priv, k.privateKeyPem, { mode: 0o600, flag: 'wx' });
      writeFileSync(join(o.out, 'release-key.pub'), k.publicKeyPem, { mode: 0o644 });
      process.stdout.write(`kunci rilis / release key ${keyFingerprint(k.publicKeyPem)}: ${priv} (rahasia, simpan offline / secret, keep offline), ${join(o.out, 'release-key.pub')}\n`);
    });

  release
    .command('build')
    .description('Buat bundle rilis / build a release bundle (app + node_modules for the target CPU + manifest with every sha256)')
    .requiredOption('--version <v>', 'release version, e.g. 1.4.0 (what kiosks report)')
    .option('--app <dir>', 'app tree: a checkout (tracked + untracked files) or an unpacked app')
    .option('--app-tarball <file>', "the offline mirror's app/hadir-app.tar.gz (made on arm64 with node_modules)")
    .option('--node-modules <dir|none>', 'node_modules prepared for the target CPU; "none" = test bundle without them (default: the app\'s own)')
    .option('--arch <arch>', 'arm64|x64 (default: from node_modules\' native modules)')
    .option('--min-hub-version <v>', 'oldest hub that may serve it (default 0.0.0)')
    .option('--key <file>', 'sign right away with this release-key.pem (otherwise `hadir release sign` on the offline machine)')
    .option('--out <file>', 'bundle file (default hadir-release-VERSION-ARCH.tar.gz)')
    .action(async (o: { version: string; app?: string; appTarball?: string; nodeModules?: string; arch?: string; minHubVersion?: string; key?: string; out?: string }) => {
      const { buildRelease } = await import('../lib/release-build.js');
      const { releasePrivateKey, RELEASE_ARCHES } = await import('../lib/release-bundle.js');
      if (o.arch && !(RELEASE_ARCHES as readonly string[]).includes(o.arch)) throw new UserError(`--arch ${o.arch} is not supported`, 'use arm64 or x64');
      const key = o.key ? releasePrivateKey(readKey(o.key, '--key')) : null;
      const t0 = Date.now();
      const r = await buildRelease({
        version: o.version, appDir: o.app, appTarball: o.appTarball, nodeModules: o.nodeModules, arch: o.arch as 'arm64' | 'x64' | undefined,
        minHubVersion: o.minHubVersion, key, out: o.out ?? `hadir-release-${o.version}-${o.arch ?? 'ARCH'}.tar.gz`,
      });
      let out = r.out;
      if (!o.out) {
        const { renameSync } = await import('node:fs');
        out = `hadir-release-${o.version}-${r.manifest.arch}.tar.gz`;
        renameSync(r.out, out);
      }
      const { statSync } = await import('node:fs');
      process.stdout.write(
        `${out}: ${r.manifest.version} ${r.manifest.arch}, ${r.files} files, node_modules ${r.manifest.nodeModules}, journal schema ${r.manifest.journalSchemaVersion}, ${(statSync(out).size / 1e6).toFixed(1)} MB, ${key ? 'signed' : 'NOT signed (hadir release sign)'} in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`,
      );
    });

  release
    .command('compile')
    .description('Kompilasi pohon aplikasi / compile an app tree in place: every source .ts becomes .js, the .ts is removed, and its node_modules lose what Node never loads (source maps, type declarations, docs) — what the offline mirror ships; `release build` does both on its own')
    .argument('<dir>', 'an unpacked app tree (NOT your checkout: its sources are removed)')
    .action(async (dir: string) => {
      const { compileAppTree, pruneNodeModules } = await import('../lib/app-compile.js');
      if (!existsSync(join(dir, 'package.json')) || !existsSync(join(dir, 'bin/hadir.mjs'))) throw new UserError(`${dir} is not a Hadir app tree (no package.json / bin/hadir.mjs)`, 'give the folder an app was unpacked into');
      if (existsSync(join(dir, '.git'))) throw new UserError(`${dir} is a git checkout: compiling would delete its TypeScript sources`, 'compile a copy (git archive HEAD | tar -x -C DIR), or use `hadir release build --app .`');
      const t0 = Date.now();
      const r = await compileAppTree(dir);
      process.stdout.write(`${dir}: ${r.files} file .ts dikompilasi / compiled to .js in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
      if (existsSync(join(dir, 'node_modules'))) {
        const p = pruneNodeModules(join(dir, 'node_modules'));
        process.stdout.write(`${dir}/node_modules: ${p.files} file dibuang / removed (source maps, type declarations, docs: ${(p.bytes / 1e6).toFixed(0)} MB)\n`);
      }
    });

  release
    .command('sign')
    .description('Tandatangani bundle / sign a bundle with the offline release key (checks the result with the public key)')
    .argument('<bundle>')
    .requiredOption('--key <file>', 'release-key.pem')
    .requiredOption('--pub <file>', 'release-key.pub (the signature is verified before the bundle is written)')
    .option('--out <file>', 'signed bundle (default: replace the input)')
    .action(async (bundle: string, o: { key: string; pub: string; out?: string }) => {
      const { signBundle, releasePrivateKey, releasePublicKey, keyFingerprint, BundleError } = await import('../lib/release-bundle.js');
      if (!existsSync(bundle)) throw new UserError(`${bundle} does not exist`, 'build it with `hadir release build`');
      const pubPem = readKey(o.pub, '--pub');
      try {
        const m = await signBundle(bundle, o.out ?? bundle, releasePrivateKey(readKey(o.key, '--key')), releasePublicKey(pubPem));
        process.stdout.write(`${o.out ?? bundle}: ${m.version} ${m.arch} ditandatangani / signed with key ${keyFingerprint(pubPem)}\n`);
      } catch (e) {
        if (e instanceof BundleError) throw new UserError(`cannot sign ${bundle}: ${e.message}`, '--key and --pub must be the same pair; rebuild the bundle if it is damaged');
        throw e;
      }
    });

  release
    .command('verify')
    .description('Periksa bundle / check signature and every hash (what a kiosk does before installing)')
    .argument('<bundle>')
    .requiredOption('--pub <file>', 'release-key.pub')
    .action(async (bundle: string, o: { pub: string }) => {
      const { verifyBundle, releasePublicKey, BundleError } = await import('../lib/release-bundle.js');
      try {
        const v = await verifyBundle(bundle, { publicKey: releasePublicKey(readKey(o.pub, '--pub')) });
        process.stdout.write(`${bundle}: OK ${v.manifest.version} ${v.manifest.arch}, ${Object.keys(v.manifest.files).length} files, journal schema ${v.manifest.journalSchemaVersion}, min hub ${v.manifest.minHubVersion}\n`);
      } catch (e) {
        if (e instanceof BundleError) throw new UserError(`${bundle} DITOLAK / refused: ${e.message}`, 'do not install it; rebuild and sign it again');
        throw e;
      }
    });

  store(
    release
      .command('add')
      .description('Simpan bundle di hub / store a signed bundle at the hub (checked with the trusted release key)')
      .argument('<bundle>')
      .option('--pub <file>', "release-key.pub: needed the first time (the hub keeps it as <data>/release-key.pub)")
      .option('--by <name>', 'who (audit)'),
  ).action(async (bundle: string, o: StoreFlags & { pub?: string; by?: string }) => {
    const pub = o.pub ? readKey(o.pub, '--pub') : undefined;
    const r = await withFleet(o, (s) => s.addRelease(bundle, actor(o), pub));
    process.stdout.write(`rilis / release ${r.version} ${r.arch} disimpan / stored: ${(r.size / 1e6).toFixed(1)} MB, sha256 ${r.sha256.slice(0, 16)}…, key ${r.keyId}\n`);
  });

  store(release.command('list').description('Bundle di hub / bundles stored at the hub').addOption(formatOption(['table', 'json']))).action(async (o: StoreFlags & { format: string }) => {
    const items = await withFleet(o, (s) => s.releases());
    if (o.format === 'json') return void process.stdout.write(JSON.stringify(items, null, 2) + '\n');
    const rows = [['VERSI/VERSION', 'ARCH', 'MB', 'JURNAL/JOURNAL', 'DITAMBAH/ADDED']];
    for (const r of items) rows.push([r.version, r.arch, (r.size / 1e6).toFixed(1), String(r.manifest.journalSchemaVersion), r.addedAt]);
    process.stdout.write(table(rows));
  });

  const fleet = g.program.command('fleet').description('Pembaruan kiosk bertahap / staged kiosk updates');
  store(
    fleet
      .command('rollout')
      .description('Mulai pembaruan bertahap / start a staged rollout')
      .requiredOption('--version <v>', 'a release stored with `hadir release add`')
      .option('--stages <list>', 'e.g. 1,10%,opd:DINKES,all or 1,site:A+B,all (default 1,10%,all)')
      .option('--window <HH:MM-HH:MM>', 'install window in each site\'s local time (default 18:00-05:00; "always")')
      .option('--blackout <list>', 'never install in these local times: check-in/check-out (default 05:00-09:00,13:30-18:00; "none")')
      .option('--max-failures <n>', 'halt when more kiosks than this fail (default 1)')
      .option('--by <name>', 'who (audit)'),
  ).action(async (o: StoreFlags & { version: string; stages?: string; window?: string; blackout?: string; maxFailures?: string; by?: string }) => {
    const maxFailures = o.maxFailures === undefined ? undefined : Number(o.maxFailures);
    const r = await withFleet(o, (s) => s.startRollout({ version: o.version, stages: o.stages, window: o.window, blackouts: o.blackout, maxFailures, by: actor(o) }));
    process.stdout.write(`rollout ${r.id}: ${r.version} ${r.state}, tahap / stage ${r.stage + 1}/${r.stages.length}, jendela / window ${r.installWindow}\n`);
  });

  store(
    fleet
      .command('status')
      .description('Versi, tahap dan kegagalan setiap kiosk / every kiosk\'s version, stage and failures')
      .option('--rollout <id>', 'a given rollout (default: the latest)')
      .addOption(formatOption(['table', 'json'])),
  ).action(async (o: StoreFlags & { rollout?: string; format: string }) => {
    const st = await withFleet(o, (s) => s.status(o.rollout === undefined ? undefined : Number(o.rollout)));
    if (o.format === 'json') return void process.stdout.write(JSON.stringify(st, null, 2) + '\n');
    if (!st) return void process.stdout.write('belum ada rollout / no rollout yet\n');
    const r = st.rollout;
    process.stdout.write(`rollout ${r.id}: ${r.version} — ${r.state}${r.reason ? ` (${r.reason})` : ''}; tahap / stage ${r.stage + 1}/${r.stages.length} ${r.stageNames[r.stage]}; jendela / window ${r.installWindow}, blackout ${r.blackouts}; max failures ${r.maxFailures}\n`);
    const rows = [['KIOSK', 'LOKASI/SITE', 'VERSI/VERSION', 'TAHAP/STAGE', 'STATUS', 'ALASAN/REASON']];
    for (const t of st.targets) rows.push([t.deviceId, t.siteCode, `${t.version ?? '?'}${t.online ? '' : ' (offline)'}`, `${t.stage + 1} ${r.stageNames[t.stage]}`, t.state, t.reason ?? '']);
    process.stdout.write(table(rows));
    if (st.failures.length) {
      process.stdout.write(`kegagalan / failures (${st.failures.length}):\n`);
      for (const f of st.failures) process.stdout.write(`  ${f.at} ${f.deviceId} ${f.version} ${f.phase}: ${f.reason}\n`);
    }
  });

  for (const [name, desc] of [['pause', 'Jeda / pause a running rollout'], ['resume', 'Lanjutkan / resume a paused or halted rollout'], ['abort', 'Batalkan / abort (updated kiosks stay on the new version)']] as const) {
    const c = store(fleet.command(name).description(desc).argument('[id]', 'rollout id (default: the active one)').option('--by <name>', 'who (audit)'));
    if (name === 'resume') c.option('--max-failures <n>', 'new failure limit (a halted rollout needs a higher one to go on)');
    if (name === 'abort') c.option('--reason <text>', 'why');
    c.action(async (id: string | undefined, o: StoreFlags & { by?: string; maxFailures?: string; reason?: string }) => {
      const rid = id === undefined ? undefined : Number(id);
      const r = await withFleet(o, (s) =>
        name === 'pause' ? s.pause(rid, actor(o)) : name === 'resume' ? s.resume(rid, actor(o), o.maxFailures === undefined ? undefined : Number(o.maxFailures)) : s.abort(rid, actor(o), o.reason),
      );
      process.stdout.write(`rollout ${r.id}: ${r.state}${r.reason ? ` (${r.reason})` : ''}\n`);
    });
  }

  store(
    fleet
      .command('window')
      .description('Jendela pemasangan per lokasi / a site\'s own install window (local time)')
      .argument('<site>')
      .argument('<window>', 'HH:MM-HH:MM, "always", or "default" to drop the override')
      .option('--by <name>', 'who (audit)'),
  ).action(async (site: string, window: string, o: StoreFlags & { by?: string }) => {
    await withFleet(o, (s) => s.setSiteWindow(site, window === 'default' ? null : window, actor(o)));
    process.stdout.write(`lokasi / site ${site}: jendela / window ${window}\n`);
  });

  g.program
    .command('updater')
    .description('Pembaru kiosk / the kiosk updater (hadir-updater.service): download, verify, switch, confirm or roll back')
    .option('--config <file>', 'kiosk config (HADIR_KIOSK_CONFIG), its "update" section')
    .option('--once', 'one poll, print the result as JSON, exit')
    .action(async (o: { config?: string; once?: boolean }) => {
      const path = o.config ?? process.env.HADIR_KIOSK_CONFIG;
      if (!path) throw new UserError('no kiosk config given', 'pass --config /etc/hadir/kiosk.json or set HADIR_KIOSK_CONFIG');
      const { runUpdater } = await import('../kiosk/updater/main.js');
      await runUpdater(path, { once: !!o.once });
    });
}
