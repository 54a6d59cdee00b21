import { createHash } from 'node:crypto';
import { Hono } from 'hono';
import { zValidator } from '@hono/zod-validator';
import { z } from 'zod';
import { KIOSK_API, fingerUploadSchema, kioskRoute, nipSchema } from '../../protocol/index.js';
import type { HubContext, HubEnv, HubModule, KioskEnv } from '../module-contract.js';
import { scopeOf } from '../http/auth.js';
import { errorResponse, json } from '../http/openapi.js';
import { validationHook as hook } from '../http/validation.js';
import { noteAudit } from '../audit/http.js';
import { NO_SESSION } from './enrol-sessions.js';
import { httpError } from '../http/errors.js';

/**
 * Fingerprint templates at the hub: stored per employee and finger, uploaded by kiosks in enrolment
 * mode, added to every roster of the employee's site so each kiosk loads them into its sensor.
 * Routes: kiosk `POST /api/v1/kiosk/finger/templates`; admin `GET /api/v1/finger/templates`,
 * `DELETE /api/v1/finger/templates/{nip}/{finger}` (OPD admins: their own OPD only).
 */


const listQuerySchema = z.strictObject({ nip: nipSchema.optional(), opd: z.string().optional() });


export function createFingerModule(ctx: HubContext): HubModule {
  const { bus, log } = ctx;
  const store = ctx.stores.finger;

  const kioskApi = new Hono<KioskEnv>();
  kioskApi.post(kioskRoute(KIOSK_API.fingerTemplates), zValidator('json', fingerUploadSchema, hook), async (c) => {
    const body = c.req.valid('json');
    const device = c.get('device');
    const staff = await store.staff(body.nip);
    if (!staff) httpError(404, `NIP ${body.nip} tidak terdaftar / is not in the staff list — import it first (hadir import staff)`);
    if (!staff.active) httpError(409, `NIP ${body.nip} tidak aktif / is inactive`);
    const template = Buffer.from(body.template, 'base64');
    const sha256 = createHash('sha256').update(template).digest('hex');
    const now = new Date(ctx.clock());
    const before = await store.meta(body.nip, body.finger);
    // Only against an enrolment an authorised user started for this NIP on this kiosk: claimed once, in the same step as the write.
    const session = await store.claimAndStore({ nip: body.nip, finger: body.finger, template, sha256, deviceId: device.id, now });
    if (!session) {
      log.warn({ nip: body.nip, finger: body.finger, deviceId: device.id }, 'finger template refused: no open enrolment session');
      httpError(403, NO_SESSION(body.nip, 'finger', device.id));
    }
    noteAudit(c, {
      action: 'finger.template.upload', target: `nip:${body.nip}`, opdCode: staff.opd_code,
      before, after: { finger: body.finger, sha256, bytes: template.length, session: session.id, startedBy: session.startedBy },
    });
    log.info({ nip: body.nip, finger: body.finger, deviceId: device.id, bytes: template.length, session: session.id, startedBy: session.startedBy }, 'finger template enrolled');
    bus.emit('roster:changed', {});
    return c.json({ nip: body.nip, finger: body.finger, sha256, bytes: template.length }, 201);
  });

  const api = new Hono<HubEnv>();
  api.get('/finger/templates', zValidator('query', listQuerySchema, hook), async (c) => {
    const q = c.req.valid('query');
    const opd = scopeOf(c, q.opd);
    return c.json({ items: await store.list({ nip: q.nip ?? null, opd: opd ?? null }) });
  });
  api.delete('/finger/templates/:nip/:finger', async (c) => {
    const nip = c.req.param('nip');
    const finger = Number(c.req.param('finger'));
    if (!nipSchema.safeParse(nip).success || !Number.isInteger(finger) || finger < 0 || finger > 10) httpError(400, 'nip or finger (0–10) is invalid');
    const staff = await store.staff(nip);
    if (!staff) httpError(404, `NIP ${nip} tidak terdaftar / not found`);
    scopeOf(c, staff.opd_code); // 403 for another OPD's admin
    const before = await store.meta(nip, finger);
    if (!(await store.remove(nip, finger))) httpError(404, `no template for NIP ${nip} finger ${finger}`);
    noteAudit(c, { action: 'finger.template.delete', target: `nip:${nip}`, opdCode: staff.opd_code, before: { finger, ...before }, after: null });
    log.info({ nip, finger, by: c.get('user').username }, 'finger template deleted');
    bus.emit('roster:changed', {});
    return c.json({ deleted: true });
  });

  return {
    name: 'finger',
    kioskApi,
    api,
    async contributeRoster(siteCode, people) {
      for (const row of await store.templatesForSite(siteCode)) {
        const person = people.get(row.nip);
        if (!person) continue;
        (person.finger ??= []).push({ finger: row.finger, template: row.template.toString('base64'), updatedAt: row.updated_at });
      }
    },
    openapi: {
      '/kiosk/finger/templates': {
        post: {
          summary: 'Upload a fingerprint template enrolled at this kiosk (device auth)',
          tags: ['finger'],
          requestBody: { required: true, content: { 'application/json': { schema: json(fingerUploadSchema).content['application/json'].schema } } },
          responses: { '201': { description: 'stored' }, '400': errorResponse('invalid body'), '403': errorResponse('no open enrolment session for this NIP on this kiosk'), '404': errorResponse('unknown NIP'), '409': errorResponse('inactive NIP') },
        },
      },
      '/finger/templates': {
        get: {
          summary: 'List fingerprint templates (metadata only, no template bytes)',
          tags: ['finger'],
          parameters: [
            { name: 'nip', in: 'query', schema: { type: 'string' } },
            { name: 'opd', in: 'query', schema: { type: 'string' } },
          ],
          responses: { '200': { description: 'templates' } },
        },
      },
      '/finger/templates/{nip}/{finger}': {
        delete: {
          summary: 'Delete one finger template; kiosks drop it at their next sync',
          tags: ['finger'],
          parameters: [
            { name: 'nip', in: 'path', required: true, schema: { type: 'string' } },
            { name: 'finger', in: 'path', required: true, schema: { type: 'integer', minimum: 0, maximum: 10 } },
          ],
          responses: { '200': { description: 'deleted' }, '403': errorResponse('another OPD'), '404': errorResponse('not found') },
        },
      },
    },
  };
}
