import { Hono, type Context } from 'hono';
import { zValidator } from '@hono/zod-validator';
import { z } from 'zod';
import type { HubContext, HubEnv, HubModule } from '../module-contract.js';
import { UserError } from '../../lib/errors.js';
import { validationHook as hook } from '../http/validation.js';
import { scopeOf } from '../http/auth.js';
import { LoginLimiter } from '../web/login-limiter.js';
import { prepareMonthAsync, tppReport, attendanceReport } from '../reports/data.js';
import { loadRules, readConfig } from '../attendance/inputs.js';
import { localToday } from '../attendance/clock.js';
import { dateSchema } from '../attendance/time.js';
import { activate, staffLogin, staffLogout, staffOfToken } from './auth.js';
import type { OpenApiPaths } from '../http/openapi.js';
import { zoneName } from '../../lib/local-time.js';

const month = z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'month: YYYY-MM');

type StaffEnv = { Variables: { nip: string } };

/**
 * The staff page's API: a person signs in (hub/staff/auth.ts) and sees only their own punches
 * (with the photo evidence), each day's status, and their month's TPP with every rupiah of the
 * deduction and the Perbup line behind it; they can file a correction request (keberatan) that
 * lands in their OPD admin's approval queue (`/api/v1/keberatan`, user API). Also `/api/v1/zone`:
 * the office zone the web pages show times in.
 */
