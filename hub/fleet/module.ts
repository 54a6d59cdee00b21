import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { Hono } from 'hono';
import { zValidator } from '@hono/zod-validator';
import { z } from 'zod';
import { KIOSK_API, decodePayload, kioskRoute, statusSchema, updateReportSchema, type UpdateAnswer } from '../../protocol/index.js';
import type { HubContext, HubEnv, HubModule, KioskEnv, Role } from '../module-contract.js';
import { errorResponse, json, type OpenApiPaths } from '../http/openapi.js';
import { validationHook as hook } from '../http/validation.js';
import type { FleetAudit, FleetRepository } from './service.js';
import type { AuditLog } from '../audit/index.js';
import { HUB_VERSION_FOR_FLEET } from './version.js';
import { httpError } from '../http/errors.js';

const rolloutBodySchema = z.strictObject({
  version: z.string().min(1).max(41),
  stages: z.string().max(2000).optional(),
  window: z.string().max(20).optional(),
  blackouts: z.string().max(200).optional(),
  maxFailures: z.number().int().min(0).optional(),
});
const resumeBodySchema = z.strictObject({ maxFailures: z.number().int().min(0).optional() }).default({});
const abortBodySchema = z.strictObject({ reason: z.string().max(300).optional() }).default({});

/**
 * Fleet events into the hub's audit log (hash-chained, hub/audit), plus one log line each. The
 * entry has no OPD: rollouts concern the regency, so BKPSDM sees them. Entries are written in the
 * background; `settled()` waits for those under way (a command awaits it before it closes the store).
 */
export function fleetAudit(audit: Pick<AuditLog, 'record'>, log: Pick<HubContext['log'], 'info' | 'error'>): FleetAudit & { settled(): Promise<void> } {
  const pending = new Set<Promise<unknown>>();
  return {
    record: (e) => {
      log.info({ audit: e }, `fleet ${e.action} ${e.target} by ${e.actor}`);
      const p = audit
        .record({ actor: e.actor, actorKind: e.actorKind, action: e.action, target: e.target, after: e.detail })
        .catch((err: unknown) => log.error({ err, audit: e }, 'fleet: audit entry not written'))
        .finally(() => pending.delete(p));
      pending.add(p);
    },
    settled: async () => void (await Promise.all(pending)),
  };
}

/**
 * Fleet updates at the hub: serves release bundles to kiosks (HTTP range requests, so a download
 * over a poor link resumes), offers each kiosk the release of the running rollout when its stage is
 * reached, records every report and failure, halts the rollout past the failure threshold, and
 * shows versions, stages and failures to admins (API, /api/v1/devices, the terminal page).
 */
export class FleetModule implements HubModule {
  readonly name = 'fleet';
  readonly api = new Hono<HubEnv>();
  readonly kioskApi = new Hono<KioskEnv>();
  readonly openapi: OpenApiPaths = OPENAPI;
  /**
   * hub/http/roles.ts rules for these routes: BKPSDM and technicians watch the fleet (versions,
   * stages, failures across every OPD, so not OPD admins); only BKPSDM starts or steers a rollout.
   */
  readonly access: Record<string, readonly Role[]> = {
    'GET /fleet/releases': ['bkpsdm', 'technician'],
    'GET /fleet/rollouts': ['bkpsdm', 'technician'],
    'GET /fleet/status': ['bkpsdm', 'technician'],
    'GET /fleet/rollouts/:id': ['bkpsdm', 'technician'],
    'POST /fleet/rollouts': ['bkpsdm'],
    'POST /fleet/rollouts/:id/pause': ['bkpsdm'],
    'POST /fleet/rollouts/:id/resume': ['bkpsdm'],
    'POST /fleet/rollouts/:id/abort': ['bkpsdm'],
  };
  readonly service: FleetRepository;

  constructor(private readonly ctx: HubContext, audit: FleetAudit = fleetAudit(ctx.audit, ctx.log)) {
    this.service = ctx.stores.fleet({ dataDir: ctx.dataDir, hubVersion: HUB_VERSION_FOR_FLEET, audit, clock: ctx.clock });
    this.routes();
  }

