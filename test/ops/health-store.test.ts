import { describe, expect, it } from 'vitest';
import { openSqlite } from '../../hub/store/sqlite.js';
import { HealthStore } from '../../hub/health/store.js';
import type { Health } from '../../protocol/index.js';

const h = (at: string): Health => ({ at, appVersion: '0.1.0', uptimeS: 1, bootId: 'b', monoMs: 1, backlog: { undelivered: 0, oldestUndeliveredAt: null, lastSeq: 0 } });

describe('health history retention (real SQLite with migrations)', () => {
  it('keeps 60 s detail for a day, one per 15 min before, nothing beyond the limit except the latest', () => {
    const db = openSqlite(':memory:');
    const s = new HealthStore(db);
    const now = Date.parse('2026-11-24T12:00:00Z');
    const put = (dev: string, ms: number) => s.insertHealth(dev, h(new Date(ms).toISOString()), new Date(ms).toISOString(), 0);
    // kiosk A: one message a minute for 3 days; kiosk B: silent for 40 days (only an old message)
    for (let t = now - 3 * 86_400_000; t <= now; t += 60_000) put('a', t);
    put('b', now - 40 * 86_400_000);
    const before = (db.prepare(`SELECT count(*) AS n FROM device_health WHERE device_id = 'a'`).get() as { n: number }).n;
    expect(before).toBe(3 * 1440 + 1);
    s.pruneHistory(new Date(now - 30 * 86_400_000).toISOString(), new Date(now - 86_400_000).toISOString());
    const count = (where: string) => (db.prepare(`SELECT count(*) AS n FROM device_health WHERE ${where}`).get() as { n: number }).n;
    expect(count(`device_id = 'a' AND received_at >= '2026-11-23T12:00:00.000Z'`)).toBe(1441); // last day untouched
    expect(count(`device_id = 'a' AND received_at < '2026-11-23T12:00:00.000Z'`)).toBe(2 * 96); // 15-min slots
    expect(count(`device_id = 'b'`)).toBe(1); // the latest of a device always stays
    expect(s.latest('a')!.receivedAt).toBe(new Date(now).toISOString());
  });
});
