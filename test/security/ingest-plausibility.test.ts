import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GENESIS_HASH, newId, newIdAt, punchHash, type Punch } from '../../protocol/index.js';
import { implausibleTime } from '../../hub/ingest/plausibility.js';
import { TestKiosk, waitFor } from '../hub/helpers.js';
import { SITI, securityHub, type SecurityHub } from './helpers.js';

/**
 * Finding 5: signed punches dated 2099, 1970 and year 1 from a kiosk claiming a synced clock were
 * stored with no review and created attendance months. And finding 6: the hub never checked
 * prevHash, so a wiped journal or a replaced/forged kiosk was invisible.
 */
describe('security: ingest plausibility and the punch chain', () => {
  let h: SecurityHub;
  let kiosk: TestKiosk;
  beforeAll(async () => {
    h = await securityHub();
    kiosk = await TestKiosk.connect(`mqtt://127.0.0.1:${h.hub.mqttPort}`, h.hub.ctx.topics, h.dinkesKiosk.id, h.dinkesKiosk.password);
  });
  afterAll(async () => {
    await kiosk?.close();
    await h?.close();
  });

  const send = async (...ps: Punch[]) => {
    for (const p of ps) await kiosk.publish(p);
    await waitFor(() => ps.every((p) => kiosk.ackedIds().has(p.id) || kiosk.rejectedIds().has(p.id)), 10_000, 'acks');
  };
  const row = (id: string) => h.hub.db.prepare('SELECT review_status, review_reason, chain_break FROM punches WHERE id = ?').get(id) as { review_status: string; review_reason: string | null; chain_break: number };

  it('replay finding 5: 2099, 1970 and year 1 from a "synced" kiosk are stored for review and create no attendance months', async () => {
    const d = h.dinkesKiosk;
    const at2099 = '2099-03-01T01:00:00.000Z';
    const at1970 = '1970-01-01T00:00:05.000Z';
    const year1 = '0001-01-01T00:00:00.000Z';
    const normal = d.next({ nip: SITI });
    const future = d.next({ nip: SITI, capturedAt: at2099, id: newIdAt(Date.parse(at2099)) });
    const epoch = d.next({ nip: SITI, capturedAt: at1970, id: newIdAt(Date.parse(at1970)) });
    const ancient = d.next({ nip: SITI, capturedAt: year1, id: newId() });
    await send(normal, future, epoch, ancient);
    for (const p of [normal, future, epoch, ancient]) expect(kiosk.ackedIds().has(p.id)).toBe(true); // stored, nothing lost
    expect(row(normal.id)).toMatchObject({ review_status: 'none', review_reason: null });
    expect(row(future.id).review_status).toBe('pending');
    expect(row(future.id).review_reason).toMatch(/after the hub received it/);
    expect(row(epoch.id).review_reason).toMatch(/before the hub received it/);
    expect(row(ancient.id).review_reason).toMatch(/before the hub received it/);
    // listed for review, with the reason
    const pending = await h.call('GET', '/api/v1/punches?device=kiosk-pkm-01&limit=50', h.tokens.bkpsdm);
    expect(pending.json.items.find((p: { id: string }) => p.id === future.id)).toMatchObject({ reviewStatus: 'pending', reviewReason: expect.stringMatching(/after the hub/) });
    // attendance: the normal punch's month is derived, no month of 2099, 1970 or year 1 appears
    await waitFor(() => (h.hub.db.prepare('SELECT count(*) FROM att_dirty').pluck().get() as number) === 0, 20_000, 'derivation');
    const months = h.hub.db.prepare('SELECT DISTINCT month FROM att_months WHERE nip = ?').pluck().all(SITI) as string[];
    expect(months.filter((m) => /^(2099|1970|0001)/.test(m))).toEqual([]);
  });

  it('a capturedAt that does not match the UUIDv7 time of the id is held for review', () => {
    const now = Date.now();
    expect(implausibleTime({ id: newIdAt(now), capturedAt: new Date(now).toISOString() }, now)).toBeNull();
    expect(implausibleTime({ id: newIdAt(now - 3 * 86_400_000), capturedAt: new Date(now).toISOString() }, now)).toMatch(/UUIDv7/);
    expect(implausibleTime({ id: newIdAt(now - 5 * 86_400_000), capturedAt: new Date(now - 5 * 86_400_000).toISOString() }, now)).toBeNull(); // offline for days: fine
  });

  it('replay finding 6: a punch whose prevHash does not follow the stored previous punch (wiped journal) is stored, flagged and shown', async () => {
    const d = h.dinkesKiosk;
    const before = d.next({ nip: SITI });
    await send(before);
    expect(row(before.id).chain_break).toBe(0);
    // the journal was wiped: the kiosk continues after maxSeq but its chain restarts at GENESIS
    d.prevHash = GENESIS_HASH;
    const wiped = d.next({ nip: SITI });
    const after = d.next({ nip: SITI });
    await send(wiped, after);
    expect(kiosk.ackedIds().has(wiped.id)).toBe(true);
    expect(row(wiped.id).chain_break).toBe(1);
    expect(row(after.id).chain_break).toBe(0); // follows the new head
    const devs = await h.call('GET', '/api/v1/devices', h.tokens.tech);
    expect(devs.json.items.find((x: { id: string }) => x.id === 'kiosk-pkm-01').chainBreaks).toBe(1);
    const punches = await h.call('GET', '/api/v1/punches?device=kiosk-pkm-01&limit=100', h.tokens.bkpsdm);
    expect(punches.json.items.filter((p: { chainBreak: boolean }) => p.chainBreak).map((p: { id: string }) => p.id)).toEqual([wiped.id]);
  });

  it('out of order: a later punch stored first is flagged when its real predecessor arrives and does not match', async () => {
    const d = h.dinkesKiosk;
    const a = d.next({ nip: SITI }); // seq n
    const forgedPrev = { ...a, prevHash: 'f'.repeat(64) }; // what a replaced kiosk would have sent as n+1's predecessor
    const b = d.next({ nip: SITI, prevHash: punchHash(forgedPrev) }); // seq n+1 chains to something else
    await send(b); // n+1 first (gap at n)
    expect(row(b.id).chain_break).toBe(0); // predecessor unknown yet
    await send(a);
    expect(row(a.id).chain_break).toBe(0);
    expect(row(b.id).chain_break).toBe(1);
  });
});
