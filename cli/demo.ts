import type { Groups } from './program.js';
import { UserError } from '../lib/errors.js';

/**
 * `hadir demo`: the hub (embedded broker, ephemeral ports) with a sample organisation, two
 * registered kiosks driven by the simulator through the real path, and every punch printed as the
 * hub stores it. What a newcomer runs first.
 */

const SAMPLE_ORG = [
  { opd: ['BKPSDM', 'Badan Kepegawaian dan Pengembangan SDM'], unit: ['BKPSDM-SEK', 'Sekretariat BKPSDM'], site: ['KANTOR-BKPSDM', 'Kantor BKPSDM'] },
  { opd: ['DISDIK', 'Dinas Pendidikan'], unit: ['SDN1-KOTA', 'SD Negeri 1 Kota'], site: ['SDN1-KOTA', 'SD Negeri 1 Kota'] },
] as const;

const SAMPLE_NAMES = [
  ['Siti Rahmawati', 'Budi Santoso', 'Dewi Lestari', 'Agus Prasetyo', 'Rina Marlina', 'Hendra Gunawan'],
  ['Yuliana Sari', 'Ahmad Fauzi', 'Nur Hasanah', 'Joko Widodo', 'Maria Ulfa', 'Rudi Hartono'],
];

const DEMO_USER = 'admin';
const DEMO_PASSWORD = 'hadir-demo-2026';

/** An 18-digit NIP: birth date, appointment month, gender, sequence (DESIGN "Staff import CSV"). */
function sampleNip(i: number, j: number): string {
  const birth = `19${80 + i * 3 + j}0${1 + (j % 9)}1${j % 10}`;
  return `${birth}2010${String(1 + i).padStart(2, '0')}${1 + (j % 2)}${String(100 + i * 10 + j).padStart(3, '0')}`;
}

export function registerDemoCommand(g: Groups): void {
  g.program
    .command('demo')
    .description('Demo: hub + 2 kiosk simulasi dengan data contoh / hub plus two simulated kiosks on sample data')
    .option('--duration <s>', 'stop by itself after S seconds (default: until Ctrl-C)')
    .option('--data <dir>', 'keep the demo data here (default: a fresh temp dir)')
    .option('--http-port <n>', 'hub HTTP port (default: any free port)', '0')
    .option('--rate <r>', 'identifications per second per kiosk', '0.5')
    .option('--no-features', 'core only: do not start face/finger/gpio/clock/health/commands features')
    .action(async (o: { duration?: string; data?: string; httpPort: string; rate: string; features: boolean }) => {
      const duration = o.duration === undefined ? undefined : Number(o.duration);
      if (duration !== undefined && !(duration > 0)) throw new UserError(`--duration ${o.duration} is not a positive number of seconds`, 'use e.g. --duration 30');
      const rate = Number(o.rate);
      if (!(rate > 0)) throw new UserError(`--rate ${o.rate} is not a positive number`, 'use e.g. --rate 0.5');
      await runDemo({ duration, dataDir: o.data, httpPort: Number(o.httpPort), rate, features: o.features });
    });
}

