import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ANI, BUDI, SITI, securityHub, type SecurityHub } from './helpers.js';

/**
 * Finding 1 (high): any kiosk could replace any employee's biometrics regency-wide, and an OPD
 * admin could start enrol_mode for another OPD's NIP. A template upload is accepted only for an
 * open enrolment session an authorised user started for that NIP on that kiosk — once, before it
 * expires — and recorded in the audit log.
 */
const template = (b: number) => Buffer.alloc(512, b).toString('base64');

describe('security: biometric enrolment', () => {
  let h: SecurityHub;
  beforeAll(async () => {
    h = await securityHub();
  });
  afterAll(async () => h?.close());

  const upload = (kiosk: SecurityHub['dinkesKiosk'], nip: string, finger: number, b: number) => h.call('POST', '/api/v1/kiosk/finger/templates', kiosk, { nip, finger, template: template(b) });
  const stored = (nip: string) => h.hub.db.prepare('SELECT finger, sha256, enrolled_device_id AS dev FROM finger_templates WHERE nip = ?').all(nip) as { finger: number; sha256: string; dev: string }[];
  const startEnrol = (token: string, device: string, args: Record<string, unknown>) =>
    h.call('POST', `/api/v1/devices/${device}/commands`, token, { cmd: 'enrol_mode', args, waitS: 0 });

  it('replay: a kiosk of another OPD uploads a fingerprint with no enrolment pending → 403, nothing stored', async () => {
    const r = await upload(h.disdikKiosk, SITI, 3, 1);
    expect(r.status).toBe(403);
    expect(r.json.error).toMatch(/no open enrolment session/);
    expect(stored(SITI)).toEqual([]);
    // even its own OPD's kiosk cannot without a session
    expect((await upload(h.dinkesKiosk, SITI, 3, 1)).status).toBe(403);
    expect(stored(SITI)).toEqual([]);
  });

  it('replay: a face upload with no enrolment pending → 403 before any image is looked at', async () => {
    const r = await h.call('POST', '/api/v1/kiosk/face/enrol', h.disdikKiosk, { nip: SITI, crops: ['AAAA', 'AAAA', 'AAAA'] });
    expect(r.status).toBe(403);
    expect(r.json.error).toMatch(/no open enrolment session/);
  });

  it("replay: an OPD admin starting enrol_mode for another OPD's NIP on their own kiosk → 403, no session", async () => {
    const r = await startEnrol(h.tokens.dinkes, 'kiosk-pkm-01', { nip: ANI, method: 'finger' });
    expect(r.status).toBe(403);
    expect(r.json.error).toMatch(/another OPD/);
    expect(h.hub.db.prepare('SELECT count(*) FROM enrol_sessions').pluck().get()).toBe(0);
    // an unknown NIP and bad args are refused at the hub, not sent
    expect((await startEnrol(h.tokens.bkpsdm, 'kiosk-pkm-01', { nip: '999', method: 'finger' })).status).toBe(404);
    expect((await startEnrol(h.tokens.bkpsdm, 'kiosk-pkm-01', { nip: SITI })).status).toBe(400);
  });

  it('an authorised session admits one upload, from that kiosk, for that NIP and finger, and it is audited', async () => {
    const s = await startEnrol(h.tokens.dinkes, 'kiosk-pkm-01', { nip: SITI, method: 'finger', finger: 3 });
    expect(s.status).toBe(202); // sent; the kiosk is not connected in this test
    expect((await upload(h.disdikKiosk, SITI, 3, 2)).status).toBe(403); // another kiosk
    expect((await upload(h.dinkesKiosk, BUDI, 3, 2)).status).toBe(403); // another NIP
    expect((await upload(h.dinkesKiosk, SITI, 4, 2)).status).toBe(403); // another finger
    const ok = await upload(h.dinkesKiosk, SITI, 3, 2);
    expect(ok.status).toBe(201);
    expect(stored(SITI)).toMatchObject([{ finger: 3, dev: 'kiosk-pkm-01' }]);
    const first = stored(SITI)[0]!.sha256;
    // once: a second upload on the same session is refused and does not overwrite
    expect((await upload(h.dinkesKiosk, SITI, 3, 9)).status).toBe(403);
    expect(stored(SITI)[0]!.sha256).toBe(first);

    const sessions = await h.call('GET', '/api/v1/enrol-sessions', h.tokens.tech);
    expect(sessions.status).toBe(200);
    expect(sessions.json.items[0]).toMatchObject({ deviceId: 'kiosk-pkm-01', nip: SITI, method: 'finger', finger: 3, startedBy: 'dinkes1', state: 'used' });

    const audit = await h.call('GET', '/api/v1/audit?limit=20', h.tokens.bkpsdm);
    const actions = (audit.json.items as { action: string; actor: string; target: string; after: Record<string, unknown> }[]);
    expect(actions.find((e) => e.action === 'enrol.session.start')).toMatchObject({ actor: 'dinkes1', target: `nip:${SITI}` });
    const up = actions.find((e) => e.action === 'finger.template.upload')!;
    expect(up).toMatchObject({ actor: 'kiosk-pkm-01', target: `nip:${SITI}`, after: { finger: 3, sha256: first, startedBy: 'dinkes1' } });
    expect(JSON.stringify(up)).not.toContain(template(2)); // template bytes never in the log
  });

  it('an expired session admits nothing', async () => {
    expect((await startEnrol(h.tokens.bkpsdm, 'kiosk-pkm-01', { nip: BUDI, method: 'finger', timeoutS: 5 })).status).toBe(202);
    // time passes beyond the capture timeout and the upload grace
    h.hub.db.prepare("UPDATE enrol_sessions SET expires_at = '2000-01-01T00:00:00.000Z' WHERE nip = ?").run(BUDI);
    expect((await upload(h.dinkesKiosk, BUDI, 1, 3)).status).toBe(403);
    expect(stored(BUDI)).toEqual([]);
  });

  it('a technician runs enrolment sessions but cannot delete templates', async () => {
    expect((await startEnrol(h.tokens.tech, 'kiosk-sdn-01', { nip: ANI, method: 'finger', finger: 1 })).status).toBe(202);
    expect((await upload(h.disdikKiosk, ANI, 1, 4)).status).toBe(201);
    const del = await h.call('DELETE', `/api/v1/finger/templates/${ANI}/1`, h.tokens.tech);
    expect(del.status).toBe(403);
    expect((await h.call('DELETE', `/api/v1/finger/templates/${ANI}/1`, h.tokens.dinkes)).status).toBe(403); // another OPD
    expect((await h.call('DELETE', `/api/v1/finger/templates/${ANI}/1`, h.tokens.disdik)).status).toBe(200);
  });
});
