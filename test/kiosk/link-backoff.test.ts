import { createServer, type Server, type Socket } from 'node:net';
import { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { rootLogger } from '../../lib/logger.js';
import { MAX_RECONNECT_MS, MqttLink, reconnectDelay } from '../../kiosk/link.js';
import type { KioskBus } from '../../kiosk/extension-api.js';

/**
 * Reconnect storm (issue 16): a kiosk that cannot reach the broker retries with growing, jittered
 * delays, so a restarted hub is not hit by every kiosk every 2 s in lock-step.
 */
describe('kiosk MQTT link reconnect backoff', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('reconnectDelay grows, is capped and spreads ±50 %', () => {
    expect(reconnectDelay(0, 2000, 30_000, () => 0)).toBe(1000);
    expect(reconnectDelay(0, 2000, 30_000, () => 0.999)).toBe(2998);
    expect(reconnectDelay(3, 2000, 30_000, () => 0.5)).toBe(16_000);
    expect(reconnectDelay(10, 2000, 30_000, () => 0.5)).toBe(30_000);
    expect(reconnectDelay(10, 2000, MAX_RECONNECT_MS, () => 0.999)).toBeLessThan(23_000); // back within ~22 s of the hub
  });

  it('a real link: attempts against a broker that drops every connection come ever later, differently per kiosk', async () => {
    // A "broker" that accepts TCP and closes it at once (a hub restarting behind its listener).
    const attempts = new Map<string, number[]>();
    const sockets = new Set<Socket>();
    const server: Server = createServer((s) => {
      sockets.add(s);
      s.once('data', (b) => {
        // CONNECT payload carries the client id right after the variable header (MQTT 3.1.1: 10 bytes).
        const idLen = b.readUInt16BE(12);
        const id = b.subarray(14, 14 + idLen).toString();
        attempts.set(id, [...(attempts.get(id) ?? []), performance.now()]);
        s.destroy();
      });
      s.on('close', () => sockets.delete(s));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    cleanups.push(() => new Promise<void>((r) => (sockets.forEach((s) => s.destroy()), server.close(() => r()))));
    const url = `mqtt://127.0.0.1:${(server.address() as { port: number }).port}`;
    const log = rootLogger.child({}, { level: 'silent' });
    const make = (id: string, r: number) => {
      const link = new MqttLink({ deviceId: id, url, username: id, password: 'p', prefix: 'hadir/v1', appVersion: 't', bootId: 'b', log, bus: new EventEmitter() as KioskBus, reconnectPeriodMs: 100, maxReconnectMs: 800, random: () => r });
      link.start();
      cleanups.push(() => link.stop());
    };
    make('kiosk-a', 0); // always the shortest delay: 50, 100, 200, 400 ms …
    make('kiosk-b', 0.99); // always the longest: 149, 298, 596 ms …
    await new Promise((r) => setTimeout(r, 1600));
    // Delays only ever grow under load (timers fire late), so lower bounds on when each attempt
    // came and upper bounds on how many came are what a busy machine cannot break.
    const since = (id: string) => {
      const t = attempts.get(id) ?? [];
      return t.map((x) => x - t[0]!);
    };
    const a = since('kiosk-a'); // delays 50, 100, 200, 400, 400 …
    const b = since('kiosk-b'); // delays 149, 297, 594, 1188 …
    const floor = (delays: number[]) => delays.map((_, i) => delays.slice(0, i + 1).reduce((x, y) => x + y, 0));
    expect(a.length).toBeGreaterThanOrEqual(3);
    // a fixed 100 ms period (mqtt.js' own behaviour, before) gives ~15 attempts in 1.6 s
    expect(a.length).toBeLessThanOrEqual(7);
    expect(b.length).toBeLessThanOrEqual(4);
    floor([50, 100, 200, 400, 400, 400]).forEach((min, i) => a[i + 1] !== undefined && expect(a[i + 1]!).toBeGreaterThan(min - 15));
    floor([149, 297, 594, 1188]).forEach((min, i) => b[i + 1] !== undefined && expect(b[i + 1]!).toBeGreaterThan(min - 15));
  });
});
