import { existsSync } from 'node:fs';
import { UserError } from '../../lib/errors.js';
import { childLogger } from '../../lib/logger.js';
import { loadKioskConfig } from '../config.js';
import { SignalSupervisor, SystemdSupervisor } from './supervisor.js';
import { Updater } from './updater.js';

/**
 * `hadir updater`: recover an interrupted update, then poll the hub every update.pollS (± 20 %
 * jitter, so 500 kiosks do not ask at the same second). Errors are logged, never fatal: the next
 * poll tries again. SIGTERM stops it between steps.
 */
export async function runUpdater(configPath: string, o: { once?: boolean } = {}): Promise<void> {
  const config = loadKioskConfig(configPath);
  const log = childLogger('updater');
  if (!config.update.enabled) {
    log.info('update.enabled is false: nothing to do');
    return;
  }
  if (!existsSync(config.update.publicKeyFile)) {
    throw new UserError(`release public key ${config.update.publicKeyFile} does not exist`, 'install release-key.pub there (provision.sh --release-key FILE) or set update.publicKeyFile');
  }
  const supervisor = config.update.restart === 'systemd' ? new SystemdSupervisor(config.update.unit) : new SignalSupervisor(config.dataDir);
  // Fault injection for the power-cut test: hold at a step (writing <stateDir>/held-at) until killed.
  const holdAt = process.env.HADIR_UPDATER_HOLD_AT;
  const checkpoint = holdAt
    ? async (step: string) => {
        if (step !== holdAt) return;
        const { writeFileSync } = await import('node:fs');
        writeFileSync(`${config.update.stateDir}/held-at`, step);
        await new Promise(() => {});
      }
    : undefined;
  const u = new Updater({ config, configPath, supervisor, log, checkpoint });
  let stopping = false;
  let wake: (() => void) | null = null;
  const stop = () => {
    stopping = true;
    wake?.();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  const recovered = await u.recover().catch((e: Error) => (log.error({ err: e.message }, 'recovery failed'), null));
  if (recovered) log.info({ result: recovered }, 'interrupted update finished');
  while (!stopping) {
    let result;
    try {
      result = await u.tick();
      if (result.kind !== 'none') log.info({ result }, 'update poll');
    } catch (e) {
      result = { kind: 'error', error: (e as Error).message };
      log.warn({ err: (e as Error).message }, 'update poll failed; trying again next time');
    }
    if (o.once) {
      process.stdout.write(JSON.stringify(result) + '\n');
      break;
    }
    const waitMs = config.update.pollS * 1000 * (0.8 + Math.random() * 0.4);
    await new Promise<void>((r) => {
      wake = r;
      setTimeout(r, waitMs); // keeps the process alive between polls
    });
  }
  process.off('SIGTERM', stop);
  process.off('SIGINT', stop);
}