export function createStaffModule(ctx: HubContext): HubModule {
  const now = () => new Date();
  const limiter = new LoginLimiter();
  const pub = new Hono();

  pub.get('/zone', (c) => {
    const offsetMin = readConfig(ctx.db).tzOffsetMin;
    return c.json({ offsetMin, name: zoneName(offsetMin) });
  });

  const addr = (c: Context) => c.req.header('x-forwarded-for')?.split(',')[0]?.trim() ?? 'local';
  const throttled = (nip: string, c: Context) => {
    const wait = limiter.blockedFor(nip, addr(c), Date.now());
    if (wait > 0) {
      c.header('retry-after', String(Math.ceil(wait / 1000)));
      throw new UserError(`terlalu banyak percobaan gagal, coba lagi dalam ${Math.ceil(wait / 1000)} detik / too many failed attempts`, 'wait', 429);
    }
  };
  const guard = async <T>(nip: string, c: Context, fn: () => Promise<T>): Promise<T> => {
    throttled(nip, c);
    try {
      const r = await fn();
      limiter.succeed(nip);
      return r;
    } catch (e) {
      if (e instanceof UserError && (e.status === 401 || e.status === 409 || e.status === 410)) limiter.fail(nip, addr(c), Date.now());
      throw e;
    }
  };
  const nipField = z.string().trim().min(1, 'NIP wajib diisi / NIP is required').max(32);
  pub.post('/saya/activate', zValidator('json', z.strictObject({ nip: nipField, code: z.string().min(1).max(32), password: z.string().max(200) }), hook), async (c) => {
    const b = c.req.valid('json');
    const token = await guard(b.nip, c, () => activate(ctx.db, { ...b, now: now() }));
    ctx.log.info({ nip: b.nip }, 'staff page activated');
    return c.json({ token }, 201);
  });
  pub.post('/saya/login', zValidator('json', z.strictObject({ nip: nipField, password: z.string().max(200) }), hook), async (c) => {
    const b = c.req.valid('json');
    return c.json({ token: await guard(b.nip, c, () => staffLogin(ctx.db, { ...b, now: now() })) });
  });

  // --- the signed-in person's own data
  const me = new Hono<StaffEnv>();
  me.use('*', async (c, next) => {
    const m = /^Bearer\s+(\S+)$/i.exec(c.req.header('authorization') ?? '');
    const nip = m ? staffOfToken(ctx.db, m[1]!, now()) : null;
    if (!nip) return c.json({ error: 'sesi berakhir, silakan masuk lagi / not signed in or session expired' }, 401);
    c.set('nip', nip);
    await next();
  });
  me.post('/logout', (c) => {
    staffLogout(ctx.db, /^Bearer\s+(\S+)$/i.exec(c.req.header('authorization') ?? '')![1]!);
    return c.json({ ok: true });
  });
  me.get('/me', (c) => {
    const p = ctx.db
      .prepare(`SELECT s.nip, s.name, s.opd_code AS opd, o.name AS opdName, u.name AS unitName, s.employment, s.schedule_code AS schedule
        FROM staff s LEFT JOIN opd o ON o.code = s.opd_code LEFT JOIN units u ON u.code = s.unit_code WHERE s.nip = ?`)
      .get(c.get('nip'));
    return c.json(p);
  });
  me.get('/month', zValidator('query', z.strictObject({ month: month.optional() }), hook), async (c) => {
    const nip = c.get('nip');
    const today = localToday(ctx.db);
    const m = c.req.valid('query').month ?? today.slice(0, 7);
    if (m > today.slice(0, 7)) throw new UserError('bulan ini belum dimulai / that month has not started', 'choose this month or an earlier one', 400);
    await prepareMonthAsync(ctx.db, m, now().toISOString());
    const q = { month: m, today, now: now().toISOString(), nip };
    const att = attendanceReport(ctx.db, q).rows[0] ?? null;
    let tpp: ReturnType<typeof tppReport>['rows'][number] | null = null;
    let tppError: string | null = null;
    try {
      tpp = tppReport(ctx.db, q).rows[0] ?? null;
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      tppError = e.message;
    }
    // Every rupiah: the discipline part is base × weight; each rule line takes its percent of it.
    // Lines are shown before the monthly cap; `capped` says when the cap cut the sum.
    const money = tpp ? deductionMoney(tpp, loadRules(ctx.db).find((r) => r.id === tpp!.rule)?.weights.disiplin) : null;
    const punches = ctx.db
      .prepare(`SELECT p.id, p.captured_at AS capturedAt, p.method, p.device_id AS deviceId, p.site_code AS site, si.name AS siteName, p.clock_source AS clockSource,
          p.review_status AS reviewStatus, p.corrected_at AS correctedAt, p.has_photo AS hasPhoto
        FROM punches p LEFT JOIN sites si ON si.code = p.site_code
        WHERE p.nip = ? AND p.captured_at >= ? AND p.captured_at < ? ORDER BY p.captured_at`)
      .all(nip, ...monthRangeUtc(m, readConfig(ctx.db).tzOffsetMin)) as { hasPhoto: number }[];
    const objections = ctx.db.prepare('SELECT id, date, reason, status, created_at AS createdAt, decided_by AS decidedBy, decided_at AS decidedAt, note FROM keberatan WHERE nip = ? ORDER BY id DESC').all(nip);
    return c.json({
      month: m,
      days: att?.days ?? [],
      totals: att ? { work_days: att.work_days, present_days: att.present_days, late_days: att.late_days, early_days: att.early_days, absent_days: att.absent_days, missing_days: att.missing_days, excused_days: att.excused_days } : null,
      tpp: tpp ? { ...tpp, days: undefined, money } : null,
      tppError,
      punches: punches.map((p) => ({ ...p, hasPhoto: p.hasPhoto === 1 })),
      keberatan: objections,
    });
  });
  me.get('/punches/:id/photo', (c) => {
    const row = ctx.db.prepare('SELECT ph.jpeg FROM punch_photos ph JOIN punches p ON p.id = ph.punch_id WHERE ph.punch_id = ? AND p.nip = ?').get(c.req.param('id'), c.get('nip')) as { jpeg: Buffer } | undefined;
    // Someone else's punch and a punch without photo look the same: 404.
    if (!row) return c.json({ error: 'foto tidak ada / no photo for this punch' }, 404);
    return c.body(new Uint8Array(row.jpeg), 200, { 'content-type': 'image/jpeg', 'cache-control': 'private, max-age=3600' });
  });
  me.post('/keberatan', zValidator('json', z.strictObject({ date: dateSchema, reason: z.string().trim().min(10, 'alasan minimal 10 karakter / say why in at least 10 characters').max(1000) }), hook), (c) => {
    const b = c.req.valid('json');
    if (b.date > localToday(ctx.db)) throw new UserError('tanggal belum terjadi / that day has not happened yet', 'choose a past day', 400);
    const r = ctx.db.prepare('INSERT INTO keberatan (nip, date, reason, created_at) VALUES (?, ?, ?, ?)').run(c.get('nip'), b.date, b.reason, now().toISOString());
    ctx.log.info({ nip: c.get('nip'), date: b.date }, 'keberatan filed');
    return c.json({ id: Number(r.lastInsertRowid), status: 'pending' }, 201);
  });
  pub.route('/saya', me); // not /staff: /api/v1/staff/{nip}/… is the admins' end-of-service API

  // --- the OPD admin's queue (user API: OPD admins see their own OPD only)
  const api = new Hono<HubEnv>();
  api.get('/keberatan', zValidator('query', z.strictObject({ status: z.enum(['pending', 'approved', 'rejected']).optional(), opd: z.string().optional() }), hook), (c) => {
    const q = c.req.valid('query');
    const scope = scopeOf(c, q.opd);
    const rows = ctx.db
      .prepare(`SELECT k.id, k.nip, s.name, s.opd_code AS opd, k.date, k.reason, k.status, k.created_at AS createdAt, k.decided_by AS decidedBy, k.decided_at AS decidedAt, k.note
        FROM keberatan k JOIN staff s ON s.nip = k.nip WHERE 1 = 1 ${q.status ? 'AND k.status = ?' : ''} ${scope ? 'AND s.opd_code = ?' : ''} ORDER BY k.created_at`)
      .all(...[q.status, scope].filter((x): x is string => !!x));
    return c.json(rows);
  });
  api.post('/keberatan/:id/decide', zValidator('json', z.strictObject({ action: z.enum(['approve', 'reject']), note: z.string().trim().max(500).optional() }), hook), (c) => {
    const id = Number(c.req.param('id'));
    const scope = scopeOf(c);
    const k = ctx.db.prepare('SELECT k.status, s.opd_code AS opd FROM keberatan k JOIN staff s ON s.nip = k.nip WHERE k.id = ?').get(id) as { status: string; opd: string } | undefined;
    if (!k || (scope && k.opd !== scope)) return c.json({ error: `keberatan ${c.req.param('id')} tidak ditemukan / not found` }, 404);
    if (k.status !== 'pending') return c.json({ error: `keberatan ini sudah diputuskan (${k.status}) / already decided` }, 409);
    const b = c.req.valid('json');
    ctx.db.prepare('UPDATE keberatan SET status = ?, decided_by = ?, decided_at = ?, note = ? WHERE id = ?').run(b.action === 'approve' ? 'approved' : 'rejected', c.get('user').username, now().toISOString(), b.note ?? null, id);
    return c.json({ id, status: b.action === 'approve' ? 'approved' : 'rejected' });
  });

  // hub/http/roles.ts: only admins decide correction requests (OPD admins for their own OPD, in the handler)
  const access = { 'GET /keberatan': ['bkpsdm', 'opd_admin'], 'POST /keberatan/:id/decide': ['bkpsdm', 'opd_admin'] } as const;
  return { name: 'staff', publicApi: pub, api, openapi: STAFF_OPENAPI, access };
}

