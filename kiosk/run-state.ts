import { appendFileSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../lib/write-atomic.js';
import type { KioskApp } from './app.js';
import { APP_VERSION } from '../lib/version.js';
import { iso, systemClock, type Clock } from '../lib/clock.js';

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
  const startedAt = new Date(app.now() - process.uptime() * 1000).toISOString();
  const readyAt = iso(app.now);
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
      at: iso(app.now),
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

/** Every kiosk process start, before the app loads: `<dataDir>/starts.jsonl` ({pid, version, at}). */
export function startsPath(dataDir: string): string {
  return join(dataDir, 'starts.jsonl');
}

/**
 * Records this process's start. A release that crashes while loading never reaches READY; the
 * updater counts its starts here and rolls back after a few instead of waiting out its deadline
 * (every second of a crash loop is a second nobody can punch). Kept under 64 KB.
 */
export function recordStart(dataDir: string, now: Clock = systemClock): void {
  try {
    const version = APP_VERSION;
    const path = startsPath(dataDir);
    let size = 0;
    try {
      size = statSync(path).size;
    } catch {}
    const line = JSON.stringify({ pid: process.pid, version, at: iso(now) }) + '\n';
    if (size > 64 * 1024) writeFileSync(path, line);
    else appendFileSync(path, line);
  } catch {
    // never in the way of punching
  }
}

/** Starts of `version` since `sinceMs` (epoch ms), newest last. */
export function startsSince(dataDir: string, version: string, sinceMs: number): { pid: number; at: string }[] {
  let text = '';
  try {
    text = readFileSync(startsPath(dataDir), 'utf8');
  } catch {
    return [];
  }
  const out: { pid: number; at: string }[] = [];
  for (const l of text.split('\n')) {
    try {
      const r = JSON.parse(l) as { pid: number; version: string; at: string };
      if (r.version === version && Date.parse(r.at) >= sinceMs) out.push({ pid: r.pid, at: r.at });
    } catch {}
  }
  return out;
}
