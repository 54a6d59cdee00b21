import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { KIOSK_API } from '../../protocol/index.js';
import { startHub, type RunningHub } from '../../hub/server.js';
import { tmpDir } from './helpers.js';

/** The hub serves every path the kiosk calls: both read them from protocol/kiosk-api.ts (KIOSK_API). */
describe('the kiosk↔hub contract: routes', () => {
  let hub: RunningHub;
  let dir: string;
  beforeAll(async () => {
    dir = tmpDir('kiosk-contract');
    hub = await startHub({ dataDir: dir, httpPort: 0, mqttPort: 0, httpHost: '127.0.0.1', env: {}, defaultMetrics: false, log: pino({ level: 'silent' }) });
  });
  afterAll(async () => {
    await hub?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('every KIOSK_API path is a route of the running hub (with its default modules)', () => {
    const served = new Set(hub.app.routes.filter((r) => r.method !== 'ALL').map((r) => r.path));
    expect(Object.values(KIOSK_API).filter((p) => !served.has(p))).toEqual([]);
  });
});
