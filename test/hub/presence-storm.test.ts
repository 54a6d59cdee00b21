import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startHub, type RunningHub } from '../../hub/server.js';
import { rootLogger } from '../../lib/logger.js';
import { Topics } from '../../protocol/index.js';
import { enrolTestDevice, seedOrg, tmpDir, waitFor } from './helpers.js';

/**
 * Reconnect storm (issue 16): every kiosk publishes its birth on connect. The hub wrote each one
 * in its own transaction (an fsync, ~7 ms on the 2-core machine) and re-read the whole device list
 * per message for the online gauge; now a burst is one transaction and the gauge is recounted at
 * most once a second.
 */
describe('presence under a reconnect storm', () => {
  let hub: RunningHub | undefined;
  const dir = tmpDir('presence-storm');
  afterEach(async () => {
    await hub?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('200 births arriving together: one status transaction, one device-list read, every kiosk online', async () => {
    hub = await startHub({ dataDir: dir, httpPort: 0, mqttPort: 0, defaultMetrics: false, env: {}, modules: [], log: rootLogger.child({}, { level: 'silent' }) });
    seedOrg(hub.db);
    const ids: string[] = [];
    for (let i = 0; i < 200; i++) ids.push((await enrolTestDevice(hub.store, 'PKM-01-A', `kiosk-${i}`)).id);
    const single = vi.spyOn(hub.store, 'setDeviceStatus');
    const batch = vi.spyOn(hub.store, 'setDeviceStatuses');
    const list = vi.spyOn(hub.store, 'listDevices');
    const topics = new Topics('hadir/v1');
    const aedes = hub.broker!.aedes;
    for (const id of ids) {
      aedes.publish({ cmd: 'publish', topic: topics.status(id), payload: Buffer.from(JSON.stringify({ online: true, at: new Date().toISOString(), appVersion: 't', bootId: 'b' })), qos: 1, retain: true, dup: false }, () => {});
    }
    await waitFor(() => hub!.db.prepare('SELECT COUNT(*) FROM devices WHERE online = 1').pluck().get() === 200, 5000, 'all online');
    expect(single).not.toHaveBeenCalled();
    expect(batch.mock.calls.length).toBeLessThanOrEqual(2);
    await waitFor(async () => (await hub!.metrics.registry.getSingleMetricAsString('hadir_devices_online')).includes(' 200'), 5000, 'gauge 200');
    expect(list.mock.calls.length).toBeLessThanOrEqual(2); // was one per status message: 200
  });
});
