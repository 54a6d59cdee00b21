import { Hono, type Context } from 'hono';
import { zValidator } from '@hono/zod-validator';
import { z } from 'zod';
import type { HubContext, HubEnv, HubModule } from '../module-contract.js';
import { UserError } from '../../lib/errors.js';
import { validationHook as hook } from '../http/validation.js';
import { bearerToken, scopeOf } from '../http/auth.js';
import { LoginLimiter } from '../web/login-limiter.js';
import type { tppReport } from '../reports/data.js';
import { leaderOf } from '../leader.js';
import { attendanceJob } from '../attendance/job.js';
import { dateSchema } from '../attendance/time.js';
import type { OpenApiPaths } from '../http/openapi.js';
import { zoneName } from '../../lib/local-time.js';
import { httpError } from '../http/errors.js';
import { monthSchema } from '../http/schemas.js';

const month = monthSchema;

type StaffEnv = { Variables: { nip: string } };

/**
 * The staff page's API: a person signs in (hub/staff/auth.ts) and sees only their own punches
 * (with the photo evidence), each day's status, and their month's TPP with every rupiah of the
 * deduction and the Perbup line behind it; they can file a correction request (keberatan) that
 * lands in their OPD admin's approval queue (`/api/v1/keberatan`, user API). Also `/api/v1/zone`:
 * the office zone the web pages show times in.
 */
