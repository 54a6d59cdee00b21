import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { getConnInfo } from '@hono/node-server/conninfo';
import { zValidator } from '@hono/zod-validator';
import { toCsv } from '../reports/csv.js';
import { z } from 'zod';
import type { Logger } from '../../lib/logger.js';
import type { HubEnv } from '../module-contract.js';
import { opdScope } from '../http/auth.js';
import { handlerRoute } from '../http/roles.js';
import { errorResponse, json, type OpenApiPaths } from '../http/openapi.js';
import { validationHook as hook } from '../http/validation.js';
import { auditView, type AuditActor, type AuditEntry, type AuditLog } from './index.js';
import { iso, type Clock } from '../../lib/clock.js';

/**
 * The audit log over HTTP: a middleware that records every successful change made through the API
 * (user or kiosk), and the routes BKPSDM (everything) and OPD admins (their OPD's entries) read it with.
 */

/** What a handler knows better than the generic record: a dotted action name, the target, before/after. */
export interface AuditNote {
  action?: string;
  target?: string | null;
  opdCode?: string | null;
  before?: unknown;
  after?: unknown;
  /** Nothing changed (e.g. an idempotent repeat): no entry. */
  skip?: boolean;
}
const notes = new WeakMap<Request, AuditNote>();

/** Adds to (or replaces parts of) the audit entry this request will produce. */
export function noteAudit(c: Context, n: AuditNote): void {
  notes.set(c.req.raw, { ...(notes.get(c.req.raw) ?? {}), ...n });
}

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export function clientAddress(c: Context): string {
  try {
    return getConnInfo(c).remote.address ?? 'unknown';
  } catch {
    return 'unknown'; // app.request() in tests has no socket
  }
}

/**
 * Records every POST/PUT/PATCH/DELETE that succeeded (status < 400) after the handler ran: who
 * (`actorOf`), from which address, the route, its parameters and the request body (secrets and
 * biometric payloads redacted), plus whatever the handler noted. A refused request changed
 * nothing and is not recorded here (the hub log has it).
 */
export function auditRequests<E extends HubEnv | { Variables: Record<string, unknown> }>(
  audit: AuditLog,
  log: Logger,
  actorOf: (c: Context<E>) => Promise<(AuditActor & { opdCode?: string | null }) | null> | (AuditActor & { opdCode?: string | null }) | null,
): MiddlewareHandler<E> {
  return async (c, next) => {
    await next();
    if (!MUTATING.has(c.req.method) || c.res.status >= 400) return;
    const note = notes.get(c.req.raw) ?? {};
    if (note.skip) return;
    try {
      const who = await actorOf(c);
      if (!who) return;
      const route = handlerRoute(c)?.path ?? c.req.path;
      const params = c.req.param() as Record<string, string>;
      let body: unknown;
      if ((c.req.header('content-type') ?? '').includes('json')) body = await c.req.json().catch(() => undefined);
      const target = note.target !== undefined ? note.target : Object.entries(params).map(([k, v]) => `${k}:${v}`).join(' ') || null;
      await audit.record({
        ...who,
        source: who.source ?? clientAddress(c),
        action: note.action ?? `${c.req.method} ${route}`,
        target,
        opdCode: note.opdCode !== undefined ? note.opdCode : who.opdCode ?? null,
        before: note.before,
        after: note.after !== undefined ? note.after : body ?? (Object.keys(params).length ? params : null),
        status: c.res.status,
      });
    } catch (e) {
      log.error({ err: e, path: c.req.path }, 'audit entry not written (the change itself succeeded)');
    }
  };
}

const listQuery = z.strictObject({
  from: z.string().max(40).optional(),
  to: z.string().max(40).optional(),
  actor: z.string().max(80).optional(),
  action: z.string().max(80).optional(),
  target: z.string().max(120).optional(),
  opd: z.string().max(64).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  offset: z.coerce.number().int().min(0).default(0),
});
const exportQuery = z.strictObject({ format: z.enum(['jsonl', 'csv']).default('jsonl'), opd: z.string().max(64).optional() });

