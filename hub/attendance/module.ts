import { Hono, type Context } from 'hono';
import { Counter, Gauge } from 'prom-client';
import { zValidator } from '@hono/zod-validator';
import { z } from 'zod';
import type { HubContext, HubEnv, HubModule } from '../module-contract.js';
import { UserError } from '../../lib/errors.js';
import { noteAudit } from '../audit/http.js';
import { CONTENT_TYPE, renderAttendance, renderTpp, type ReportFormat } from '../reports/index.js';
import { EXCEPTION_TYPES } from '../tpp/rules.js';
import { dateSchema } from './time.js';
import { ATTENDANCE_OPENAPI } from './openapi.js';
import { leaderOf } from '../leader.js';
import { attendanceJob } from './job.js';
import { validationHook as hook } from '../http/validation.js';
import { bkpsdmOnly, opdScope } from '../http/auth.js';
import { endServiceBody, reinstateBody } from '../org/exit.js';
import { monthSchema } from '../http/schemas.js';
import { iso } from '../../lib/clock.js';

/**
 * Attendance at the hub: reports (JSON/CSV/XLSX/PDF), "late today", leave/duty approval, review
 * of clock-unverified punches and end of service under /api/v1; OPD admins see and act on their
 * own OPD only, and only BKPSDM ends or reinstates service.
 * Stored punches are re-derived as they arrive: the punches table queues them (trigger), the
 * 'punches:stored' event and a periodic sweep (for CLI imports made while the hub runs) start the
 * background job that drains it. Requests never derive: reads wait (bounded) for the job and
 * answer with the derived state and meta.pending_derivation / meta.derived_at (docs/attendance.md).
 */
const SWEEP_MS = 30_000;
const DRAIN_DELAY_MS = 1_000;

const month = monthSchema;
const reportQuery = z.object({
  month,
  opd: z.string().min(1).optional(),
  format: z.enum(['json', 'csv', 'xlsx', 'pdf']).default('json'),
  csv_dialect: z.enum(['en', 'id']).default('en'),
});
const nipParam = z.strictObject({ nip: z.string().min(1).max(32) });

/** End of service is a BKPSDM (payroll) decision. */
const serviceAdmin = bkpsdmOnly('hanya BKPSDM yang dapat mengakhiri atau memulihkan masa kerja / only BKPSDM may end or reinstate service — ask BKPSDM');

/** Response headers of a report: inputs not yet derived when it was read (0 = up to date), and when its month last changed. */
export const PENDING_HEADER = 'x-hadir-pending-derivation';
export const DERIVED_AT_HEADER = 'x-hadir-derived-at';

export interface AttendanceModuleOptions {
  /** How long a report read waits for the background job to bring its month up to date before answering with what is derived (default job.ts READ_WAIT_MS). */
  readWaitMs?: number;
}

