import { Hono, type Context } from 'hono';
import { zValidator } from '@hono/zod-validator';
import { z } from 'zod';
import type { Logger } from '../../lib/logger.js';
import type { HubEnv, HubModule, KioskEnv } from '../module-contract.js';
import type { CoreStore, DeviceRecord, SeqGap } from '../store/core-store.js';
import type { Registry } from 'prom-client';
import { enrolDevice, type EnrolEndpoints } from '../devices/registry.js';
import { KIOSK_API, KIOSK_API_BASE, enrolRequestSchema, kioskRoute } from '../../protocol/index.js';
import { buildRoster } from '../roster.js';
import { deviceAuth, deviceLoginLimiter, scopeOf, userAuth } from './auth.js';
import { enforceRoles, policyWith } from './roles.js';
import { bodyLimits } from './limits.js';
import { AUDIT_OPENAPI, auditRequests, clientAddress, createAuditRoutes, noteAudit } from '../audit/http.js';
import { auditLog, type AuditLog } from '../audit/index.js';
import type { LoginLimiter } from '../web/login-limiter.js';
import { parseTtl, registerDevice } from '../devices/registry.js';
import type { SqliteDb } from '../store/sqlite.js';
import { OpenApiRegistry, errorResponse, json, jsonSchema } from './openapi.js';
import { createWebApp } from '../web/app.js';
import { AUTH_OPENAPI, createAuthRoutes } from '../web/auth-routes.js';
import { validationHook as hook } from './validation.js';
import { errorHandler, httpError, jsonError } from './errors.js';
import { instantSchema } from './schemas.js';
import type { Clock } from '../../lib/clock.js';

export interface AppDeps {
  store: CoreStore;
  log: Logger;
  /** The hub's clock: every "now" of the core routes (enrolment, sessions, rosters, /kiosk/time, audit). */
  clock: Clock;
  metrics: Registry;
  modules: HubModule[];
  enrol: EnrolEndpoints;
  version: string;
  /** Is the hub's MQTT link up (for /healthz)? */
  mqttConnected: () => boolean;
  /** Called after a device enrolled over HTTP (the core publishes its retained config pointer). */
  onEnrolled?: (deviceId: string) => void;
  /** Called after a device was disabled over HTTP (the embedded broker disconnects it at once). */
  onDeviceDisabled?: (deviceId: string) => void;
  /** Default: the audit log in the SQLite store's database. */
  audit?: AuditLog;
  /** Failed device logins, shared with the embedded broker's MQTT logins (default: one for HTTP alone). */
  deviceLimiter?: LoginLimiter;
}


export const punchQuerySchema = z.strictObject({
  from: instantSchema.optional(),
  to: instantSchema.optional(),
  device: z.string().max(63).optional(),
  nip: z.string().max(32).optional(),
  opd: z.string().max(64).optional(),
  limit: z.coerce.number().int().min(1).max(5000).default(100),
  offset: z.coerce.number().int().min(0).default(0),
  /** asc (default: oldest first, for exports) or desc (newest first: "latest punches"). */
  order: z.enum(['asc', 'desc']).default('asc'),
});

const deviceParamSchema = z.strictObject({ id: z.string().min(1).max(63) });
export const disableDeviceSchema = z.strictObject({
  reason: z.string().trim().min(1, 'reason: say why the kiosk is taken out of service').max(500),
});
export const addDeviceSchema = z.strictObject({
  site: z.string().min(1).max(64),
  id: z.string().min(2).max(63).optional(),
  ttl: z.string().regex(/^\d+[mhd]$/, 'ttl: e.g. 90m, 24h, 7d').default('24h'),
});

export function deviceView(d: DeviceRecord, gaps: SeqGap[], chainBreaks = 0) {
  return {
    id: d.id,
    siteCode: d.siteCode,
    enrolled: !!d.enrolledAt,
    enrolledAt: d.enrolledAt,
    disabled: !!d.disabledAt,
    disabledAt: d.disabledAt,
    disabledReason: d.disabledReason ?? null,
    disabledBy: d.disabledBy ?? null,
    online: d.online,
    statusAt: d.statusAt,
    lastSeenAt: d.lastSeenAt,
    contiguousSeq: d.contiguousSeq,
    maxSeq: d.maxSeq,
    seqGaps: gaps.filter((g) => g.deviceId === d.id && !g.closedAt).map((g) => ({ from: g.fromSeq, to: g.toSeq, detectedAt: g.detectedAt })),
    backlog: { undelivered: d.backlog, oldestUndeliveredAt: d.backlogOldestAt },
    /** Stored punches whose prevHash does not follow the previous punch (see GET /punches?device=ID, chainBreak). */
    chainBreaks,
  };
}