  async start(): Promise<void> {
    // The retained birth carries the app version: the hub's record of what each kiosk runs.
    await this.ctx.mqtt.subscribe(this.ctx.topics.all('status'), async (topic, payload) => {
      const t = this.ctx.topics.parse(topic);
      if (!t || payload.length === 0) return;
      const d = decodePayload(statusSchema, payload, 64 * 1024);
      if (!d.ok) return;
      try {
        if (d.value.appVersion) await this.service.setDeviceVersion(t.deviceId, d.value.appVersion, d.value.online);
        else await this.service.setDeviceOnline(t.deviceId, d.value.online);
      } catch (e) {
        this.ctx.log.warn({ deviceId: t.deviceId, err: (e as Error).message }, 'fleet: kiosk version not recorded');
      }
    });
  }

  describeDevices(deviceIds: string[]): Promise<Map<string, Record<string, unknown>>> {
    return this.service.describe(deviceIds);
  }

  private routes(): void {
    const k = this.kioskApi;
    k.get(kioskRoute(KIOSK_API.update), async (c) => {
      const dev = c.get('device');
      const answer: UpdateAnswer = { offer: await this.service.offerFor(dev.id, dev.siteCode), seen: await this.service.seen(dev.id) };
      return c.json(answer);
    });
    k.post(kioskRoute(KIOSK_API.updateReport), zValidator('json', updateReportSchema, hook), async (c) => {
      const dev = c.get('device');
      const rep = c.req.valid('json');
      const r = await this.service.report(dev.id, rep);
      if (rep.phase === 'refused' || rep.phase === 'rolled_back') this.ctx.log.warn({ deviceId: dev.id, version: rep.version, phase: rep.phase, reason: rep.reason }, 'kiosk update failed');
      else this.ctx.log.info({ deviceId: dev.id, version: rep.version, phase: rep.phase, timings: rep.timings }, 'kiosk update progress');
      return c.json(r, r.accepted ? 200 : 409);
    });
    k.get('/releases/:version/:arch', async (c) => {
      const f = await this.service.releaseFile(c.req.param('version'), c.req.param('arch'));
      if (!f) httpError(404, `release ${c.req.param('version')} for ${c.req.param('arch')} is not stored at this hub`);
      const etag = `"${f.sha256}"`;
      const base = { 'accept-ranges': 'bytes', etag, 'content-type': 'application/gzip' };
      const range = c.req.header('range');
      const ifRange = c.req.header('if-range');
      const m = range && (!ifRange || ifRange === etag) ? /^bytes=(\d*)-(\d*)$/.exec(range.trim()) : null;
      if (range && !m && (!ifRange || ifRange === etag)) return c.json({ error: `unsupported Range ${range}: use one bytes=START- range` }, 416, { 'content-range': `bytes */${f.size}` });
      let start = 0;
      let end = f.size - 1;
      if (m) {
        if (m[1] === '' && m[2] === '') return c.json({ error: 'empty Range' }, 416, { 'content-range': `bytes */${f.size}` });
        if (m[1] === '') start = Math.max(0, f.size - Number(m[2]));
        else {
          start = Number(m[1]);
          if (m[2] !== '') end = Math.min(end, Number(m[2]));
        }
        if (start >= f.size || start > end) return c.json({ error: `range starts at ${start}, the bundle has ${f.size} bytes` }, 416, { 'content-range': `bytes */${f.size}` });
      }
      const body = Readable.toWeb(createReadStream(f.path, { start, end })) as ReadableStream;
      const headers = { ...base, 'content-length': String(end - start + 1), ...(m ? { 'content-range': `bytes ${start}-${end}/${f.size}` } : {}) };
      return c.body(body, m ? 206 : 200, headers);
    });

    const a = this.api;
    a.get('/fleet/releases', async (c) => c.json({ items: await this.service.releases() }));
    a.get('/fleet/rollouts', async (c) => c.json({ items: await this.service.rollouts() }));
    a.get('/fleet/status', async (c) => c.json(await this.status()));
    a.get('/fleet/rollouts/:id', async (c) => c.json(await this.status(Number(c.req.param('id')))));
    a.post('/fleet/rollouts', zValidator('json', rolloutBodySchema, hook), async (c) => {
      const b = c.req.valid('json');
      return c.json(await this.service.startRollout({ ...b, by: c.get('user').username }), 201);
    });
    a.post('/fleet/rollouts/:id/pause', async (c) => c.json(await this.service.pause(Number(c.req.param('id')), c.get('user').username)));
    a.post('/fleet/rollouts/:id/resume', zValidator('json', resumeBodySchema, hook), async (c) =>
      c.json(await this.service.resume(Number(c.req.param('id')), c.get('user').username, c.req.valid('json').maxFailures)),
    );
    a.post('/fleet/rollouts/:id/abort', zValidator('json', abortBodySchema, hook), async (c) =>
      c.json(await this.service.abort(Number(c.req.param('id')), c.get('user').username, c.req.valid('json').reason)),
    );
  }

