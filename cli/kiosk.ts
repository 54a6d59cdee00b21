import type { Command } from 'commander';
import type { Groups } from './program.js';
import { UserError } from '../lib/errors.js';
import { registerDemoCommand } from './demo.js';

/**
 * Commands of the kiosk area: `hadir kiosk` (run), `hadir kiosk journal`, `hadir kiosk enroll`,
 * `hadir bench journal`, and `hadir demo` (cli/demo.ts).
 */

function configPath(o: { config?: string }): string {
  const p = o.config ?? process.env.HADIR_KIOSK_CONFIG;
  if (!p) throw new UserError('no kiosk config given / konfigurasi kiosk belum ditentukan', 'pass --config /etc/hadir/kiosk.json or set HADIR_KIOSK_CONFIG');
  return p;
}

function positiveNumber(name: string, v: string | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new UserError(`${name} ${JSON.stringify(v)} is not a positive number`, `use e.g. ${name} 10`);
  return n;
}

/** Resolves on SIGINT/SIGTERM (the kiosk's systemd unit stops it with SIGTERM). */
function untilSignal(): Promise<string> {
  return new Promise((resolve) => {
    const on = (sig: string) => () => resolve(sig);
    process.once('SIGINT', on('SIGINT'));
    process.once('SIGTERM', on('SIGTERM'));
  });
}

