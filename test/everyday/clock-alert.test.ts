import { describe, expect, it } from 'vitest';
import { DEFAULT_RULES, evaluateAlerts, type DeviceHealthView } from '../../hub/health/rules.js';

const now = Date.parse('2026-10-05T03:00:00Z');
const view = (unsyncedMin: number | null): DeviceHealthView => ({
  deviceId: 'k1', online: true, statusAtMs: now - 3600_000, estOffsetMs: 0, recent: [],
  unsyncedSinceMs: unsyncedMin === null ? null : now - unsyncedMin * 60_000,
  latest: {
    receivedAtMs: now - 10_000,
    body: {
      at: new Date(now - 10_000).toISOString(), appVersion: '1', uptimeS: 1, bootId: 'b', monoMs: 1,
      backlog: { undelivered: 0, oldestUndeliveredAt: null, lastSeq: 3 },
      clock: { synced: false, source: 'system' },
      components: { clock: { state: 'degraded', detail: 'neither chrony nor timesyncd answered' } },
    },
  },
});

describe('a degraded (unsynced) kiosk clock raises an alert', () => {
  it('clock_unsynced after 10 minutes by default (was 30: a demo or a morning shift never saw it)', () => {
    expect(evaluateAlerts(DEFAULT_RULES, view(11), now).map((a) => a.kind)).toContain('clock_unsynced');
    expect(evaluateAlerts(DEFAULT_RULES, view(5), now).map((a) => a.kind)).not.toContain('clock_unsynced');
    expect(evaluateAlerts(DEFAULT_RULES, view(null), now).map((a) => a.kind)).not.toContain('clock_unsynced');
  });
});
