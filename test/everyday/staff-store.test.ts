import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { A, B, NOW, ingestInto, seedStore, tempStore, type AttStore } from '../attendance/db.js';
import { STAFF_SESSION_IDLE_MS } from '../../hub/staff/auth.js';

/**
 * The staff page's repository on the store under test (test/store.ts: SQLite, or PostgreSQL with
 * HADIR_TEST_DB=postgres): activation codes, the person's own password and sessions, their own
 * data, and keberatan. The browser test of the page is test/everyday/pages.test.ts (SQLite).
 */
describe('staff page storage', () => {
  let s: AttStore;
  const now = new Date(NOW);
  beforeEach(async () => {
    s = await tempStore();
    await seedStore(s);
  });
  afterEach(() => s.close());

  it('a code activates once, for its NIP only; then NIP + password; sessions expire when idle and on logout', async () => {
    const p = s.stores.staffPortal;
    await expect(p.issueCodes({ by: 'x', now })).rejects.toThrow(/say whose codes/);
    await expect(p.issueCodes({ nip: '199901012020011999', by: 'x', now })).rejects.toThrow(/no active staff with NIP/);
    const [slip] = await p.issueCodes({ nip: A, by: 'admin.disdik', now });
    expect(slip).toMatchObject({ nip: A, opd: 'DISDIK', code: expect.stringMatching(/^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{2}$/) });
    await expect(p.activate({ nip: A, code: slip!.code, password: 'short', now })).rejects.toMatchObject({ status: 400 });
    await expect(p.activate({ nip: B, code: slip!.code, password: 'rahasia-budi', now })).rejects.toMatchObject({ status: 401 });
    // two phones with one code at once: exactly one is signed in
    const both = await Promise.allSettled([
      p.activate({ nip: A, code: slip!.code.toLowerCase(), password: 'rahasia-budi', now }),
      p.activate({ nip: A, code: slip!.code, password: 'rahasia-budi', now }),
    ]);
    expect(both.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(both.find((r) => r.status === 'rejected')).toMatchObject({ reason: { status: 409 } });
    const token = (both.find((r) => r.status === 'fulfilled') as PromiseFulfilledResult<string>).value;
    expect(await p.staffOfToken(token, now)).toBe(A);
    await expect(p.login({ nip: A, password: 'wrong-password', now })).rejects.toMatchObject({ status: 401 });
    const t2 = await p.login({ nip: ` ${A} `, password: 'rahasia-budi', now });
    expect(await p.staffOfToken(t2, new Date(now.getTime() + STAFF_SESSION_IDLE_MS + 1))).toBeNull(); // idle too long: gone
    expect(await p.staffOfToken(t2, now)).toBeNull();
    await p.logout(token);
    expect(await p.staffOfToken(token, now)).toBeNull();
    expect(await p.staffOfToken('nope', now)).toBeNull();
  });

  it('own profile, punches and keberatan; the OPD queue lists and decides them', async () => {
    const p = s.stores.staffPortal;
    expect(await p.profile(A)).toMatchObject({ nip: A, name: 'Budi Santoso', opd: 'DISDIK', opdName: 'Dinas Pendidikan', unitName: 'Sekretariat Dinas Pendidikan', schedule: 'KANTOR5' });
    const id = await ingestInto(s, A, '2026-10-05T07:41');
    await ingestInto(s, B, '2026-10-05T07:00', { site: 'SDN1' });
    const mine = await p.punches(A, '2026-10-01T00:00:00.000Z', '2026-11-01T00:00:00.000Z');
    expect(mine).toEqual([expect.objectContaining({ id, capturedAt: '2026-10-05T00:41:00.000Z', site: 'DISDIK-KTR', siteName: 'Kantor Dinas Pendidikan', reviewStatus: 'none', hasPhoto: false })]);
    expect(await p.photo(id, A)).toBeNull();
    const k = await p.fileObjection(A, '2026-10-06', 'mesin mati / kiosk was down', NOW);
    expect(await p.myObjections(A)).toEqual([expect.objectContaining({ id: k, date: '2026-10-06', status: 'pending', createdAt: NOW })]);
    expect(await p.listObjections({ opd: 'DINKES' })).toEqual([]);
    expect(await p.listObjections({ status: 'pending', opd: 'DISDIK' })).toEqual([expect.objectContaining({ id: k, nip: A, name: 'Budi Santoso', opd: 'DISDIK' })]);
    expect(await p.objection(k)).toEqual({ status: 'pending', opd: 'DISDIK' });
    await p.decideObjection(k, { status: 'approved', by: 'opd-disdik', at: NOW, note: 'ok' });
    expect(await p.objection(k)).toEqual({ status: 'approved', opd: 'DISDIK' });
    expect(await p.objection(k + 1000)).toBeNull();
  });
});
