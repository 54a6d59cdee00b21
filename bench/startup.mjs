#!/usr/bin/env node
// Start-up of the kiosk run through tsx (bin/hadir.mjs in a checkout) against the same commit compiled
// as a release ships it (issue 10: "measure start-up and memory against a build step"). Builds HEAD in
// a temporary copy (git archive + `hadir release compile`, node_modules linked), then runs each variant
// RUNS times after a warm-up: `hadir kiosk --help` (wall time, max RSS) and `hadir kiosk --simulate`
// from spawn to run-state.json `ready` (wall time, VmRSS/VmHWM at that moment). Needs Mosquitto on
// 127.0.0.1:1883 (anonymous). Usage: node bench/startup.mjs [runs]
import { execFileSync, execSync, spawn, spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const RUNS = Number(process.argv[2] ?? 5);
const work = mkdtempSync(join(tmpdir(), 'hadir-startup-'));
try {
  const built = join(work, 'built');
  execSync(`mkdir -p ${built} && git -C ${ROOT} archive HEAD | tar -x -C ${built}`);
  symlinkSync(join(ROOT, 'node_modules'), join(built, 'node_modules'));
  const t0 = performance.now();
  // What a release ships: the same tree compiled ahead of time (lib/app-compile.ts, esbuild).
  execFileSync(process.execPath, [join(ROOT, 'bin/hadir.mjs'), 'release', 'compile', built], { stdio: 'inherit' });
  console.log(`compile: ${Math.round(performance.now() - t0)} ms`);
  const variants = { tsx: [join(ROOT, 'bin/hadir.mjs')], compiled: [join(built, 'bin/hadir.mjs')] };

  const { privateKey } = generateKeyPairSync('ed25519');
  const cfgPath = join(work, 'kiosk.json');
  const dataDir = join(work, 'data');
  writeFileSync(cfgPath, JSON.stringify({
    deviceId: 'kiosk-startup', siteCode: 'S01', hubUrl: 'http://127.0.0.1:9', dataDir,
    mqtt: { url: 'mqtt://127.0.0.1:1883', username: 'kiosk-startup', password: 'x', prefix: `startup/${process.pid}` },
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    screen: { port: 0 }, face: { enabled: false }, finger: { enabled: true }, gpio: { enabled: false },
  }), { mode: 0o600 });

  const help = (args) => {
    const r = spawnSync('/usr/bin/time', ['-f', '%e %M', process.execPath, ...args, 'kiosk', '--help'], { encoding: 'utf8' });
    const [s, kb] = r.stderr.trim().split('\n').at(-1).split(' ');
    return { ms: Number(s) * 1000, rssMb: Number(kb) / 1024 };
  };
  const ready = async (args) => {
    const file = join(dataDir, 'run-state.json');
    rmSync(file, { force: true });
    const start = performance.now();
    const child = spawn(process.execPath, [...args, 'kiosk', '--config', cfgPath, '--simulate'], { stdio: 'ignore' });
    while (!(existsSync(file) && JSON.parse(readFileSync(file, 'utf8')).ready)) {
      if (performance.now() - start > 60_000) throw new Error('no READY within 60 s');
      await new Promise((r) => setTimeout(r, 5));
    }
    const ms = performance.now() - start;
    const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
    const mb = (k) => Number(status.match(new RegExp(`${k}:\\s+(\\d+)`))[1]) / 1024;
    const out = { ms, rssMb: mb('VmRSS'), hwmMb: mb('VmHWM') };
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
    return out;
  };
  const line = (name, what, xs) => {
    const s = xs.map(Math.round).sort((a, b) => a - b);
    console.log(`${name.padEnd(8)} ${what.padEnd(22)} median ${s[Math.floor(s.length / 2)]}  min ${s[0]}  max ${s.at(-1)}  runs ${xs.map(Math.round).join(',')}`);
  };
  for (const [name, args] of Object.entries(variants)) {
    help(args);
    const h = Array.from({ length: RUNS }, () => help(args));
    await ready(args);
    const r = [];
    for (let i = 0; i < RUNS; i++) r.push(await ready(args));
    line(name, '--help ms', h.map((x) => x.ms));
    line(name, '--help max RSS MB', h.map((x) => x.rssMb));
    line(name, 'spawn→READY ms', r.map((x) => x.ms));
    line(name, 'RSS at READY MB', r.map((x) => x.rssMb));
    line(name, 'peak RSS at READY MB', r.map((x) => x.hwmMb));
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
