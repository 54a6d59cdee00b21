import type { Context, MiddlewareHandler } from 'hono';
import { matchedRoutes } from 'hono/route';
import type { HubEnv, Role } from '../module-contract.js';
import { httpError } from './errors.js';

/**
 * Who may call which user route: one table, checked by one middleware before any handler runs.
 * A route without a row is refused for everyone (and fails test/security/auth.test.ts, whose
 * role × route matrix is generated from the app's route table), so a new route cannot ship
 * without a decision. OPD scoping (an OPD admin sees only their OPD) is applied inside the
 * handlers on top of this.
 *
 * Technicians run the terminals: kiosks, health, alerts, remote commands, adding and disabling
 * kiosks, enrolment sessions. They see no salaries, no TPP, no attendance and no punches beyond
 * the per-kiosk counts in the device list.
 */
export const ROLES = ['bkpsdm', 'opd_admin', 'technician'] as const satisfies readonly Role[];

const ALL: readonly Role[] = ROLES;
const ADMINS: readonly Role[] = ['bkpsdm', 'opd_admin'];
const FIELD: readonly Role[] = ['bkpsdm', 'technician'];
const BKPSDM: readonly Role[] = ['bkpsdm'];

export const ROUTE_POLICY: Readonly<Record<string, readonly Role[]>> = {
  // session
  'GET /api/v1/auth/me': ALL,
  'POST /api/v1/auth/logout': ALL,
  // terminals
  'GET /api/v1/devices': ALL,
  'POST /api/v1/devices': FIELD,
  'POST /api/v1/devices/:id/disable': FIELD,
  'POST /api/v1/devices/:id/enable': FIELD,
  'GET /api/v1/health/devices': ALL,
  'GET /api/v1/devices/:id/health': ALL,
  'GET /api/v1/health/rules': ALL,
  'PUT /api/v1/health/rules': BKPSDM,
  'GET /api/v1/alerts': ALL,
  'POST /api/v1/alerts/:id/ack': ALL,
  'POST /api/v1/devices/:id/commands': ALL,
  'GET /api/v1/devices/:id/commands': ALL,
  'GET /api/v1/devices/:id/commands/:cmdId': ALL,
  // enrolment (metadata only; templates never leave the hub through the user API)
  'GET /api/v1/enrol-sessions': ALL,
  'GET /api/v1/face/enrolments': ALL,
  'DELETE /api/v1/face/enrolments/:nip': ADMINS,
  'GET /api/v1/finger/templates': ALL,
  'DELETE /api/v1/finger/templates/:nip/:finger': ADMINS,
  // punches and their review
  'GET /api/v1/punches': ADMINS,
  'GET /api/v1/punches/pending': ADMINS,
  'POST /api/v1/punches/:id/review': ADMINS,
  'POST /api/v1/punches/review-bulk': ADMINS,
  'GET /api/v1/clock/suggestions': ADMINS,
  // attendance, leave, TPP
  'GET /api/v1/reports/attendance': ADMINS,
  'GET /api/v1/reports/tpp': ADMINS,
  'GET /api/v1/reports/late-today': ADMINS,
  'GET /api/v1/exceptions': ADMINS,
  'POST /api/v1/exceptions': ADMINS,
  'POST /api/v1/exceptions/:id/approve': ADMINS,
  'POST /api/v1/exceptions/:id/reject': ADMINS,
  'GET /api/v1/staff/exits': ADMINS,
  'POST /api/v1/staff/:nip/end': ADMINS,
  'POST /api/v1/staff/:nip/reinstate': ADMINS,
  // audit
  'GET /api/v1/audit': ADMINS,
  'GET /api/v1/audit/export': ADMINS,
  'GET /api/v1/audit/verify': BKPSDM,
};

const LABEL: Record<Role, string> = { bkpsdm: 'BKPSDM', opd_admin: 'OPD admins', technician: 'technicians' };

/** The 403 reason of a role refusal (tests tell it apart from OPD-scope refusals by this start). */
export const ROLE_DENIED = 'peran tidak diizinkan / role not allowed';

/** ROUTE_POLICY plus the rules modules declare for their own routes (HubModule.access, paths relative to /api/v1). */
export function policyWith(modules: { access?: Record<string, readonly Role[]> }[], base: Readonly<Record<string, readonly Role[]>> = ROUTE_POLICY): Record<string, readonly Role[]> {
  const out: Record<string, readonly Role[]> = { ...base };
  for (const m of modules) for (const [k, roles] of Object.entries(m.access ?? {})) {
    const [method, path] = k.split(' ') as [string, string];
    out[`${method} /api/v1${path}`] = roles;
  }
  return out;
}

/** The route whose handler answers this request (middleware mounted with `use` matches as ALL), or undefined. */
export function handlerRoute(c: Context) {
  return matchedRoutes(c).filter((r) => r.method !== 'ALL').at(-1);
}

/** Enforces ROUTE_POLICY for the route that will answer this request (after userAuth). */
export function enforceRoles(policy: Readonly<Record<string, readonly Role[]>> = ROUTE_POLICY): MiddlewareHandler<HubEnv> {
  return async (c, next) => {
    const route = handlerRoute(c);
    if (!route) return next(); // no handler: the 404 follows
    const key = `${route.method} ${route.path}`;
    const allowed = policy[key];
    const role = c.get('user').role;
    if (!allowed) httpError(403, `${ROLE_DENIED}: no access rule for ${key} yet (hub/http/roles.ts)`);
    if (!allowed.includes(role)) httpError(403, `${ROLE_DENIED}: ${role} may not ${key} — only ${allowed.map((r) => LABEL[r]).join(', ')}`);
    await next();
  };
}