export function createAttendanceModule(ctx: HubContext, opts: AttendanceModuleOptions = {}): HubModule {
  const log = ctx.log.child({ module: 'attendance' });
  const repo = ctx.stores.attendance;
  const api = new Hono<HubEnv>();
  const now = () => iso(ctx.clock);

  /** A report, with how far its derivation is behind (the JSON body is the rows: the state rides in headers, for every format). */
  const send = (format: ReportFormat, body: Buffer, name: string, meta: { pending_derivation: number; derived_at: string | null }) =>
    new Response(new Uint8Array(body), {
      headers: {
        'content-type': CONTENT_TYPE[format],
        ...(format === 'json' ? {} : { 'content-disposition': `attachment; filename="${name}.${format}"` }),
        [PENDING_HEADER]: String(meta.pending_derivation),
        ...(meta.derived_at ? { [DERIVED_AT_HEADER]: meta.derived_at } : {}),
      },
    });

  // Derivation is the background job's (job.ts); requests only ask for a pass and wait, bounded.
  const job = attendanceJob(repo, log, ctx.clock, leaderOf(ctx));
  const rederived = new Counter({ name: 'hadir_attendance_rederived_total', help: 'Employee-months re-derived after their inputs changed', registers: [ctx.metrics] });
  const onDerived = (r: { employees: number }) => rederived.inc(r.employees);
  job.derived.add(onDerived);
  const derivePass = () => job.run();
  const caughtUp = (month: string, today: string) => job.caughtUp(month, today, opts.readWaitMs);

  const reportOf = async (c: Context<HubEnv>, q: z.infer<typeof reportQuery>) => {
    const opd = opdScope(c.get('user'), q.opd);
    const today = await repo.today(ctx.clock());
    await caughtUp(q.month, today);
    return { opd, rq: { month: q.month, opd, today, now: now() } };
  };
  api.get('/reports/attendance', zValidator('query', reportQuery, hook), async (c) => {
    const q = c.req.valid('query');
    const { opd, rq } = await reportOf(c, q);
    const r = await repo.attendanceReport(rq);
    return send(q.format, await renderAttendance(r, q.format, q.csv_dialect), `kehadiran-${q.month}${opd ? `-${opd}` : ''}`, r.meta);
  });
  api.get('/reports/tpp', zValidator('query', reportQuery, hook), async (c) => {
    const q = c.req.valid('query');
    const { opd, rq } = await reportOf(c, q);
    const r = await repo.tppReport(rq);
    return send(q.format, await renderTpp(r, q.format, q.csv_dialect), `tpp-${q.month}${opd ? `-${opd}` : ''}`, r.meta);
  });
  api.get('/reports/late-today', zValidator('query', z.object({ date: dateSchema.optional(), opd: z.string().optional() }), hook), async (c) => {
    const q = c.req.valid('query');
    const opd = opdScope(c.get('user'), q.opd);
    const date = q.date ?? (await repo.today(ctx.clock()));
    await caughtUp(date.slice(0, 7), date);
    return c.json(await repo.lateToday({ date, opd, now: now() }));
  });

  // leave / duty with approval
  api.get('/exceptions', zValidator('query', z.object({ status: z.enum(['pending', 'approved', 'rejected']).optional(), month: month.optional(), opd: z.string().optional() }), hook), async (c) => {
    const q = c.req.valid('query');
    return c.json(await repo.listExceptions({ status: q.status, month: q.month, scope: opdScope(c.get('user'), q.opd) }));
  });
  api.post(
    '/exceptions',
    zValidator('json', z.strictObject({ nip: z.string().min(1), type: z.enum(EXCEPTION_TYPES), from: dateSchema, to: dateSchema, evidence: z.string().optional(), note: z.string().optional() }), hook),
    async (c) => {
      const b = c.req.valid('json');
      const user = c.get('user');
      const e = await repo.addException({ ...b, by: user.username, now: now(), scope: opdScope(user) });
      noteAudit(c, { action: 'leave.request', target: `nip:${e.nip}`, opdCode: await repo.staffOpd(e.nip), after: e });
      return c.json(e, 201);
    },
  );
  for (const action of ['approve', 'reject'] as const) {
    api.post(`/exceptions/:id/${action}`, async (c) => {
      const id = Number(c.req.param('id'));
      if (!Number.isInteger(id)) throw new UserError('exception id must be a number', 'see GET /api/v1/exceptions');
      const user = c.get('user');
      const before = await repo.getException(id);
      const e = await repo.decideException({ id, approve: action === 'approve', by: user.username, now: now(), scope: opdScope(user) });
      noteAudit(c, { action: `leave.${action}`, target: `nip:${e.nip}`, opdCode: await repo.staffOpd(e.nip), before, after: e });
      void derivePass();
      return c.json(e);
    });
  }

  // review of clock-unverified punches
  api.get('/punches/pending', async (c) => c.json(await repo.listPendingPunches(opdScope(c.get('user'), c.req.query('opd')))));
  api.post(
    '/punches/:id/review',
    zValidator('json', z.strictObject({ action: z.enum(['accept', 'reject']), correctedAt: z.string().optional(), useSuggested: z.boolean().optional() }), hook),
    async (c) => {
      const b = c.req.valid('json');
      const user = c.get('user');
      const id = c.req.param('id');
      const before = await repo.punchReview(id);
      await repo.reviewPunch({ id, action: b.action, correctedAt: b.correctedAt ?? null, useSuggested: b.useSuggested, by: user.username, now: now(), scope: opdScope(user) });
      const after = await repo.punchReview(id);
      if (after) delete after.review_reason;
      noteAudit(c, { action: `punch.review.${b.action}`, target: `punch:${id}`, opdCode: before ? await repo.staffOpd(before.nip) : null, before, after });
      void derivePass();
      return c.json({ id, review_status: b.action === 'accept' ? 'accepted' : 'rejected' });
    },
  );

  api.post(
    '/punches/review-bulk',
    zValidator('json', z.strictObject({ device: z.string().min(1).max(63), from: z.iso.datetime({ offset: true }), to: z.iso.datetime({ offset: true }), action: z.enum(['suggested', 'accept', 'reject']) }), hook),
    async (c) => {
      const b = c.req.valid('json');
      const user = c.get('user');
      const from = new Date(Date.parse(b.from)).toISOString();
      const to = new Date(Date.parse(b.to)).toISOString();
      if (to <= from) throw new UserError('"to" must be after "from" (periode terbalik)', 'swap the dates', 400);
      const r = await repo.reviewPunchesBulk({ deviceId: b.device, from, to, action: b.action, by: user.username, now: now(), scope: opdScope(user) });
      void derivePass();
      return c.json(r);
    },
  );

  // end of service and reinstatement (BKPSDM); the list is scoped like everything else
  const serviceChanged = () => {
    void derivePass();
    ctx.bus.emit('roster:changed', {});
  };
  api.get('/staff/exits', zValidator('query', z.object({ opd: z.string().optional(), open: z.enum(['true', 'false']).optional() }), hook), async (c) => {
    const q = c.req.valid('query');
    return c.json(await repo.listExits({ opd: opdScope(c.get('user'), q.opd), open: q.open === 'true' }));
  });
  api.post('/staff/:nip/end', serviceAdmin, zValidator('param', nipParam, hook), zValidator('json', endServiceBody, hook), async (c) => {
    const user = c.get('user');
    const b = c.req.valid('json');
    const nip = c.req.valid('param').nip;
    const e = await repo.endService({ nip, from: b.from, reason: b.reason, note: b.note, by: user.username, now: now() });
    noteAudit(c, { action: 'staff.end', target: `nip:${nip}`, opdCode: await repo.staffOpd(nip), after: e });
    serviceChanged();
    return c.json(e, 201);
  });
  api.post('/staff/:nip/reinstate', serviceAdmin, zValidator('param', nipParam, hook), zValidator('json', reinstateBody, hook), async (c) => {
    const user = c.get('user');
    const nip = c.req.valid('param').nip;
    const e = await repo.reinstate({ nip, from: c.req.valid('json').from, by: user.username, now: now() });
    noteAudit(c, { action: 'staff.reinstate', target: `nip:${nip}`, opdCode: await repo.staffOpd(nip), after: e });
    serviceChanged();
    return c.json(e);
  });

  // metrics: the queue should stay near 0; pending reviews are work for OPD admins
  const registers = [ctx.metrics];
  new Gauge({
    name: 'hadir_attendance_queue',
    help: 'Attendance inputs waiting to be re-derived (att_dirty rows)',
    registers,
    async collect() {
      this.set(await repo.queueLength());
    },
  });
  new Gauge({
    name: 'hadir_attendance_pending_review',
    help: 'Clock-unverified punches waiting for admin review',
    registers,
    async collect() {
      this.set(await repo.pendingReviewCount());
    },
  });

  // incremental re-derivation
  let scheduled = false;
  let drainTimer: NodeJS.Timeout | undefined;
  // Coalesce bursts of stored batches into one pass, at most every DRAIN_DELAY_MS: while a kiosk
  // flushes a week's backlog the job must not compete with ingest batch by batch (a profile showed
  // recompute taking more CPU than storing). Attendance is at most this much behind the punches;
  // nothing is lost (the queue is in the database).
  const onStored = () => {
    if (scheduled) return;
    scheduled = true;
    drainTimer = setTimeout(() => {
      scheduled = false;
      void derivePass();
    }, DRAIN_DELAY_MS);
    drainTimer.unref();
  };
  // staff.active follows dated exits and reinstatements once their day comes (kiosk rosters follow it)
  const sweep = async () => {
    if (!leaderOf(ctx).isLeader()) return; // a periodic job: the leader's (hub/leader.ts)
    try {
      if ((await repo.syncServiceStatus(await repo.today(ctx.clock()))).length) ctx.bus.emit('roster:changed', {});
    } catch (e) {
      log.error({ err: e }, 'end-of-service status update failed; retried at the next sweep');
    }
    await derivePass();
  };
  let timer: NodeJS.Timeout | undefined;

  return {
    name: 'attendance',
    api,
    openapi: ATTENDANCE_OPENAPI,
    async start() {
      ctx.bus.on('punches:stored', onStored);
      timer = setInterval(() => void sweep(), SWEEP_MS);
      timer.unref();
      await sweep();
    },
    async stop() {
      ctx.bus.off('punches:stored', onStored);
      if (timer) clearInterval(timer);
      if (drainTimer) clearTimeout(drainTimer);
      job.derived.delete(onDerived);
      await job.stop(); // a pass under way finishes before the store closes
    },
  };
}