async function runDemo(o: { duration?: number; dataDir?: string; httpPort: number; rate: number; features: boolean }): Promise<void> {
  const { mkdtempSync, mkdirSync, readFileSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join, resolve } = await import('node:path');
  const { execFile } = await import('node:child_process');
  const { promisify } = await import('node:util');
  const { startHub } = await import('../hub/server.js');
  const { KioskApp } = await import('../kiosk/app.js');
  const { SimulatedSource } = await import('../kiosk/sim/source.js');
  const { kioskConfigSchema } = await import('../kiosk/config.js');
  const { localTime } = await import('../kiosk/dedup.js');
  const { extensionFactories } = await import('../kiosk/extensions.js');

  const { rootLogger } = await import('../lib/logger.js');
  // The demo's stdout is the punch stream; routine info logs would drown it.
  if (!process.env.HADIR_LOG_LEVEL) rootLogger.level = 'warn';
  const dataDir = resolve(o.dataDir ?? mkdtempSync(join(tmpdir(), 'hadir-demo-')));
  mkdirSync(dataDir, { recursive: true });
  const hubDir = join(dataDir, 'hub');
  const out = (s: string) => process.stdout.write(s + '\n');

  // Sample organisation and staff, imported the way an admin does (`hadir import org|staff`).
  const bin = join(resolve(import.meta.dirname, '..'), 'bin', 'hadir.mjs');
  const run = promisify(execFile);
  const hadir = async (args: string[]) => {
    try {
      return (await run(process.execPath, [bin, ...args], { env: { ...process.env, HADIR_LOG_LEVEL: 'warn' } })).stdout;
    } catch (e) {
      const err = e as { stderr?: string; message: string };
      throw new UserError(`demo step \`hadir ${args.slice(0, 2).join(' ')}\` failed: ${(err.stderr ?? err.message).trim().split('\n').pop()}`, 'run it by hand with the same arguments to see why');
    }
  };
  const names = new Map<string, string>();
  const orgCsv = ['opd_code,opd_name,unit_code,unit_name,site_code,site_name'];
  const staffCsv = ['nip,name,opd,unit,employment,job_class,tpp_base,schedule'];
  SAMPLE_ORG.forEach((org, i) => {
    orgCsv.push([org.opd[0], org.opd[1], org.unit[0], org.unit[1], org.site[0], org.site[1]].join(','));
    SAMPLE_NAMES[i]!.forEach((name, j) => {
      const nip = sampleNip(i, j);
      names.set(nip, name);
      staffCsv.push([nip, name, org.opd[0], org.unit[0], j === 5 ? 'PPPK' : 'ASN', 'Pelaksana', 4_000_000 + 250_000 * j, 'KANTOR5'].join(','));
    });
  });
  writeFileSync(join(dataDir, 'org.csv'), orgCsv.join('\n') + '\n');
  writeFileSync(join(dataDir, 'staff.csv'), staffCsv.join('\n') + '\n');
  await hadir(['import', 'org', join(dataDir, 'org.csv'), '--data', hubDir, '--by', 'demo']);
  await hadir(['import', 'staff', join(dataDir, 'staff.csv'), '--data', hubDir, '--by', 'demo']);
  // A BKPSDM login for the web dashboard (demo data only; the password is printed below).
  const { spawnSync } = await import('node:child_process');
  const userAdd = spawnSync(process.execPath, [bin, 'user', 'add', '--username', DEMO_USER, '--name', 'Admin BKPSDM (demo)', '--role', 'bkpsdm', '--password-stdin', '--data', hubDir], { input: `${DEMO_PASSWORD}\n`, encoding: 'utf8' });
  if (userAdd.status !== 0) throw new UserError(`demo: could not create the dashboard user: ${userAdd.stderr.trim()}`, 'run with HADIR_LOG_LEVEL=debug and report it');

  const hub = await startHub({ httpPort: o.httpPort, httpHost: '127.0.0.1', mqttPort: 0, mqttHost: '127.0.0.1', dataDir: hubDir });
  const stops: (() => Promise<void>)[] = [() => hub.close()];
  const stopAll = async () => {
    for (const s of stops.splice(0).reverse()) await s().catch(() => {});
  };
  try {
    const db = hub.ctx.db;
    const byId = db.prepare('SELECT device_id AS deviceId, seq FROM punches WHERE id = ?');
    hub.ctx.bus.on('punches:stored', (list) => {
      for (const p of list) {
        const r = byId.get(p.id) as { deviceId: string; seq: number } | undefined;
        out(`  ${localTime(p.capturedAt, 'Asia/Jakarta')}  ${p.nip}  ${(names.get(p.nip) ?? '').padEnd(16)}  ${r ? `${r.deviceId} #${r.seq}` : ''}  → tersimpan di hub / stored`);
      }
    });
    // Register and enrol two kiosks exactly as an admin would (`hadir device add --kiosk-config`).
    const kiosks: InstanceType<typeof KioskApp>[] = [];
    for (const [i, org] of SAMPLE_ORG.entries()) {
      const id = `kiosk-demo-${i + 1}`;
      const file = join(dataDir, `${id}.json`);
      try {
        readFileSync(file);
      } catch {
        await hadir([
          'device', 'add', '--site', org.site[0], '--id', id, '--kiosk-config', file,
          '--hub-url', hub.publicUrl, '--mqtt-url', hub.mqttUrl, '--kiosk-data', join(dataDir, id), '--data', hubDir,
        ]);
      }
      // Demo tweaks: a free screen port, a short dedup window so people punch again within minutes.
      const doc = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
      doc.screen = { port: 0, host: '127.0.0.1' };
      // A kept --data dir: this run's hub has new ephemeral ports.
      doc.hubUrl = hub.publicUrl;
      doc.mqtt = { ...(doc.mqtt as object), url: hub.mqttUrl };
      doc.dedupWindowMin = 1;
      // The simulator stands in for the camera here (no image folder in the demo); finger, GPIO,
      // clock, health and commands run in their simulated form.
      doc.face = { ...((doc.face as object) ?? {}), enabled: false };
      writeFileSync(file, JSON.stringify(doc, null, 2) + '\n', { mode: 0o600 });
      const config = kioskConfigSchema.parse(doc);
      const app = new KioskApp(config, { simulate: true, extensions: o.features ? extensionFactories : [] });
      app.addSource(new SimulatedSource({ roster: app.roster, rate: o.rate }));
      await app.start();
      stops.push(() => app.stop());
      kiosks.push(app);
    }

    for (const k of kiosks) {
      k.bus.on('feedback', (ev) => {
        if (ev.kind === 'already') out(`  ${localTime(ev.at, 'Asia/Jakarta')}  ${ev.nip}  ${ev.name.padEnd(16)}  ${k.config.deviceId}: Sudah tercatat pukul ${localTime(ev.firstAt, 'Asia/Jakarta')} (tidak dicatat ulang)`);
      });
    }

    out('Hadir demo berjalan / running');
    out(`  hub       ${hub.publicUrl}/   (API ${hub.publicUrl}/api/v1, ${hub.publicUrl}/metrics)`);
    out(`  dasbor    ${hub.publicUrl}/   masuk / log in: ${DEMO_USER} / ${DEMO_PASSWORD}`);
    out(`  broker    ${hub.mqttUrl} (embedded)`);
    for (const k of kiosks) out(`  layar     ${k.screen?.url ?? '-'}  ${k.config.deviceId} @ ${k.config.siteCode}`);
    out(`  data      ${dataDir}`);
    out(`  ${o.duration ? `berhenti setelah / stops after ${o.duration} s` : 'Ctrl-C untuk berhenti / to stop'}`);
    out('Presensi / punches:');

    await new Promise<void>((res) => {
      const done = () => res();
      process.once('SIGINT', done);
      process.once('SIGTERM', done);
      if (o.duration) setTimeout(done, o.duration * 1000).unref();
    });
    // Kiosks first (their last punches still reach the hub), then count, then the hub.
    while (stops.length > 1) await stops.pop()!().catch(() => {});
    const stored = (db.prepare('SELECT COUNT(*) FROM punches').pluck().get() as number) ?? 0;
    out(`Selesai / done: ${stored} presensi tersimpan di hub / punches stored`);
  } finally {
    await stopAll();
  }
}