/**
 * The hub's HTTP app (Hono). Public: /healthz, /metrics, POST /api/v1/enrol, /api/v1/openapi.json.
 * Kiosks: /api/v1/kiosk/* (HTTP Basic deviceId:password). Everything else under /api/v1 needs a
 * user's bearer token. Feature modules' sub-apps are mounted behind the same guards.
 */
export function createApp(deps: AppDeps): { app: Hono; openapi: OpenApiRegistry } {
  const { store, log, modules, clock } = deps;
  const now = () => new Date(clock());
  const app = new Hono();
  const openapi = new OpenApiRegistry();
  const audit = deps.audit ?? auditLog((store as unknown as { db: SqliteDb }).db, clock);

  app.onError(errorHandler(log));
  app.notFound((c) => jsonError(404, `no route ${c.req.method} ${c.req.path}`));
  // Request bodies are bounded before anything parses them (also unauthenticated ones).
  app.use('/api/*', bodyLimits());

  app.get(KIOSK_API.healthz, (c) => {
    const mqtt = deps.mqttConnected();
    return c.json({ ok: mqtt, mqtt, version: deps.version }, mqtt ? 200 : 503);
  });
  app.get('/metrics', async (c) => c.text(await deps.metrics.metrics(), 200, { 'content-type': deps.metrics.contentType }));

  // --- public API routes (no user): enrolment and the API description
  app.post(KIOSK_API.enrol, zValidator('json', enrolRequestSchema, hook), async (c) => {
    const res = await enrolDevice(store, c.req.valid('json'), deps.enrol, now());
    log.info({ deviceId: res.deviceId, site: res.siteCode }, 'device enrolled');
    const site = await store.getSite(res.siteCode);
    await audit.record({ actor: res.deviceId, actorKind: 'device', role: 'kiosk', source: clientAddress(c), action: 'device.enrol', target: `device:${res.deviceId}`, opdCode: site?.opdCode ?? null, after: { siteCode: res.siteCode, publicKeyPem: c.req.valid('json').publicKeyPem }, status: 201 });
    deps.onEnrolled?.(res.deviceId);
    return c.json(res, 201);
  });
  app.get('/api/v1/openapi.json', (c) => c.json(openapi.document(deps.version)));
  // web login/logout/me (login is public; registered before the bearer-guarded API)
  app.route('/api/v1/auth', createAuthRoutes({ store, log, clock, audit }));

  // modules' own public routes (the staff page signs its people in itself)
  for (const m of modules) if (m.publicApi) app.route('/api/v1', m.publicApi);

  // --- kiosk API (device auth); every change a kiosk makes (template uploads) is audited
  const kiosk = new Hono<KioskEnv>();
  kiosk.use('*', deviceAuth(store, clock, deps.deviceLimiter ?? deviceLoginLimiter(), clientAddress));
  kiosk.use('*', auditRequests<KioskEnv>(audit, log, async (c) => {
    const d = c.get('device');
    return { actor: d.id, actorKind: 'device', role: 'kiosk', opdCode: (await store.getSite(d.siteCode))?.opdCode ?? null };
  }));
  kiosk.get(kioskRoute(KIOSK_API.roster), async (c) => {
    const roster = await buildRoster(store, modules, c.get('device').siteCode, now());
    if (!roster) httpError(404, `site ${c.get('device').siteCode} no longer exists`);
    return c.json(roster);
  });
  // What the hub already stored for this device: a kiosk starting with an empty journal (new, or
  // wiped by a technician) continues after maxSeq instead of colliding with stored seqs.
  kiosk.get(kioskRoute(KIOSK_API.state), async (c) => {
    const d = await store.getDevice(c.get('device').id);
    if (!d) httpError(404, `perangkat ${c.get('device').id} tidak dikenal / device is not registered`);
    return c.json({ deviceId: d.id, maxSeq: d.maxSeq, contiguousSeq: d.contiguousSeq });
  });
  // Time for kiosks whose network blocks NTP: one NTP-style exchange (kiosk/clock/hub-time.ts).
  kiosk.get(kioskRoute(KIOSK_API.time), (c) => {
    const receivedMs = clock();
    return c.json({ receivedMs, sentMs: clock() }, 200, { 'cache-control': 'no-store' });
  });
  for (const m of modules) if (m.kioskApi) kiosk.route('/', m.kioskApi);
  app.route(KIOSK_API_BASE, kiosk);

  // --- user API (bearer token)
  const api = new Hono<HubEnv>();
  api.use('*', userAuth(store, clock));
  api.use('*', enforceRoles(policyWith(modules)));
  api.use('*', auditRequests<HubEnv>(audit, log, (c) => {
    const u = c.get('user');
    return { actor: u.username, actorKind: 'user', role: u.role, opdCode: u.opdCode };
  }));
  api.get('/punches', zValidator('query', punchQuerySchema, hook), async (c) => {
    const q = c.req.valid('query');
    const f = { from: q.from, to: q.to, deviceId: q.device, nip: q.nip, opdCode: scopeOf(c, q.opd) ?? undefined };
    const [items, total] = await Promise.all([store.queryPunches({ ...f, limit: q.limit, offset: q.offset, order: q.order }), store.countPunches(f)]);
    const next = q.offset + items.length < total ? q.offset + items.length : null;
    return c.json({ items, total, limit: q.limit, offset: q.offset, nextOffset: next });
  });
  api.get('/devices', async (c) => {
    const opd = scopeOf(c, c.req.query('opd'));
    const [devices, gaps, breaks] = await Promise.all([store.listDevices({ opdCode: opd ?? undefined }), store.seqGaps(undefined, true), store.chainBreakCounts()]);
    const extras = await Promise.all(modules.flatMap((m) => (m.describeDevices ? [m.describeDevices(devices.map((d) => d.id))] : [])));
    return c.json({ items: devices.map((d) => Object.assign(deviceView(d, gaps, breaks.get(d.id) ?? 0), ...extras.map((x) => x.get(d.id) ?? {}))) });
  });
  const unknownDevice = (id: string): never => httpError(404, `perangkat ${id} tidak dikenal / device ${id} is not registered — see GET /api/v1/devices`);
  /** The device and its OPD when this user may manage it (an OPD-bound technician: their OPD's kiosks only), else null (404). */
  const manageable = async (c: Context<HubEnv>, id: string) => {
    const d = await store.getDevice(id);
    if (!d) return null;
    const opd = (await store.getSite(d.siteCode))?.opdCode ?? null;
    const scope = scopeOf(c);
    return scope && scope !== opd ? null : { d, opd };
  };
  const brief = (d: DeviceRecord) => ({ disabledAt: d.disabledAt, disabledReason: d.disabledReason ?? null, disabledBy: d.disabledBy ?? null });
  // Registering a kiosk (BKPSDM, technicians): a one-time enrolment token, shown once, as `hadir device add` prints it.
  api.post('/devices', zValidator('json', addDeviceSchema, hook), async (c) => {
    const b = c.req.valid('json');
    const site = await store.getSite(b.site);
    if (!site) httpError(404, `lokasi ${b.site} tidak dikenal / site ${b.site} does not exist — import it with hadir import org`);
    scopeOf(c, site.opdCode); // an OPD-bound technician: their OPD's sites only
    const r = await registerDevice(store, { siteCode: b.site, deviceId: b.id, ttlMs: parseTtl(b.ttl), now: now() });
    noteAudit(c, { action: 'device.add', target: `device:${r.device.id}`, opdCode: site.opdCode, after: { siteCode: r.device.siteCode, reissued: r.reissued, expiresAt: r.expiresAt } });
    log.info({ deviceId: r.device.id, site: b.site, by: c.get('user').username }, 'device registered');
    return c.json({ deviceId: r.device.id, siteCode: r.device.siteCode, token: r.token, expiresAt: r.expiresAt, reissued: r.reissued }, 201);
  });
  // Taking a kiosk out of service and back (BKPSDM, technicians). Ingest refuses a disabled device's punches
  // as transient (no refusal in the ack), so its backlog goes through after enable.
  api.post('/devices/:id/disable', zValidator('param', deviceParamSchema, hook), zValidator('json', disableDeviceSchema, hook), async (c) => {
    const { id } = c.req.valid('param');
    const by = c.get('user').username;
    const { reason } = c.req.valid('json');
    const m = await manageable(c, id);
    if (!m) return unknownDevice(id);
    const d = await store.disableDevice(id, { at: now().toISOString(), reason, by });
    if (!d) return unknownDevice(id);
    noteAudit(c, { action: 'device.disable', target: `device:${id}`, opdCode: m.opd, before: brief(m.d), after: brief(d) });
    log.warn({ deviceId: id, by, reason }, 'device disabled');
    deps.onDeviceDisabled?.(id);
    return c.json(deviceView(d, await store.seqGaps(id, true)));
  });
  api.post('/devices/:id/enable', zValidator('param', deviceParamSchema, hook), async (c) => {
    const { id } = c.req.valid('param');
    const m = await manageable(c, id);
    if (!m) return unknownDevice(id);
    const d = await store.enableDevice(id);
    if (!d) return unknownDevice(id);
    noteAudit(c, { action: 'device.enable', target: `device:${id}`, opdCode: m.opd, before: brief(m.d), after: brief(d) });
    log.info({ deviceId: id, by: c.get('user').username }, 'device enabled');
    return c.json(deviceView(d, await store.seqGaps(id, true)));
  });
  api.route('/', createAuditRoutes(audit, clock));
  for (const m of modules) if (m.api) api.route('/', m.api);
  app.route('/api/v1', api);

  // The web dashboard (hub/web/): `/` and `/assets/*`.
  app.route('/', createWebApp());

  registerCoreOpenApi(openapi);
  openapi.add(AUTH_OPENAPI);
  openapi.add(AUDIT_OPENAPI);
  for (const m of modules) if (m.openapi) openapi.add(m.openapi);
  return { app, openapi };
}

const deviceViewSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' }, siteCode: { type: 'string' }, enrolled: { type: 'boolean' }, disabled: { type: 'boolean' },
    disabledAt: { type: ['string', 'null'] }, disabledReason: { type: ['string', 'null'] }, disabledBy: { type: ['string', 'null'] },
    online: { type: 'boolean' }, statusAt: { type: ['string', 'null'] }, lastSeenAt: { type: ['string', 'null'] },
    contiguousSeq: { type: 'integer' }, maxSeq: { type: 'integer' }, chainBreaks: { type: 'integer', description: 'stored punches whose prevHash does not follow the previous punch' },
    seqGaps: { type: 'array', items: { type: 'object', properties: { from: { type: 'integer' }, to: { type: 'integer' }, detectedAt: { type: 'string' } } } },
    backlog: { type: 'object', properties: { undelivered: { type: ['integer', 'null'] }, oldestUndeliveredAt: { type: ['string', 'null'] } } },
  },
};

function registerCoreOpenApi(r: OpenApiRegistry) {
  const q = (name: string, description: string, schema: Record<string, unknown> = { type: 'string' }) => ({ name, in: 'query' as const, description, schema });
  r.add({
    '/healthz': {
      get: {
        summary: 'Liveness for load balancers and systemd: 200 when the hub is connected to its MQTT broker, 503 when not',
        tags: ['ops'],
        security: [],
        responses: {
          '200': json({ type: 'object', properties: { ok: { type: 'boolean' }, mqtt: { type: 'boolean' }, version: { type: 'string' } }, required: ['ok', 'mqtt', 'version'] }, 'Connected'),
          '503': json({ type: 'object', properties: { ok: { type: 'boolean' }, mqtt: { type: 'boolean' }, version: { type: 'string' } } }, 'Not connected to the broker'),
        },
      },
    },
    '/metrics': {
      get: {
        summary: 'Prometheus metrics (text exposition format 0.0.4)',
        tags: ['ops'],
        security: [],
        responses: { '200': { description: 'Metrics', content: { 'text/plain': { schema: { type: 'string' } } } } },
      },
    },
  }, '');
  r.add({
    '/openapi.json': {
      get: { summary: 'This API description (OpenAPI 3.1)', tags: ['ops'], security: [], responses: { '200': json({ type: 'object' }, 'The OpenAPI document') } },
    },
    '/enrol': {
      post: {
        summary: 'Enrol a kiosk with a one-time token',
        tags: ['devices'],
        security: [],
        requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(enrolRequestSchema) } } },
        responses: {
          '201': json({ type: 'object', properties: { deviceId: { type: 'string' }, siteCode: { type: 'string' }, hubUrl: { type: 'string' }, mqtt: { type: 'object' } } }, 'Enrolled: MQTT credentials'),
          '400': errorResponse('Bad request'),
          '401': errorResponse('Unknown token'),
          '403': errorResponse('Token for another device/site, or device disabled'),
          '409': errorResponse('Token already used'),
          '410': errorResponse('Token expired'),
        },
      },
    },
    '/punches': {
      get: {
        summary: 'Punches (OPD admins: own OPD only)',
        tags: ['punches'],
        parameters: [
          q('from', 'inclusive, ISO-8601 date or date-time'), q('to', 'exclusive'), q('device', 'device id'), q('nip', 'NIP'),
          q('opd', 'OPD code (BKPSDM only)'), q('limit', '1–5000, default 100', { type: 'integer' }), q('offset', 'default 0', { type: 'integer' }), q('order', 'asc (default) or desc: newest first'),
        ],
        responses: { '200': json({ type: 'object', properties: { items: { type: 'array' }, total: { type: 'integer' }, nextOffset: { type: ['integer', 'null'] } } }), '401': errorResponse('No or bad token'), '403': errorResponse('Outside your OPD') },
      },
    },
    '/devices': {
      get: {
        summary: 'Kiosks: online state, last seen, seq gaps, undelivered backlog',
        tags: ['devices'],
        responses: { '200': json({ type: 'object', properties: { items: { type: 'array', items: deviceViewSchema } } }), '401': errorResponse('No or bad token') },
      },
      post: {
        summary: 'Register a kiosk (BKPSDM, technicians): a one-time enrolment token, shown once',
        tags: ['devices'],
        requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(addDeviceSchema) } } },
        responses: {
          '201': json({ type: 'object', properties: { deviceId: { type: 'string' }, siteCode: { type: 'string' }, token: { type: 'string' }, expiresAt: { type: 'string' }, reissued: { type: 'boolean' } } }, 'Registered'),
          '400': errorResponse('Bad request'), '403': errorResponse('Role not allowed / another OPD'), '404': errorResponse('Unknown site'),
        },
      },
    },
    '/devices/{id}/disable': {
      post: {
        summary: 'Take a kiosk out of service (BKPSDM only): it is disconnected from the embedded broker and cannot log in; its punches wait in its backlog until enabled',
        tags: ['devices'],
        parameters: [{ name: 'id', in: 'path', required: true, description: 'device id', schema: { type: 'string' } }],
        requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(disableDeviceSchema) } } },
        responses: {
          '200': json(deviceViewSchema, 'Disabled (disabledAt kept if it already was; reason and who replaced)'),
          '400': errorResponse('No or empty reason'), '401': errorResponse('No or bad token'), '403': errorResponse('Not a BKPSDM user'), '404': errorResponse('Unknown device'),
        },
      },
    },
    '/devices/{id}/enable': {
      post: {
        summary: 'Bring a disabled kiosk back into service (BKPSDM only): it may log in again and its backlog is stored',
        tags: ['devices'],
        parameters: [{ name: 'id', in: 'path', required: true, description: 'device id', schema: { type: 'string' } }],
        responses: { '200': json(deviceViewSchema, 'Enabled'), '401': errorResponse('No or bad token'), '403': errorResponse('Not a BKPSDM user'), '404': errorResponse('Unknown device') },
      },
    },
    '/kiosk/state': {
      get: {
        summary: "What the hub has stored of this device's punches (kiosk only): a kiosk whose journal is empty continues after maxSeq",
        tags: ['kiosk'],
        security: [{ device: [] }],
        responses: {
          '200': json({
            type: 'object',
            properties: {
              deviceId: { type: 'string' },
              maxSeq: { type: 'integer', description: 'highest seq stored (0: none)' },
              contiguousSeq: { type: 'integer', description: 'highest s with 1..s all stored' },
            },
            required: ['deviceId', 'maxSeq', 'contiguousSeq'],
          }),
          '401': errorResponse('Device authentication failed'),
          '403': errorResponse('Device disabled'),
        },
      },
    },
    '/kiosk/time': {
      get: {
        summary: 'Hub wall clock for kiosks without NTP (kiosk only): receive and send times of this request, ms since epoch',
        tags: ['kiosk'],
        security: [{ device: [] }],
        responses: { '200': json({ type: 'object', properties: { receivedMs: { type: 'number' }, sentMs: { type: 'number' } }, required: ['receivedMs', 'sentMs'] }), '401': errorResponse('Device authentication failed') },
      },
    },
    '/kiosk/roster': {
      get: {
        summary: "The device's site roster (kiosk only)",
        tags: ['kiosk'],
        security: [{ device: [] }],
        responses: { '200': json({ type: 'object', properties: { version: { type: 'string' }, site: { type: 'object' }, people: { type: 'array' }, fetchedAt: { type: 'string' } } }), '401': errorResponse('Device authentication failed') },
      },
    },
  });
}
