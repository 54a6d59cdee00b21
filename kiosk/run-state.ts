import { join } from 'node:path';
import { writeFileAtomic } from '../lib/write-atomic.js';
import type { KioskApp } from './app.js';

/** What the running kiosk tells its updater (a separate process): `<dataDir>/run-state.json`. */
export interface RunState {
  pid: number;
  version: string;
  startedAt: string;
  /** sd_notify READY was sent (the punch path runs). */
  ready: boolean;
  readyAt: string | null;
  mqttConnected: boolean;
  rosterLoaded: boolean;
  at: string;
}

export function runStatePath(dataDir: string): string {
  return join(dataDir, 'run-state.json');
}

/**
 * Keeps run-state.json current from the moment the kiosk is READY: MQTT up/down and roster loads
 * rewrite it (atomically; a few writes a day). Returns a stop function that marks it not ready.
 */
export function publishRunState(app: KioskApp, version: string): () => void {
  const startedAt = new Date(Date.now() - process.uptime() * 1000).toISOString();
  const readyAt = new Date().toISOString();
  let ready = true;
  const write = () => {
    const s: RunState = {
      pid: process.pid,
      version,
      startedAt,
      ready,
      readyAt,
      mqttConnected: app.link.connected,
      rosterLoaded: !!app.roster.current(),
      at: new Date().toISOString(),
    };
    try {
      writeFileAtomic(runStatePath(app.config.dataDir), JSON.stringify(s) + '\n');
    } catch (e) {
      app.log.warn({ err: (e as Error).message }, 'run-state.json not written');
    }
  };
  const on = () => write();
  app.bus.on('mqtt:connected', on);
  app.bus.on('mqtt:disconnected', on);
  app.bus.on('roster:updated', on);
  write();
  return () => {
    app.bus.off('mqtt:connected', on);
    app.bus.off('mqtt:disconnected', on);
    app.bus.off('roster:updated', on);
    ready = false;
    write();
  };
}