/** UTC bounds of a month in the office zone. */
export function monthRangeUtc(m: string, offsetMin: number): [string, string] {
  const [y, mo] = m.split('-').map(Number) as [number, number];
  const from = Date.UTC(y, mo - 1, 1) - offsetMin * 60_000;
  const to = Date.UTC(y, mo, 1) - offsetMin * 60_000;
  return [new Date(from).toISOString(), new Date(to).toISOString()];
}

/** The month's deduction in rupiah, line by line (each line's percent of the discipline part). */
export function deductionMoney(t: { base: number; disiplin: number; deduction_pct: number; applied_pct: number; days: { date: string; lines: { rule: string; item: string; pct: number }[] }[]; prorata: { base: number } | null }, weightDisiplin?: number) {
  const base = t.prorata?.base ?? t.base;
  // weight: disiplin = base × w/100 × (1 − applied/100)  ⇒  base × w/100 = disiplin / (1 − applied/100)
  const disiplinFull = weightDisiplin !== undefined ? (base * weightDisiplin) / 100 : t.applied_pct >= 100 ? null : t.disiplin / (1 - t.applied_pct / 100);
  const full = disiplinFull ?? 0;
  const lines = t.days.flatMap((d) => d.lines.map((l) => ({ date: d.date, rule: l.rule, item: l.item, pct: l.pct, rupiah: Math.round((full * l.pct) / 100) })));
  return { disiplin_full: Math.round(full), deduction_rupiah: Math.round(full - t.disiplin), capped: t.deduction_pct > t.applied_pct, lines };
}

const STAFF_OPENAPI: OpenApiPaths = {
  '/zone': { get: { summary: 'Office time zone (public): offset minutes and WIB/WITA/WIT', tags: ['staff'], security: [], responses: { '200': { description: 'zone' } } } },
  '/saya/activate': { post: { summary: 'Staff page: first sign-in with NIP + one-time activation code, choosing a password', tags: ['staff'], security: [], responses: { '201': { description: '{token}' }, '401': { description: 'wrong NIP/code' }, '409': { description: 'code used' }, '410': { description: 'code expired' }, '429': { description: 'too many failures' } } } },
  '/saya/login': { post: { summary: 'Staff page: sign in with NIP + password', tags: ['staff'], security: [], responses: { '200': { description: '{token}' }, '401': { description: 'wrong NIP/password' }, '429': { description: 'too many failures' } } } },
  '/saya/me': { get: { summary: "The signed-in staff member's profile (staff token)", tags: ['staff'], security: [{ staff: [] }], responses: { '200': { description: 'profile' }, '401': { description: 'no staff session' } } } },
  '/saya/month': { get: { summary: 'Own month: days, punches, TPP with the deduction in rupiah per rule line, own keberatan (staff token)', tags: ['staff'], security: [{ staff: [] }], responses: { '200': { description: 'month' }, '401': { description: 'no staff session' } } } },
  '/saya/punches/{id}/photo': { get: { summary: 'Photo evidence of an own punch (staff token)', tags: ['staff'], security: [{ staff: [] }], responses: { '200': { description: 'image/jpeg' }, '404': { description: 'none, or not yours' } } } },
  '/saya/logout': { post: { summary: 'Staff page: end this session (staff token)', tags: ['staff'], security: [{ staff: [] }], responses: { '200': { description: 'signed out' } } } },
  '/saya/keberatan': { post: { summary: 'File a correction request (keberatan) for a day, with a reason (staff token)', tags: ['staff'], security: [{ staff: [] }], responses: { '201': { description: 'filed' }, '400': { description: 'bad date/reason' } } } },
  '/keberatan': { get: { summary: "Correction requests (OPD admins: their OPD's)", tags: ['staff'], responses: { '200': { description: 'list' } } } },
  '/keberatan/{id}/decide': { post: { summary: 'Approve or reject a correction request', tags: ['staff'], responses: { '200': { description: 'decided' }, '404': { description: 'unknown or other OPD' }, '409': { description: 'already decided' } } } },
};
