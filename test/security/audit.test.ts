import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { runHadir } from '../hub/helpers.js';
import { verifyChain } from '../../hub/audit/index.js';
import { SITI, dbPath, securityHub, type SecurityHub } from './helpers.js';

/**
 * The audit log: changes by admins, technicians, kiosks and the CLI are recorded with who, when,
 * from where, what and before/after; BKPSDM sees everything, an OPD admin their OPD's entries;
 * the chain names an entry edited or deleted directly in the database (sqlite3).
 */
const sql = (db: string, q: string) => execFileSync('sqlite3', [db, q], { encoding: 'utf8' });

describe('security: audit log', () => {
  let h: SecurityHub;
  beforeAll(async () => {
    h = await securityHub();
  });
  afterAll(async () => h?.close());

  it('records API changes with who, from where, what and before/after; OPD admins see their OPD only', async () => {
    const t = h.tokens;
    expect((await h.call('POST', '/api/v1/devices/kiosk-sdn-01/disable', t.tech, { reason: 'layar rusak' })).status).toBe(200);
    expect((await h.call('POST', '/api/v1/devices/kiosk-sdn-01/enable', t.bkpsdm)).status).toBe(200);
    const leave = await h.call('POST', '/api/v1/exceptions', t.dinkes, { nip: SITI, type: 'cuti_tahunan', from: '2026-11-02', to: '2026-11-03' });
    expect(leave.status).toBe(201);
    expect((await h.call('POST', `/api/v1/exceptions/${leave.json.id}/approve`, t.bkpsdm)).status).toBe(200);
    const rules = (await h.call('GET', '/api/v1/health/rules', t.bkpsdm)).json;
    expect((await h.call('PUT', '/api/v1/health/rules', t.bkpsdm, rules)).status).toBe(200);
    // a refused change leaves no entry
    expect((await h.call('POST', '/api/v1/devices/kiosk-pkm-01/disable', t.dinkes, { reason: 'x' })).status).toBe(403);

    const all = (await h.call('GET', '/api/v1/audit?limit=100', t.bkpsdm)).json.items as Record<string, any>[];
    const disable = all.find((e) => e.action === 'device.disable')!;
    expect(disable).toMatchObject({ actor: 'tek1', actorKind: 'user', role: 'technician', target: 'device:kiosk-sdn-01', opdCode: 'DISDIK', before: { disabledAt: null }, after: { disabledReason: 'layar rusak', disabledBy: 'tek1' }, status: 200 });
    expect(disable.source).toMatch(/127\.0\.0\.1/);
    expect(all.find((e) => e.action === 'device.enable')).toMatchObject({ actor: 'bkpsdm1', before: { disabledBy: 'tek1' }, after: { disabledAt: null } });
    expect(all.find((e) => e.action === 'leave.request')).toMatchObject({ actor: 'dinkes1', opdCode: 'DINKES', target: `nip:${SITI}`, after: { nip: SITI, type: 'cuti_tahunan', status: 'pending' } });
    expect(all.find((e) => e.action === 'leave.approve')).toMatchObject({ actor: 'bkpsdm1', opdCode: 'DINKES', before: { status: 'pending' }, after: { status: 'approved', decided_by: 'bkpsdm1' } });
    expect(all.find((e) => e.action === 'health.rules.set')).toMatchObject({ actor: 'bkpsdm1', before: rules, after: rules });
    expect(all.filter((e) => e.actor === 'dinkes1' && String(e.action).includes('disable'))).toEqual([]);

    const dinkes = (await h.call('GET', '/api/v1/audit?limit=100', t.dinkes)).json.items as { opdCode: string }[];
    expect(dinkes.length).toBeGreaterThan(0);
    expect(new Set(dinkes.map((e) => e.opdCode))).toEqual(new Set(['DINKES']));
    expect((await h.call('GET', '/api/v1/audit?opd=DISDIK', t.dinkes)).status).toBe(403);
    expect((await h.call('GET', '/api/v1/audit/verify', t.dinkes)).status).toBe(403);
    expect((await h.call('GET', '/api/v1/audit', t.tech)).status).toBe(403);

    const verify = (await h.call('GET', '/api/v1/audit/verify', t.bkpsdm)).json;
    expect(verify).toMatchObject({ ok: true, problems: [] });
    const exp = await fetch(`${h.base}/api/v1/audit/export?format=jsonl`, { headers: { authorization: `Bearer ${t.bkpsdm}` } });
    const lines = (await exp.text()).trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.length).toBe(verify.entries);
    // the export verifies on its own (anyone holding it can check it later)
    expect(verifyChain(lines, lines.at(-1).id)).toMatchObject({ ok: true, head: verify.head });
    const csv = await fetch(`${h.base}/api/v1/audit/export?format=csv`, { headers: { authorization: `Bearer ${t.bkpsdm}` } });
    expect((await csv.text()).split('\n')[0]).toBe('id,at,actor,actorKind,role,source,action,target,opdCode,before,after,status,prevHash,hash');
  });

  it('records CLI changes (an import with the file hash) as the OS user on this host', async () => {
    const csv = join(h.dir, 'org.csv');
    writeFileSync(csv, 'opd_code,opd_name,unit_code,unit_name,site_code,site_name\nDISHUB,Dinas Perhubungan,DISHUB-1,Kantor,DISHUB-1-A,Gedung A\n');
    const r = await runHadir(['import', 'org', csv, '--data', h.dir]);
    expect(r.code, r.stderr).toBe(0);
    const list = await runHadir(['audit', 'list', '--data', h.dir, '--action', 'cli import', '--format', 'json']);
    const [e] = JSON.parse(list.stdout) as { actorKind: string; action: string; after: { args: { sha256: string }[] } }[];
    expect(e).toMatchObject({ actorKind: 'cli', action: 'cli import org' });
    expect(e!.after.args[0]!.sha256).toBe(createHash('sha256').update(await import('node:fs').then((f) => f.readFileSync(csv))).digest('hex'));
    // read-only commands leave nothing
    const count = () => h.hub.db.prepare('SELECT count(*) FROM audit_log').pluck().get();
    const n = count();
    expect((await runHadir(['device', 'list', '--data', h.dir])).code).toBe(0);
    expect(count()).toBe(n);
  });

  it('edit one row with sqlite3 → `hadir audit verify` names it; delete one → named; delete the last → named', async () => {
    const db = dbPath(h);
    for (let i = 0; i < 4; i++) await h.hub.ctx.audit.record({ actor: 'bkpsdm1', actorKind: 'user', role: 'bkpsdm', action: 'test.filler', target: `n:${i}` });
    const ok = await runHadir(['audit', 'verify', '--data', h.dir]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^OK: \d+ entri/);
    const n = Number(sql(db, 'SELECT count(*) FROM audit_log').trim());
    expect(n).toBeGreaterThanOrEqual(7);

    // the hub's own code paths cannot change it
    expect(() => execFileSync('sqlite3', [db, "UPDATE audit_log SET actor = 'x' WHERE id = 2"], { stdio: 'pipe' })).toThrow(/append-only/);
    // someone with the file drops the guard and edits entry 2
    sql(db, "DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete; UPDATE audit_log SET actor = 'orang-lain' WHERE id = 2;");
    const edited = await runHadir(['audit', 'verify', '--data', h.dir]);
    expect(edited.code).toBe(3);
    expect(edited.stdout).toMatch(/entry 2 \(.*\) was altered/);
    expect(edited.stderr.trim().split('\n')).toHaveLength(1);

    // … and deletes entry 4
    sql(db, 'DELETE FROM audit_log WHERE id = 4;');
    const deleted = await runHadir(['audit', 'verify', '--data', h.dir, '--format', 'json']);
    expect(deleted.code).toBe(3);
    const report = JSON.parse(deleted.stdout) as { problems: { id: number; kind: string }[] };
    expect(report.problems).toEqual(expect.arrayContaining([{ id: 2, kind: 'altered', detail: expect.any(String) }, { id: 4, kind: 'deleted', detail: 'entry 4 is missing (deleted)' }]));

    // … and the newest entry
    sql(db, `DELETE FROM audit_log WHERE id = ${n};`);
    const tail = await runHadir(['audit', 'verify', '--data', h.dir]);
    expect(tail.stdout).toContain(`entry ${n} is missing (deleted from the end)`);
  });
});
