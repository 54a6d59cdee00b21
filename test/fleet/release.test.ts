import { afterAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { generateReleaseKeys, manifestFor, releasePrivateKey, releasePublicKey, signBundle, verifyBundle, writeBundle, type BundleEntry } from '../../lib/release-bundle.js';
import { buildRelease, nodeModulesArch } from '../../lib/release-build.js';
import { addKiosk, exitWithin, freePort, hubPunches, ROOT, seedOrg, spawnHub } from '../e2e/harness.js';
import { isDevOnlyModuleFile, pruneNodeModules } from '../../lib/app-compile.js';

/** Release bundles: what is signed, what is checked, and that every check can fail. */
describe('release bundles', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hadir-release-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const k1 = generateReleaseKeys();
  const k2 = generateReleaseKeys();
  const pub1 = releasePublicKey(k1.publicKeyPem);
  const entries: BundleEntry[] = [
    { path: 'bin/hadir.mjs', data: Buffer.from('console.log("hadir")\n'), mode: 0o755 },
    { path: 'kiosk/app.ts', data: Buffer.from('export const x = 1;\n'), mode: 0o644 },
    { path: 'node_modules/.bin/tsx', link: '../tsx/dist/cli.mjs', mode: 0o777 },
    { path: 'node_modules/tsx/dist/cli.mjs', data: Buffer.from('// tsx\n'), mode: 0o644 },
  ];
  const make = async (name: string, key = k1.privateKeyPem, over: Partial<BundleEntry>[] = []) => {
    const es = entries.map((e, i) => ({ ...e, ...(over[i] ?? {}) }));
    const m = await manifestFor(es, { version: '1.2.3', arch: 'arm64', nodeModules: 'bundled', minHubVersion: '0.1.0', journalSchemaVersion: 1 });
    const out = join(dir, name);
    await writeBundle(out, m, es, key ? releasePrivateKey(key) : null);
    return out;
  };

  it('a signed bundle verifies and unpacks with modes and links; the manifest names every file', async () => {
    const b = await make('ok.tar.gz');
    const to = join(dir, 'x', 'ok');
    const v = await verifyBundle(b, { publicKey: pub1, extractTo: to, arch: 'arm64', version: '1.2.3' });
    expect(Object.keys(v.manifest.files).sort()).toEqual(['bin/hadir.mjs', 'kiosk/app.ts', 'node_modules/tsx/dist/cli.mjs']);
    expect(v.manifest.links).toEqual({ 'node_modules/.bin/tsx': '../tsx/dist/cli.mjs' });
    expect(readFileSync(join(to, 'node_modules/.bin/tsx'), 'utf8')).toBe('// tsx\n');
    expect(readFileSync(join(to, 'bin/hadir.mjs'), 'utf8')).toContain('hadir');
  });

  it('refuses — and leaves no directory — on a changed byte, another key, no signature, another CPU or version', async () => {
    const b = await make('ok2.tar.gz');
    const raw = gunzipSync(readFileSync(b));
    const at = raw.indexOf(Buffer.from('export const x = 1;'));
    raw[at + 15] = '2'.charCodeAt(0);
    writeFileSync(join(dir, 'byte.tar.gz'), gzipSync(raw));
    const cases: [string, Parameters<typeof verifyBundle>[1], RegExp][] = [
      [join(dir, 'byte.tar.gz'), { publicKey: pub1 }, /kiosk\/app\.ts: sha256 .* does not match/],
      [await make('k2.tar.gz', k2.privateKeyPem), { publicKey: pub1 }, /signature does not verify/],
      [await make('unsigned.tar.gz', ''), { publicKey: pub1 }, /not signed/],
      [b, { publicKey: pub1, arch: 'x64' }, /for arm64, this machine is x64/],
      [b, { publicKey: pub1, version: '9.9.9' }, /carries version 1\.2\.3, expected 9\.9\.9/],
    ];
    for (const [file, o, why] of cases) {
      const to = join(dir, 'refused', String(Math.random()));
      await expect(verifyBundle(file, { ...o, extractTo: to })).rejects.toThrow(why);
      expect(existsSync(to)).toBe(false);
    }
    // a changed manifest (e.g. a hash swapped to match a changed file) breaks the signature
    const m = gunzipSync(readFileSync(b));
    const i = m.indexOf(Buffer.from('"1.2.3"'));
    m[i + 5] = '4'.charCodeAt(0);
    writeFileSync(join(dir, 'manifest.tar.gz'), gzipSync(m));
    await expect(verifyBundle(join(dir, 'manifest.tar.gz'), { publicKey: pub1 })).rejects.toThrow(/signature does not verify/);
  });

  it('release sign turns an unsigned bundle into a signed one (and re-signs with a new key)', async () => {
    const u = await make('to-sign.tar.gz', '');
    await signBundle(u, join(dir, 'signed.tar.gz'), releasePrivateKey(k1.privateKeyPem), pub1);
    expect((await verifyBundle(join(dir, 'signed.tar.gz'), { publicKey: pub1 })).signed).toBe(true);
    await expect(signBundle(u, join(dir, 'mismatch.tar.gz'), releasePrivateKey(k2.privateKeyPem), pub1)).rejects.toThrow(/signature/);
    expect(existsSync(join(dir, 'mismatch.tar.gz'))).toBe(false);
  });

  it('release build: the working tree without tests, the version in package.json, node_modules checked for the CPU', async () => {
    const out = join(dir, 'tree.tar.gz');
    const r = await buildRelease({ version: '3.0.0-rc.1', appDir: ROOT, nodeModules: 'none', out, key: releasePrivateKey(k1.privateKeyPem) });
    expect(r.manifest.nodeModules).toBe('external');
    const paths = Object.keys(r.manifest.files);
    // shipped compiled (lib/app-compile.ts): the kiosk runs JavaScript, no TypeScript source is left
    expect(paths).toContain('kiosk/updater/updater.js');
    expect(paths.filter((p) => p.endsWith('.ts'))).toEqual([]);
    expect(paths.some((p) => p.startsWith('test/') || p.startsWith('node_modules/'))).toBe(false);
    const to = join(dir, 'tree');
    await verifyBundle(out, { publicKey: pub1, extractTo: to });
    expect(JSON.parse(readFileSync(join(to, 'package.json'), 'utf8')).version).toBe('3.0.0-rc.1');
    expect(readdirSync(to)).toContain('bin');
    // ... and that JavaScript runs: the CLI starts from the unpacked release (node_modules linked in,
    // as the updater does for a bundle without them), reporting the bundle's version
    symlinkSync(join(ROOT, 'node_modules'), join(to, 'node_modules'));
    const run = spawnSync(process.execPath, [join(to, 'bin/hadir.mjs'), '--version'], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe('3.0.0-rc.1');
    // this machine's node_modules are x64: building them as arm64 is refused
    expect(nodeModulesArch(join(ROOT, 'node_modules'))).toBe(process.arch === 'arm64' ? 'arm64' : 'x64');
    await expect(buildRelease({ version: '3.0.0', appDir: ROOT, arch: process.arch === 'arm64' ? 'x64' : 'arm64', out: join(dir, 'wrong.tar.gz'), key: null })).rejects.toThrow(/node_modules at .* is built for/);
  });

  it('node_modules without what Node never loads (source maps, declarations, docs; licences kept) still run the face engines and a kiosk end to end', async () => {
    expect(['@tensorflow/tfjs/dist/tf.min.js.map', 'zod/index.d.cts', 'pg-protocol/src/index.ts', 'mqtt/README.md', 'x/tsconfig.tsbuildinfo'].filter(isDevOnlyModuleFile)).toHaveLength(5);
    expect(['mqtt/LICENSE.md', 'ms/license.md', 'a/NOTICE.md', 'a/index.js', 'a/index.mjs', 'a/x.cjs', 'a/package.json', 'b/x.wasm', 'c/x.node', 'd/tsconfig.json'].filter(isDevOnlyModuleFile)).toEqual([]);
    const k = generateReleaseKeys();
    const out = join(dir, 'pruned.tar.gz');
    await buildRelease({ version: '3.1.0', appDir: ROOT, nodeModules: 'none', out, key: releasePrivateKey(k.privateKeyPem) });
    const to = join(dir, 'pruned');
    await verifyBundle(out, { publicKey: releasePublicKey(k.publicKeyPem), extractTo: to });
    // A hard-linked copy of this checkout's node_modules (seconds, no data copied), pruned as a release is.
    expect(spawnSync('cp', ['-al', join(ROOT, 'node_modules'), join(to, 'node_modules')]).status).toBe(0);
    const p = pruneNodeModules(join(to, 'node_modules'));
    expect(p.files).toBeGreaterThan(1000);
    expect(existsSync(join(to, 'node_modules', 'mqtt', 'LICENSE.md'))).toBe(true);
    expect(existsSync(join(to, 'node_modules', 'mqtt', 'README.md'))).toBe(false);
    mkdirSync(join(to, 'models'), { recursive: true });
    symlinkSync(join(ROOT, 'models', 'onnx'), join(to, 'models', 'onnx'));
    const bin = join(to, 'bin', 'hadir.mjs');
    // Both face engines: onnxruntime-node, and face-api on tfjs's WASM backend (where most maps were).
    const face = spawnSync(process.execPath, [bin, 'bench', 'face', '--frames', '1', '--faceapi-frames', '1', '--image', join(ROOT, '..', 'shared', 'faces-dev', 'deepface-df07', '1.jpg')], { encoding: 'utf8', env: { ...process.env, HADIR_LOG_LEVEL: 'warn' }, timeout: 120_000 });
    expect(face.status, face.stderr.slice(-1500)).toBe(0);
    expect(JSON.parse(face.stdout.trim().split('\n').pop()!)).toMatchObject({ onnx_p50_ms: expect.any(Number), faceapi_p50_ms: expect.any(Number) });
    // A kiosk from the pruned tree journals and delivers to a hub (MQTT, SQLite, signing, the screen server).
    const hubDir = join(dir, 'hub');
    mkdirSync(hubDir);
    seedOrg(hubDir, 'S-PRN', 5);
    const [httpPort, mqttPort] = [await freePort(), await freePort()];
    const hub = await spawnHub({ dataDir: hubDir, httpPort, mqttPort });
    try {
      const kc = await addKiosk({ hubDataDir: hubDir, hubUrl: `http://127.0.0.1:${httpPort}`, mqttUrl: `mqtt://127.0.0.1:${mqttPort}`, site: 'S-PRN', dir });
      const child = spawn(process.execPath, [bin, 'kiosk', '--config', kc.configPath, '--simulate', '--punches', '20', '--rate', '50'], { env: { ...process.env, HADIR_LOG_LEVEL: 'warn', VITEST: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
      let o = '';
      child.stdout!.on('data', (b: Buffer) => (o += b.toString()));
      child.stderr!.on('data', (b: Buffer) => (o += b.toString()));
      const exited = new Promise<number | string>((r) => child.on('exit', (c, sig) => r(c ?? sig ?? -1)));
      expect(await exitWithin({ child, exited, output: () => o }, 90_000, 'kiosk from the pruned release'), o).toBe(0);
      expect(JSON.parse(o.trim().split('\n').filter((l) => l.startsWith('{"deviceId"')).pop()!)).toMatchObject({ recorded: 20, undelivered: 0 });
      expect(hubPunches(hubDir, kc.deviceId)).toHaveLength(20);
    } finally {
      hub.child.kill('SIGTERM');
      await hub.exited;
    }
  }, 240_000);
});