export function registerKioskCommands(g: Groups): void {
  const kiosk = g.program
    .command('kiosk')
    .description('Jalankan kiosk / run the kiosk (journal, MQTT, roster, screen, features)')
    .option('--config <file>', 'kiosk config (HADIR_KIOSK_CONFIG), e.g. /etc/hadir/kiosk.json')
    .option('--simulate', 'simulated hardware: identifications of roster members come from the simulator')
    .option('--punches <n>', 'with --simulate: drive N identifications, exit once they are journaled and delivered')
    .option('--rate <r>', 'with --simulate: identifications per second (default 1)')
    .option('--no-screen', 'do not serve the local screen page')
    .action(async (o: { config?: string; simulate?: boolean; punches?: string; rate?: string; screen: boolean }) => {
      const { loadKioskConfig } = await import('../kiosk/config.js');
      const config = loadKioskConfig(configPath(o));
      // Before the app is even loaded: the updater counts starts that never reach READY (a crash loop).
      (await import('../kiosk/run-state.js')).recordStart(config.dataDir);
      const { KioskApp } = await import('../kiosk/app.js');
      if ((o.punches || o.rate) && !o.simulate) throw new UserError('--punches and --rate only make sense with --simulate', 'add --simulate');
      const punches = o.punches === undefined ? undefined : Math.floor(positiveNumber('--punches', o.punches, 1));
      const rate = positiveNumber('--rate', o.rate, 1);
      const app = new KioskApp(config, { simulate: !!o.simulate, screen: o.screen });
      let sim: import('../kiosk/sim/source.js').SimulatedSource | null = null;
      if (o.simulate) {
        const { SimulatedSource } = await import('../kiosk/sim/source.js');
        sim = new SimulatedSource({ roster: app.roster, rate, count: punches });
        app.addSource(sim);
      }
      const signal = untilSignal();
      const outcomes = { recorded: 0, already: 0, fault: 0 };
      app.bus.on('feedback', (ev) => {
        if (ev.kind === 'recorded') outcomes.recorded++;
        else if (ev.kind === 'already') outcomes.already++;
        else if (ev.kind === 'fault') outcomes.fault++;
      });
      // systemd (Type=notify, WatchdogSec): READY once the punch path runs; pings withheld while
      // the journal cannot be written, so systemd restarts a kiosk that can no longer record.
      // Loaded (with its native socket module) BEFORE the app starts: READY then goes out in the
      // same turn as start() returns. Imported after it, READY waited behind the backlog the MQTT
      // link began flushing at once — on the arm64 VM under load, past TimeoutStartSec, so systemd
      // killed a kiosk that was recording punches, again and again.
      const sd = await import('../kiosk/systemd-notify.js');
      sd.prepareNotify();
      await app.start();
      await sd.notifyReady();
      const stopWatchdog = sd.startWatchdog(() => app.healthy());
      // For the updater (its own unit): READY, MQTT, roster, as this version.
      const { publishRunState } = await import('../kiosk/run-state.js');
      const { APP_VERSION } = await import('../kiosk/app.js');
      const stopRunState = publishRunState(app, APP_VERSION);
      const stopApp = async () => {
        stopRunState();
        stopWatchdog();
        await sd.notifyStopping();
        await app.stop();
      };
      if (sim && !app.roster.current()?.people.length) {
        const msg = `the roster for site ${config.siteCode} is empty or could not be fetched from ${config.hubUrl} / daftar pegawai kosong`;
        if (punches !== undefined) {
          await stopApp();
          throw new UserError(msg, 'import staff for that site at the hub (`hadir import staff`) and check that the hub is reachable');
        }
        app.log.warn(msg + ' — the simulator waits for a roster');
      }
      if (app.screen) process.stderr.write(`hadir kiosk ${config.deviceId}: layar / screen ${app.screen.url}\n`);
      if (sim && punches !== undefined) {
        const finished = await Promise.race([sim.done.then(() => app.drained()).then(() => 'done'), signal]);
        const s = app.journal.stats();
        await stopApp();
        process.stdout.write(
          JSON.stringify({ deviceId: config.deviceId, identifications: sim.count, ...outcomes, lastSeq: s.lastSeq, undelivered: s.undelivered, rejected: s.rejected, finished }) + '\n',
        );
        return;
      }
      await signal;
      await stopApp();
    });

  kiosk
    .command('journal')
    .description('Isi jurnal presensi kiosk / every journaled punch with its delivered flag (works while the kiosk runs)')
    .option('--format <f>', 'json|csv', 'json')
    .option('--check', 'also run PRAGMA integrity_check (printed on stderr; non-zero exit when not ok)')
    .option('--migrate', 'apply pending forward schema migrations and print the version (the updater runs this once a release is confirmed healthy)')
    .action(async (o: { format: string; check?: boolean; migrate?: boolean }, cmd: Command) => {
      if (!['json', 'csv'].includes(o.format)) throw new UserError(`--format ${o.format} is not supported`, 'use --format json or csv');
      const { config } = cmd.optsWithGlobals<{ config?: string }>();
      const { loadKioskConfig } = await import('../kiosk/config.js');
      const { Journal } = await import('../kiosk/journal.js');
      const { existsSync } = await import('node:fs');
      const { join } = await import('node:path');
      const cfg = loadKioskConfig(configPath({ config }));
      if (!existsSync(join(cfg.dataDir, 'journal.db'))) throw new UserError(`no journal in ${cfg.dataDir} yet`, 'start the kiosk once (`hadir kiosk --config …`) or check dataDir in the config');
      if (o.migrate) {
        // Writable, next to a running kiosk: each migration is one IMMEDIATE transaction (WAL).
        const jw = Journal.open(cfg.dataDir);
        try {
          const applied = jw.migrateForward();
          process.stdout.write(JSON.stringify({ schemaVersion: jw.schemaVersion(), applied }) + '\n');
        } finally {
          jw.close();
        }
        return;
      }
      const j = Journal.openReadonly(cfg.dataDir);
      try {
        // Streamed row by row: a kiosk keeps 90 days of punches (with photos) and has little RAM.
        const write = (chunk: string) => process.stdout.write(chunk);
        if (o.format === 'json') {
          let first = true;
          write('[');
          for (const r of j.listing()) {
            write((first ? '\n' : ',\n') + JSON.stringify(r));
            first = false;
          }
          write(first ? ']\n' : '\n]\n');
        } else {
          const cols = ['seq', 'id', 'nip', 'method', 'capturedAt', 'clockSynced', 'clockSource', 'score', 'journaledAt', 'delivered', 'deliveredAt', 'rejectedReason'] as const;
          const esc = (v: unknown) => {
            const s = v === null || v === undefined ? '' : String(v);
            return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
          };
          write(cols.join(',') + '\n');
          for (const r of j.listing()) write(cols.map((c) => esc(r[c])).join(',') + '\n');
        }
        if (o.check) {
          const res = j.integrityCheck();
          process.stderr.write(`integrity_check: ${res}\n`);
          if (res !== 'ok') process.exitCode = 3;
        }
      } finally {
        j.close();
      }
    });

  kiosk
    .command('enroll')
    .description('Daftarkan kiosk ini ke hub / enrol this kiosk: key pair made here, one-time token, writes the config (0600)')
    .requiredOption('--hub <url>', 'hub URL, e.g. http://10.0.0.5:8080')
    .requiredOption('--token <token>', 'one-time enrolment token from `hadir device add`')
    .requiredOption('--out <file>', 'where to write the kiosk config, e.g. /etc/hadir/kiosk.json')
    .option('--data <dir>', 'kiosk data directory written into the config (default /var/lib/hadir)')
    .action(async (o: { hub: string; token: string; out: string; data?: string }) => {
      const { enrolKiosk } = await import('../kiosk/enrol.js');
      const cfg = await enrolKiosk({ hubUrl: o.hub, token: o.token, out: o.out, dataDir: o.data });
      process.stdout.write(
        `Kiosk terdaftar / enrolled: ${cfg.deviceId} (lokasi / site ${cfg.siteCode}); konfigurasi / config: ${o.out} (0600)\n`,
      );
    });

  g.bench
    .command('journal')
    .description('Latensi tulis jurnal / journal append latency (signing + SQLite commit with fsync) on a real file')
    .option('--count <n>', 'appends to time', '2000')
    .option('--dir <dir>', 'directory for the journal file (default: a temp dir; use the SD card path on a kiosk)')
    .action(async (o: { count: string; dir?: string }) => {
      const { benchJournal } = await import('../kiosk/bench.js');
      const n = Math.floor(positiveNumber('--count', o.count, 2000));
      const r = await benchJournal({ count: n, dir: o.dir });
      process.stdout.write(
        `journal append (sign + commit, WAL, synchronous=FULL) on ${r.path}: n=${n}, p50 ${r.append_p50_ms} ms, p99 ${r.append_p99_ms} ms, max ${r.append_max_ms} ms, ${r.appends_per_s}/s (target p99 <= 10 ms)\n`,
      );
      process.stdout.write(JSON.stringify(r) + '\n');
    });

  registerDemoCommand(g);
}