export const AUDIT_COLUMNS = ['id', 'at', 'actor', 'actorKind', 'role', 'source', 'action', 'target', 'opdCode', 'before', 'after', 'status', 'prevHash', 'hash'] as const;

/** The export's first lines (the CSV header; none for jsonl). */
export const auditExportHead = (format: 'jsonl' | 'csv'): string[] => (format === 'csv' ? [toCsv([[...AUDIT_COLUMNS]])] : []);
/**
 * One entry as an export line (the HTTP export and `hadir audit export` write the same file). The
 * CSV is for reading in a spreadsheet, written by the reports' CSV writer (formulas neutralised);
 * jsonl keeps every value as stored, so it is the form the hash chain is checked on.
 */
export const auditExportLine = (e: AuditEntry, format: 'jsonl' | 'csv'): string =>
  format === 'csv' ? toCsv([AUDIT_COLUMNS.map((k) => e[k])]) : JSON.stringify(e) + '\n';

/** /api/v1/audit: list (newest first), export (whole chain with hashes), verify (BKPSDM). */
export function createAuditRoutes(audit: AuditLog, clock: Clock): Hono<HubEnv> {
  const r = new Hono<HubEnv>();
  r.get('/audit', zValidator('query', listQuery, hook), async (c) => {
    const q = c.req.valid('query');
    const opd = opdScope(c.get('user'), q.opd) ?? undefined;
    const { items, total } = await audit.list({ ...q, opdCode: opd });
    return c.json({ items: items.map(auditView), total, limit: q.limit, offset: q.offset, nextOffset: q.offset + items.length < total ? q.offset + items.length : null });
  });
  r.get('/audit/export', zValidator('query', exportQuery, hook), async (c) => {
    const q = c.req.valid('query');
    const opd = opdScope(c.get('user'), q.opd) ?? undefined;
    const name = `hadir-audit-${iso(clock).slice(0, 10)}${opd ? `-${opd}` : ''}.${q.format}`;
    const lines = auditExportHead(q.format);
    // OPD admins get their entries; only the whole log (BKPSDM) can be re-verified from the export.
    for await (const e of audit.repo.scan()) {
      if (opd && e.opdCode !== opd) continue;
      lines.push(auditExportLine(e, q.format));
    }
    return c.body(lines.join(''), 200, {
      'content-type': q.format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8',
      'content-disposition': `attachment; filename="${name}"`,
    });
  });
  r.get('/audit/verify', async (c) => c.json(await audit.verify()));
  return r;
}

export const AUDIT_OPENAPI: OpenApiPaths = {
  '/audit': {
    get: {
      summary: 'Audit log, newest first (BKPSDM: everything; OPD admins: entries of their OPD)',
      tags: ['audit'],
      parameters: ['from', 'to', 'actor', 'action', 'target', 'opd', 'limit', 'offset'].map((name) => ({ name, in: 'query' as const, schema: { type: name === 'limit' || name === 'offset' ? 'integer' : 'string' } })),
      responses: { '200': json({ type: 'object', properties: { items: { type: 'array' }, total: { type: 'integer' }, nextOffset: { type: ['integer', 'null'] } } }), '403': errorResponse('not allowed') },
    },
  },
  '/audit/export': {
    get: {
      summary: 'Export the audit log with its hash chain (jsonl or csv)',
      tags: ['audit'],
      parameters: [{ name: 'format', in: 'query', schema: { type: 'string', enum: ['jsonl', 'csv'] } }, { name: 'opd', in: 'query', schema: { type: 'string' } }],
      responses: { '200': { description: 'the entries, one per line' }, '403': errorResponse('not allowed') },
    },
  },
  '/audit/verify': {
    get: {
      summary: 'Check the hash chain: every altered or deleted entry is named (BKPSDM only)',
      tags: ['audit'],
      responses: { '200': json({ type: 'object', properties: { ok: { type: 'boolean' }, entries: { type: 'integer' }, head: { type: 'string' }, problems: { type: 'array' } } }), '403': errorResponse('not BKPSDM') },
    },
  },
};