  /** The latest (or given) rollout with every kiosk's state and every failure. */
  async status(id?: number): Promise<Record<string, unknown>> {
    return (await this.service.status(id)) ?? { rollout: null, targets: [], failures: [] };
  }
}

const idParam = { name: 'id', in: 'path' as const, required: true, schema: { type: 'integer' } };
const OPENAPI: OpenApiPaths = {
  '/fleet/releases': { get: { summary: 'Release bundles stored at the hub', tags: ['fleet'], responses: { '200': json({ type: 'object' }) } } },
  '/fleet/rollouts': {
    get: { summary: 'Rollouts, newest first', tags: ['fleet'], responses: { '200': json({ type: 'object' }) } },
    post: { summary: 'Start a staged rollout (BKPSDM only)', tags: ['fleet'], requestBody: { required: true, content: { 'application/json': { schema: { type: 'object' } } } }, responses: { '201': json({ type: 'object' }), '400': errorResponse('invalid rollout'), '403': errorResponse('not BKPSDM') } },
  },
  '/fleet/status': { get: { summary: 'The latest rollout: every kiosk’s version, stage, state and failures', tags: ['fleet'], responses: { '200': json({ type: 'object' }) } } },
  '/fleet/rollouts/{id}': { get: { summary: 'One rollout with every kiosk and failure', tags: ['fleet'], parameters: [idParam], responses: { '200': json({ type: 'object' }) } } },
  '/fleet/rollouts/{id}/pause': { post: { summary: 'Pause a running rollout', tags: ['fleet'], parameters: [idParam], responses: { '200': json({ type: 'object' }), '409': errorResponse('not running') } } },
  '/fleet/rollouts/{id}/resume': { post: { summary: 'Resume a paused or halted rollout (optionally with a new maxFailures)', tags: ['fleet'], parameters: [idParam], responses: { '200': json({ type: 'object' }), '409': errorResponse('not paused/halted') } } },
  '/fleet/rollouts/{id}/abort': { post: { summary: 'Abort a rollout (kiosks already updated stay on the new version)', tags: ['fleet'], parameters: [idParam], responses: { '200': json({ type: 'object' }), '409': errorResponse('already ended') } } },
  '/kiosk/update': { get: { summary: 'Kiosk updater: the release to fetch/install now, and the version the hub sees', tags: ['fleet'], responses: { '200': json({ type: 'object' }) } } },
  '/kiosk/update/report': { post: { summary: 'Kiosk updater: progress or failure of an update', tags: ['fleet'], responses: { '200': json({ type: 'object' }), '409': errorResponse('not part of that rollout') } } },
  '/kiosk/releases/{version}/{arch}': { get: { summary: 'Release bundle download (Range: bytes=N- resumes)', tags: ['fleet'], responses: { '200': { description: 'the bundle' }, '206': { description: 'a range of it' }, '416': errorResponse('bad range') } } },
};

export function createFleetModule(ctx: HubContext): HubModule {
  return new FleetModule(ctx);
}
