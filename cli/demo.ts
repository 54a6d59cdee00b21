import type { Groups } from './program.js';
import { UserError } from '../lib/errors.js';

/**
 * `hadir demo`: the hub (embedded broker, ephemeral ports) with a sample organisation, two
 * registered kiosks driven by the simulator through the real path, and every punch printed as the
 * hub stores it. What a newcomer runs first.
 */

const SAMPLE_ORG = [
  { opd: ['BKPSDM', 'Badan Kepegawaian dan Pengembangan SDM'], unit: ['BKPSDM-SEK', 'Sekretariat BKPSDM'], site: ['KANTOR-BKPSDM', 'Kantor BKPSDM'], schedule: 'KANTOR5' },
  { opd: ['DISDIK', 'Dinas Pendidikan'], unit: ['SDN1-KOTA', 'SD Negeri 1 Kota'], site: ['SDN1-KOTA', 'SD Negeri 1 Kota'], schedule: 'SEKOLAH6' },
  { opd: ['DINKES', 'Dinas Kesehatan'], unit: ['PKM-KOTA', 'Puskesmas Kota'], site: ['PKM-KOTA', 'Puskesmas Kota'], schedule: 'LAYANAN7' },
] as const;

const SAMPLE_NAMES = [
  ['Siti Rahmawati', 'Budi Santoso', 'Dewi Lestari', 'Agus Prasetyo', 'Rina Marlina', 'Hendra Gunawan'],
  ['Yuliana Sari', 'Ahmad Fauzi', 'Nur Hasanah', 'Joko Susilo', 'Maria Ulfa', 'Rudi Hartono'],
  ['Fitri Handayani', 'Bambang Wijaya', 'Sri Wahyuni', 'Eko Saputra', 'Lina Marlina', 'Dedi Kurniawan'],
];

/** Working hours of the sample schedules (weekday 0 = Sunday), for the generated history. */
const HOURS: Record<string, Partial<Record<number, [string, string]>>> = {
  KANTOR5: { 1: ['07:30', '16:00'], 2: ['07:30', '16:00'], 3: ['07:30', '16:00'], 4: ['07:30', '16:00'], 5: ['07:30', '16:30'] },
  SEKOLAH6: { 1: ['07:00', '13:30'], 2: ['07:00', '13:30'], 3: ['07:00', '13:30'], 4: ['07:00', '13:30'], 5: ['07:00', '11:00'], 6: ['07:00', '12:30'] },
  LAYANAN7: Object.fromEntries([0, 1, 2, 3, 4, 5, 6].map((d) => [d, ['07:30', '15:00']])),
};

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
    .description('Demo: hub + 3 kiosk simulasi dengan data contoh sebulan / hub plus three simulated kiosks on a month of sample data')
    .option('--duration <s>', 'stop by itself after S seconds (default: until Ctrl-C)')
    .option('--data <dir>', 'keep the demo data here (default: a temp dir removed on exit)')
    .option('--http-port <n>', 'hub HTTP port (default: any free port)')
    .option('--rate <r>', 'identifications per second per kiosk', '0.2')
    .option('--no-features', 'core only: do not start face/finger/gpio/clock/health/commands features')
    .action(async (o: { duration?: string; data?: string; httpPort?: string; rate: string; features: boolean }) => {
      const duration = o.duration === undefined ? undefined : Number(o.duration);
      if (duration !== undefined && !(duration > 0)) throw new UserError(`--duration ${o.duration} is not a positive number of seconds`, 'use e.g. --duration 30');
      const rate = Number(o.rate);
      if (!(rate > 0)) throw new UserError(`--rate ${o.rate} is not a positive number`, 'use e.g. --rate 0.5');
      const httpPort = o.httpPort === undefined ? 0 : Number(o.httpPort);
      if (!Number.isInteger(httpPort) || httpPort < 0 || httpPort > 65535) throw new UserError(`--http-port ${o.httpPort} is not a port number`, 'use e.g. --http-port 8080');
      await runDemo({ duration, dataDir: o.data, httpPort, rate, features: o.features });
    });
}