export function createStaffModule(ctx: HubContext): HubModule {
  const now = () => new Date(ctx.clock());
  const limiter = new LoginLimiter();
  const pub = new Hono();
  const portal = ctx.stores.staffPortal;
  const att = ctx.stores.attendance;
  const job = attendanceJob(att, ctx.log.child({ module: 'attendance' }), ctx.clock, leaderOf(ctx));

  pub.get('/zone', async (c) => {
    const offsetMin = (await att.config()).tzOffsetMin;
    return c.json({ offsetMin, name: zoneName(offsetMin) });
  });

  const addr = (c: Context) => c.req.header('x-forwarded-for')?.split(',')[0]?.trim() ?? 'local';
  const throttled = (nip: string, c: Context) => {
    const wait = limiter.blockedFor(nip, addr(c), ctx.clock());
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
      if (e instanceof UserError && (e.status === 401 || e.status === 409 || e.status === 410)) limiter.fail(nip, addr(c), ctx.clock());
      throw e;
    }
  };
  const nipField = z.string().trim().min(1, 'NIP wajib diisi / NIP is required').max(32);
  pub.post('/saya/activate', zValidator('json', z.strictObject({ nip: nipField, code: z.string().min(1).max(32), password: z.string().max(200) }), hook), async (c) => {
    const b = c.req.valid('json');
    const token = await guard(b.nip, c, () => portal.activate({ ...b, now: now() }));
    ctx.log.info({ nip: b.nip }, 'staff page activated');
    return c.json({ token }, 201);
  });
  pub.post('/saya/login', zValidator('json', z.strictObject({ nip: nipField, password: z.string().max(200) }), hook), async (c) => {
    const b = c.req.valid('json');
    return c.json({ token: await guard(b.nip, c, () => portal.login({ ...b, now: now() })) });
  });

  // --- the signed-in person's own data
  const me = new Hono<StaffEnv>();
  me.use('*', async (c, next) => {
    const token = bearerToken(c);
    const nip = token ? await portal.staffOfToken(token, now()) : null;
    if (!nip) httpError(401, 'sesi berakhir, silakan masuk lagi / not signed in or session expired');
    c.set('nip', nip);
    await next();
  });
  me.post('/logout', async (c) => {
    await portal.logout(bearerToken(c)!);
    return c.json({ ok: true });
  });
  me.get('/me', async (c) => c.json(await portal.profile(c.get('nip'))));
  me.get('/month', zValidator('query', z.strictObject({ month: month.optional() }), hook), async (c) => {
    const nip = c.get('nip');
    const today = await att.today(ctx.clock());
    const m = c.req.valid('query').month ?? today.slice(0, 7);
    if (m > today.slice(0, 7)) throw new UserError('bulan ini belum dimulai / that month has not started', 'choose this month or an earlier one', 400);
    await job.caughtUp(m, today);
    const q = { month: m, today, now: now().toISOString(), nip };
    const report = await att.attendanceReport(q);
    const mine = report.rows[0] ?? null;
    let tpp: ReturnType<typeof tppReport>['rows'][number] | null = null;
    let tppError: string | null = null;
    try {
      tpp = (await att.tppReport(q)).rows[0] ?? null;
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      tppError = e.message;
    }
    // Every rupiah: the discipline part is base × weight; each rule line takes its percent of it.
    // Lines are shown before the monthly cap; `capped` says when the cap cut the sum.
    const rule = tpp ? (await att.rules()).find((r) => r.id === tpp!.rule) : undefined;
    const money = tpp ? deductionMoney(tpp, rule?.weights.disiplin) : null;
    const punches = await portal.punches(nip, ...monthRangeUtc(m, (await att.config()).tzOffsetMin));
    return c.json({
      month: m,
      days: mine?.days ?? [],
      totals: mine ? { work_days: mine.work_days, present_days: mine.present_days, late_days: mine.late_days, early_days: mine.early_days, absent_days: mine.absent_days, missing_days: mine.missing_days, excused_days: mine.excused_days } : null,
      tpp: tpp ? { ...tpp, days: undefined, money } : null,
      tppError,
      punches,
      keberatan: await portal.myObjections(nip),
      pending_derivation: report.meta.pending_derivation,
    });
  });
  me.get('/punches/:id/photo', async (c) => {
    const jpeg = await portal.photo(c.req.param('id'), c.get('nip'));
    // Someone else's punch and a punch without photo look the same: 404.
    if (!jpeg) httpError(404, 'foto tidak ada / no photo for this punch');
    return c.body(new Uint8Array(jpeg), 200, { 'content-type': 'image/jpeg', 'cache-control': 'private, max-age=3600' });
  });
  me.post('/keberatan', zValidator('json', z.strictObject({ date: dateSchema, reason: z.string().trim().min(10, 'alasan minimal 10 karakter / say why in at least 10 characters').max(1000) }), hook), async (c) => {
    const b = c.req.valid('json');
    if (b.date > (await att.today(ctx.clock()))) throw new UserError('tanggal belum terjadi / that day has not happened yet', 'choose a past day', 400);
    const id = await portal.fileObjection(c.get('nip'), b.date, b.reason, now().toISOString());
    ctx.log.info({ nip: c.get('nip'), date: b.date }, 'keberatan filed');
    return c.json({ id, status: 'pending' }, 201);
  });
  pub.route('/saya', me); // not /staff: /api/v1/staff/{nip}/… is the admins' end-of-service API

  // --- the OPD admin's queue (user API: OPD admins see their own OPD only)
  const api = new Hono<HubEnv>();
  api.get('/keberatan', zValidator('query', z.strictObject({ status: z.enum(['pending', 'approved', 'rejected']).optional(), opd: z.string().optional() }), hook), async (c) => {
    const q = c.req.valid('query');
    return c.json(await portal.listObjections({ status: q.status, opd: scopeOf(c, q.opd) }));
  });
  api.post('/keberatan/:id/decide', zValidator('json', z.strictObject({ action: z.enum(['approve', 'reject']), note: z.string().trim().max(500).optional() }), hook), async (c) => {
    const id = Number(c.req.param('id'));
    const scope = scopeOf(c);
    const k = await portal.objection(id);
    if (!k || (scope && k.opd !== scope)) httpError(404, `keberatan ${c.req.param('id')} tidak ditemukan / not found`);
    if (k.status !== 'pending') httpError(409, `keberatan ini sudah diputuskan (${k.status}) / already decided`);
    const b = c.req.valid('json');
    await portal.decideObjection(id, { status: b.action === 'approve' ? 'approved' : 'rejected', by: c.get('user').username, at: now().toISOString(), note: b.note ?? null });
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
