import type { Command } from 'commander';
import type { Groups } from './program.js';
import { UserError } from '../lib/errors.js';
import { localStamp } from '../lib/local-time.js';
import { formatOption, officeOffset, table } from './format.js';
import { hubDataOptions, withHub, type HubFlags } from './open-hub.js';
import { iso, type Clock } from '../lib/clock.js';

/** The hub's health store and the regency's UTC offset; works while the hub runs (WAL). */
async function withHealthStore<T>(f: HubFlags, fn: (s: import('../hub/health/store.js').HealthStore, tzOffsetMin: number, clock: Clock) => T): Promise<T> {
  const { HealthStore } = await import('../hub/health/store.js');
  return withHub(f, async ({ db, stores, clock }) => fn(new HealthStore(db), await officeOffset(stores), clock));
}

/**
 * Commands of the ops area: `hadir kiosk selftest` (the technician's checklist, also the last step
 * of provisioning), `hadir time status` (what chrony / timesyncd say, and the reconstructions),
 * `hadir device health|alerts|ack` (terminal health on the hub's data, hub running or not).
 * Heavy modules are imported inside the actions.
 */
export function registerOpsCommands(g: Groups): void {
  const store = hubDataOptions;
  store(
    g.device
      .command('health')
      .description('Kesehatan kiosk terakhir / latest kiosk health, clock offset and open alerts')
      .addOption(formatOption(['table', 'json'])),
  ).action(async (o: HubFlags & { format: string }) => {
    await withHealthStore(o, (s, tz) => {
      const open = s.openAlerts();
      const items = s.devices().map((d) => {
        const l = s.latest(d.id);
        return { deviceId: d.id, siteCode: d.siteCode, online: d.online, lastHealthAt: l?.receivedAt ?? null, estClockOffsetMs: l?.estOffsetMs ?? null, health: l?.body ?? null, alerts: open.filter((a) => a.deviceId === d.id).map((a) => a.kind) };
      });
      if (o.format === 'json') return void process.stdout.write(JSON.stringify(items, null, 2) + '\n');
      const rows = [['ID', 'LOKASI/SITE', 'STATUS', 'KABAR/LAST HEALTH', 'JAM/CLOCK', 'SUHU/TEMP', 'DISK', 'ANTRIAN/BACKLOG', 'ALERT']];
      for (const i of items) {
        const h = i.health;
        rows.push([
          i.deviceId, i.siteCode, i.online ? 'online' : 'offline', localStamp(i.lastHealthAt, tz),
          h?.clock ? `${h.clock.synced ? 'sync' : 'UNSYNC'} ${i.estClockOffsetMs === null ? '' : `${(i.estClockOffsetMs / 1000).toFixed(1)}s`}`.trim() : '-',
          h?.system?.cpuTempC !== undefined ? `${h.system.cpuTempC}°C` : '-',
          h?.system?.diskFreePct !== undefined ? `${h.system.diskFreePct}%` : '-',
          h ? String(h.backlog.undelivered) : '-',
          i.alerts.join(',') || '-',
        ]);
      }
      process.stdout.write(table(rows));
    });
  });
  store(
    g.device
      .command('alerts')
      .description('Peringatan terminal / terminal alerts (open by default)')
      .option('--all', 'also cleared alerts')
      .option('--device <id>', 'one kiosk only')
      .addOption(formatOption(['table', 'json'])),
  ).action(async (o: HubFlags & { all?: boolean; device?: string; format: string }) => {
    await withHealthStore(o, (s, tz) => {
      const items = s.listAlerts({ open: !o.all, ...(o.device ? { deviceId: o.device } : {}), limit: 1000 });
      if (o.format === 'json') return void process.stdout.write(JSON.stringify(items, null, 2) + '\n');
      const rows = [['ID', 'KIOSK', 'JENIS/KIND', 'TINGKAT/SEVERITY', 'SEJAK/RAISED', 'SELESAI/CLEARED', 'DIKONFIRMASI/ACK', 'DETAIL']];
      for (const a of items) rows.push([String(a.id), a.deviceId, a.kind, a.severity, localStamp(a.raisedAt, tz), localStamp(a.clearedAt, tz), a.ackedBy ?? '-', a.detail]);
      process.stdout.write(table(rows));
    });
  });
  store(
    g.device
      .command('ack')
      .description('Konfirmasi peringatan / acknowledge an alert')
      .argument('<alertId>', 'alert id (hadir device alerts)')
      .requiredOption('--by <name>', 'who acknowledges (recorded)'),
  ).action(async (alertId: string, o: HubFlags & { by: string }) => {
    await withHealthStore(o, (s, _tz, clock) => {
      const id = Number(alertId);
      const a = Number.isInteger(id) ? s.alert(id) : null;
      if (!a) throw new UserError(`alert ${alertId} does not exist`, 'list them with `hadir device alerts --all`');
      if (a.ackedAt) throw new UserError(`alert ${id} was already acknowledged by ${a.ackedBy} at ${a.ackedAt}`);
      s.ackAlert(id, o.by, iso(clock));
      process.stdout.write(`Dikonfirmasi / acknowledged: alert ${id} (${a.kind}, ${a.deviceId}) by ${o.by}\n`);
    });
  });

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
    .addOption(formatOption(['text', 'json']))
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