async function runDemo(o: { duration?: number; dataDir?: string; httpPort: number; rate: number; features: boolean }): Promise<void> {
  const { existsSync, mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join, resolve } = await import('node:path');
  const { execFile, spawnSync } = await import('node:child_process');
  const { promisify } = await import('node:util');
  const { startHub } = await import('../hub/server.js');
  const { KioskApp } = await import('../kiosk/app.js');
  const { SimulatedSource } = await import('../kiosk/sim/source.js');
  const { kioskConfigSchema } = await import('../kiosk/config.js');
  const { localTime } = await import('../kiosk/dedup.js');
  const { extensionFactories } = await import('../kiosk/extension-list.js');
  const { demoHistory } = await import('./demo-history.js');

  const { rootLogger } = await import('../lib/logger.js');
  // The demo's stdout is the punch stream; routine info logs would drown it.
  if (!process.env.HADIR_LOG_LEVEL) rootLogger.level = 'error';
  const temporary = o.dataDir === undefined;
  const dataDir = resolve(o.dataDir ?? mkdtempSync(join(tmpdir(), 'hadir-demo-')));
  // A temp dir is removed on every way out (Ctrl-C, --duration, an error); --data is kept.
  const cleanup = () => {
    if (temporary) rmSync(dataDir, { recursive: true, force: true });
  };
  mkdirSync(dataDir, { recursive: true });
  const hubDir = join(dataDir, 'hub');
  const out = (s: string) => process.stdout.write(s + '\n');
  const root = resolve(import.meta.dirname, '..');
  const fresh = !existsSync(join(hubDir, 'hub.db'));

  // Sample organisation, staff, schedule, Perbup rule and a month of history, imported the way an
  // admin does (`hadir import org|staff|punches|kinerja`, `hadir schedules add`, `hadir rules add`).
  const bin = join(root, 'bin', 'hadir.mjs');
  const run = promisify(execFile);
  const hadir = async (args: string[]) => {
    try {
      return (await run(process.execPath, [bin, ...args, '--data', hubDir], { env: { ...process.env, HADIR_LOG_LEVEL: 'warn' }, maxBuffer: 16 << 20 })).stdout;
    } catch (e) {
      const err = e as { stderr?: string; message: string };
      throw new UserError(`demo step \`hadir ${args.slice(0, 2).join(' ')}\` failed: ${(err.stderr ?? err.message).trim().split('\n').pop()}`, 'run it by hand with the same arguments to see why');
    }
  };
  const names = new Map<string, string>();
  try {
    if (fresh) {
      process.stdout.write('Menyiapkan data contoh (organisasi, pegawai, aturan Perbup, riwayat sebulan) / preparing sample data …\n');
      const orgCsv = ['opd_code,opd_name,unit_code,unit_name,site_code,site_name'];
      const staffCsv = ['nip,name,opd,unit,employment,job_class,tpp_base,schedule'];
      const people: { nip: string; site: string; hours: Partial<Record<number, [string, string]>> }[] = [];
      SAMPLE_ORG.forEach((org, i) => {
        orgCsv.push([org.opd[0], org.opd[1], org.unit[0], org.unit[1], org.site[0], org.site[1]].join(','));
        SAMPLE_NAMES[i]!.forEach((name, j) => {
          const nip = sampleNip(i, j);
          staffCsv.push([nip, name, org.opd[0], org.unit[0], j === 5 ? 'PPPK' : 'ASN', 'Pelaksana', 4_000_000 + 250_000 * j, org.schedule].join(','));
          people.push({ nip, site: org.site[0], hours: HOURS[org.schedule]! });
        });
      });
      const history = demoHistory(people, Date.now());
      writeFileSync(join(dataDir, 'org.csv'), orgCsv.join('\n') + '\n');
      writeFileSync(join(dataDir, 'staff.csv'), staffCsv.join('\n') + '\n');
      writeFileSync(join(dataDir, 'history.csv'), history.punches.join('\n') + '\n');
      writeFileSync(join(dataDir, 'kinerja.csv'), history.kinerja.join('\n') + '\n');
      await hadir(['import', 'org', join(dataDir, 'org.csv'), '--by', 'demo']);
      await hadir(['schedules', 'add', join(root, 'samples', 'jadwal-layanan7.yaml'), '--by', 'demo']);
      await hadir(['import', 'staff', join(dataDir, 'staff.csv'), '--by', 'demo']);
      await hadir(['rules', 'add', join(root, 'samples', 'perbup-contoh-2026.yaml'), '--by', 'demo']);
      await hadir(['import', 'kinerja', join(dataDir, 'kinerja.csv'), '--by', 'demo']);
      await hadir(['import', 'punches', join(dataDir, 'history.csv'), '--by', 'demo']);
      // A BKPSDM login for the web dashboard (demo data only; the password is printed below).
      const userAdd = spawnSync(process.execPath, [bin, 'user', 'add', '--username', DEMO_USER, '--name', 'Admin BKPSDM (demo)', '--role', 'bkpsdm', '--password-stdin', '--data', hubDir], { input: `${DEMO_PASSWORD}\n`, encoding: 'utf8' });
      if (userAdd.status !== 0) throw new UserError(`demo: could not create the dashboard user: ${userAdd.stderr.trim()}`, 'run with HADIR_LOG_LEVEL=debug and report it');
    }
    SAMPLE_ORG.forEach((_, i) => SAMPLE_NAMES[i]!.forEach((name, j) => names.set(sampleNip(i, j), name)));
  } catch (e) {
    cleanup();
    throw e;
  }

  const hub = await startHub({ httpPort: o.httpPort, httpHost: '127.0.0.1', mqttPort: 0, mqttHost: '127.0.0.1', dataDir: hubDir }).catch((e: unknown) => {
    cleanup();
    throw e;
  });
  const stops: (() => Promise<void>)[] = [() => hub.close()];
  const stopAll = async () => {
    for (const s of stops.splice(0).reverse()) await s().catch(() => {});
  };
  try {
    const db = hub.db;
    // Punches stored before the banner is printed wait here, so the banner always comes first.
    const early: string[] = [];
    let say: (s: string) => void = (s) => void early.push(s);
    const byId = db.prepare('SELECT device_id AS deviceId, seq, clock_source AS source, clock_error_ms AS errorMs FROM punches WHERE id = ?');
    hub.ctx.bus.on('punches:stored', (list) => {
      for (const p of list) {
        const r = byId.get(p.id) as { deviceId: string | null; seq: number | null; source: string; errorMs: number | null } | undefined;
        if (!r?.deviceId) continue; // the imported history
        const clock = r.source === 'hub' ? `jam hub ±${Math.ceil(r.errorMs ?? 0)} ms` : `jam ${r.source}`;
        say(`  ${localTime(p.capturedAt, 'Asia/Jakarta')} WIB  ${p.nip}  ${(names.get(p.nip) ?? '').padEnd(16)}  ${r.deviceId} #${r.seq}  ${clock}  → tersimpan di hub / stored`);
      }
    });
    // Register and enrol three kiosks exactly as an admin would (`hadir device add --kiosk-config`).
    const kiosks: InstanceType<typeof KioskApp>[] = [];
    let already = 0;
    for (const [i, org] of SAMPLE_ORG.entries()) {
      const id = `kiosk-demo-${i + 1}`;
      const file = join(dataDir, `${id}.json`);
      if (!existsSync(file)) {
        await hadir(['device', 'add', '--site', org.site[0], '--id', id, '--kiosk-config', file, '--hub-url', hub.publicUrl, '--mqtt-url', hub.mqttUrl, '--kiosk-data', join(dataDir, id)]);
      }
      const doc = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
      doc.screen = { port: 0, host: '127.0.0.1' };
      // A kept --data dir: this run's hub has new ephemeral ports.
      doc.hubUrl = hub.publicUrl;
      doc.mqtt = { ...(doc.mqtt as object), url: hub.mqttUrl };
      // People come back within minutes in a demo; the default (5 min) would refuse most of them.
      doc.dedupWindowMin = 1;
      // The simulator stands in for the camera here (no image folder in the demo); finger, GPIO,
      // clock (chrony if synced, else time from the hub), health and commands run for real or simulated.
      doc.face = { ...((doc.face as object) ?? {}), enabled: false };
      // Three simulated kiosks speaking on a laptop would be noise; a real kiosk speaks (kiosk/sound/).
      doc.sound = { enabled: false };
      // The emulated sensor answers over a pty from this same busy process (three kiosks and a hub
      // starting at once): give it the slack a real R307 on its own UART never needs.
      doc.finger = { ...((doc.finger as object) ?? {}), timeoutMs: 4000 };
      if (i === 2) {
        // The demo's one alert: the puskesmas kiosk stands in a hot cupboard (a simulated
        // thermal zone reads 83 °C), so the hub raises "suhu CPU" as soon as health arrives.
        const sys = join(dataDir, id, 'sim-sys');
        mkdirSync(join(sys, 'sys/class/thermal/thermal_zone0'), { recursive: true });
        writeFileSync(join(sys, 'sys/class/thermal/thermal_zone0/temp'), '83000\n');
        doc.health = { ...((doc.health as object) ?? {}), sysRoot: sys };
      }
      writeFileSync(file, JSON.stringify(doc, null, 2) + '\n', { mode: 0o600 });
      const config = kioskConfigSchema.parse(doc);
      const app = new KioskApp(config, { simulate: true, extensions: o.features ? extensionFactories : [] });
      await app.start();
      stops.push(() => app.stop());
      kiosks.push(app);
      app.bus.on('feedback', (ev) => {
        if (ev.kind === 'already') already++;
      });
    }

    out('');
    out('Hadir demo berjalan / running');
    out(`  dasbor    ${hub.publicUrl}/   masuk / log in: ${DEMO_USER} / ${DEMO_PASSWORD}`);
    out(`  hub       API ${hub.publicUrl}/api/v1, ${hub.publicUrl}/metrics, broker ${hub.mqttUrl} (embedded)`);
    for (const k of kiosks) out(`  layar     ${k.screen?.url ?? '-'}  ${k.config.deviceId} @ ${k.config.siteCode}`);
    out(`  contoh    aturan TPP samples/perbup-contoh-2026.yaml, riwayat presensi sejak ${sampleStart()} / sample rule and history`);
    out(`  data      ${dataDir}${temporary ? '  (dihapus saat selesai / removed on exit)' : ''}`);
    out(`  ${o.duration ? `berhenti setelah / stops after ${o.duration} s` : 'Ctrl-C untuk berhenti / to stop'}`);
    out('Presensi baru / new punches:');
    for (const line of early.splice(0)) out(line);
    say = out;
    // The simulated people start walking up only now: the banner is never interleaved.
    for (const k of kiosks) {
      k.addSource(new SimulatedSource({ roster: k.roster, rate: o.rate })); // a running kiosk starts it at once
    }

    await new Promise<void>((res) => {
      const done = () => res();
      process.once('SIGINT', done);
      process.once('SIGTERM', done);
      if (o.duration) setTimeout(done, o.duration * 1000).unref();
    });
    // Kiosks first (their last punches still reach the hub), then count, then the hub.
    while (stops.length > 1) await stops.pop()!().catch(() => {});
    const stored = (db.prepare('SELECT COUNT(*) FROM punches WHERE device_id IS NOT NULL').pluck().get() as number) ?? 0;
    out(`Selesai / done: ${stored} presensi kiosk tersimpan di hub / kiosk punches stored; ${already} kali "sudah tercatat" (tidak dicatat ulang / not recorded again)`);
  } finally {
    await stopAll();
    cleanup();
  }
}

/** First day of the previous month (the history's start), dd/mm/yyyy. */
function sampleStart(): string {
  const d = new Date(Date.now() + 7 * 3600_000);
  const first = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - 1, 1));
  return `01/${String(first.getUTCMonth() + 1).padStart(2, '0')}/${first.getUTCFullYear()}`;
}
