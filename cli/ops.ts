import type { Command } from 'commander';
import type { Groups } from './program.js';

/**
 * Commands of the ops area: `hadir kiosk selftest` (the technician's checklist, also the last step
 * of provisioning) and `hadir time status` (what chrony / timesyncd say, and the reconstructions).
 * Heavy modules are imported inside the actions.
 */
export function registerOpsCommands(g: Groups): void {
  const kiosk: Command = g.program.commands.find((c) => c.name() === 'kiosk') ?? g.program.command('kiosk');
  kiosk
    .command('selftest')
    .description('Uji mandiri kiosk (config, penyimpanan, jam, hub, MQTT, kamera, sensor) / kiosk self-test checklist')
    .option('--config <file>', 'kiosk config (HADIR_KIOSK_CONFIG, default /etc/hadir/kiosk.json)')
    .option('--skip-hardware', 'skip camera, fingerprint sensor and GPIO (image building, no hardware attached)')
    .option('--root <dir>', 'resolve device and data paths inside a mounted image root')
    .option('--json', 'print the result as one JSON object on the last line')
    .action(async (o: { config?: string; skipHardware?: boolean; root?: string; json?: boolean }, cmd: Command) => {
      // `hadir kiosk` itself has --config: commander gives it to the parent, so read both.
      const configPath = o.config ?? (cmd.optsWithGlobals() as { config?: string }).config ?? process.env.HADIR_KIOSK_CONFIG ?? '/etc/hadir/kiosk.json';
      const { runSelftest, formatChecklist } = await import('../kiosk/health/selftest.js');
      const { config, rows } = await runSelftest({ configPath, ...(o.skipHardware ? { skipHardware: true } : {}), ...(o.root ? { root: o.root } : {}) });
      process.stdout.write(formatChecklist(config?.deviceId ?? null, rows) + '\n');
      if (o.json) process.stdout.write(JSON.stringify({ deviceId: config?.deviceId ?? null, checks: rows }) + '\n');
      if (rows.some((r) => r.state === 'fail')) process.exitCode = 1;
    });

  const time = g.program.command('time').description('Jam tepercaya / trusted clock');
  time
    .command('status')
    .description('Status sinkronisasi jam (chrony / timesyncd) / clock synchronisation state')
    .option('--config <file>', 'kiosk config, for its clock settings and data dir (optional)')
    .option('--format <f>', 'text|json', 'text')
    .action(async (o: { config?: string; format: string }) => {
      const { probeClock } = await import('../kiosk/clock/probe.js');
      const { clockConfigSchema } = await import('../kiosk/clock/config.js');
      const { readBootId, monotonicMs } = await import('../kiosk/clock/service.js');
      let clockCfg = clockConfigSchema.parse({});
      let dataDir: string | null = null;
      if (o.config) {
        const { loadKioskConfig } = await import('../kiosk/config.js');
        const cfg = loadKioskConfig(o.config);
        clockCfg = cfg.clock;
        dataDir = cfg.dataDir;
      }
      const s = await probeClock(clockCfg);
      let reconstructed = 0;
      if (dataDir) {
        const { readFileSync } = await import('node:fs');
        const { RECONSTRUCTIONS_FILE } = await import('../kiosk/clock/extension.js');
        try {
          reconstructed = readFileSync(`${dataDir}/${RECONSTRUCTIONS_FILE}`, 'utf8').split('\n').filter(Boolean).length;
        } catch {}
      }
      const out = { ...s, bootId: readBootId(), monoMs: Math.round(monotonicMs()), now: new Date().toISOString(), reconstructed };
      if (o.format === 'json') return void process.stdout.write(JSON.stringify(out) + '\n');
      process.stdout.write(
        [
          `Jam / clock: ${s.synced ? 'TERSINKRON / synced' : 'BELUM SINKRON / NOT synced'} (${s.source})`,
          `  ${s.detail}`,
          ...(s.offsetMs !== undefined ? [`  offset: ${s.offsetMs} ms (positif = jam kiosk lebih cepat / positive = kiosk clock ahead)`] : []),
          ...(s.maxErrorMs !== undefined ? [`  batas galat / error bound: ${s.maxErrorMs} ms`] : []),
          `  sekarang / now: ${out.now}   boot: ${out.bootId}   monotonic: ${out.monoMs} ms`,
          ...(dataDir ? [`  presensi direkonstruksi / reconstructed punches: ${reconstructed}`] : []),
        ].join('\n') + '\n',
      );
    });
}
