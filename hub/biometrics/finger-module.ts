import { createHash } from 'node:crypto';
import { Hono } from 'hono';
import { zValidator } from '@hono/zod-validator';
import { z } from 'zod';
import { nipSchema } from '../../protocol/index.js';
import type { HubContext, HubEnv, HubModule, KioskEnv } from '../module-contract.js';
import { scopeOf } from '../http/auth.js';
import { errorResponse, json } from '../http/openapi.js';
import { validationHook as hook } from '../http/validation.js';
import { noteAudit } from '../audit/http.js';
import { EnrolSessions, NO_SESSION } from './enrol-sessions.js';

/**
 * Fingerprint templates at the hub: stored per employee and finger, uploaded by kiosks in enrolment
 * mode, added to every roster of the employee's site so each kiosk loads them into its sensor.
 * Routes: kiosk `POST /api/v1/kiosk/finger/templates`; admin `GET /api/v1/finger/templates`,
 * `DELETE /api/v1/finger/templates/{nip}/{finger}` (OPD admins: their own OPD only).
 */

/** Character files of R30x/AS608 are 512 bytes, R503 up to 1536; anything outside is not a template. */
const MIN_TEMPLATE = 256;
const MAX_TEMPLATE = 4096;

export const fingerUploadSchema = z.strictObject({
  nip: nipSchema,
  finger: z.number().int().min(0).max(10),
  template: z
    .base64()
    .refine((s) => {
      const n = Buffer.from(s, 'base64').length;
      return n >= MIN_TEMPLATE && n <= MAX_TEMPLATE;
    }, `template must decode to ${MIN_TEMPLATE}–${MAX_TEMPLATE} bytes`),
});

const listQuerySchema = z.strictObject({ nip: nipSchema.optional(), opd: z.string().optional() });


interface TemplateRow {
  nip: string;
  finger: number;
  template: Buffer;
  sha256: string;
  enrolled_device_id: string | null;
  enrolled_at: string;
  updated_at: string;
}

export function createFingerModule(ctx: HubContext): HubModule {
  const { db, bus, log } = ctx;
  const sessions = new EnrolSessions(db);
  const forSite = db.prepare<[string], TemplateRow>(
    `SELECT ft.* FROM finger_templates ft JOIN staff s ON s.nip = ft.nip JOIN sites si ON si.unit_code = s.unit_code
      WHERE si.code = ? AND s.active = 1 ORDER BY ft.nip, ft.finger`,
  );
  const prior = db.prepare<[string, number], { sha256: string; enrolledDeviceId: string | null; updatedAt: string }>(
    'SELECT sha256, enrolled_device_id AS enrolledDeviceId, updated_at AS updatedAt FROM finger_templates WHERE nip = ? AND finger = ?',
  );
  const staffOf = db.prepare<[string], { nip: string; opd_code: string; active: number }>('SELECT nip, opd_code, active FROM staff WHERE nip = ?');
  const upsert = db.prepare(
    `INSERT INTO finger_templates (nip, finger, template, sha256, enrolled_device_id, enrolled_at, updated_at)
     VALUES (@nip, @finger, @template, @sha256, @device, @now, @now)
     ON CONFLICT (nip, finger) DO UPDATE SET template = excluded.template, sha256 = excluded.sha256,
       enrolled_device_id = excluded.enrolled_device_id, enrolled_at = excluded.enrolled_at, updated_at = excluded.updated_at`,
  );

  const kioskApi = new Hono<KioskEnv>();
  kioskApi.post('/finger/templates', zValidator('json', fingerUploadSchema, hook), (c) => {
    const body = c.req.valid('json');
    const device = c.get('device');
    const staff = staffOf.get(body.nip);
    if (!staff) return c.json({ error: `NIP ${body.nip} tidak terdaftar / is not in the staff list — import it first (hadir import staff)` }, 404);
    if (!staff.active) return c.json({ error: `NIP ${body.nip} tidak aktif / is inactive` }, 409);
    const template = Buffer.from(body.template, 'base64');
    const sha256 = createHash('sha256').update(template).digest('hex');
    const now = new Date();
    const before = prior.get(body.nip, body.finger) ?? null;
    // Only against an enrolment an authorised user started for this NIP on this kiosk: claimed once, in the same step as the write.
    const session = db.transaction(() => {
      const s = sessions.claim({ deviceId: device.id, nip: body.nip, method: 'finger', finger: body.finger, now, usedFor: `finger ${body.finger} ${sha256.slice(0, 16)}` });
      if (s) upsert.run({ nip: body.nip, finger: body.finger, template, sha256, device: device.id, now: now.toISOString() });
      return s;
    })();
    if (!session) {
      log.warn({ nip: body.nip, finger: body.finger, deviceId: device.id }, 'finger template refused: no open enrolment session');
      return c.json({ error: NO_SESSION(body.nip, 'finger', device.id) }, 403);
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
  api.get('/finger/templates', zValidator('query', listQuerySchema, hook), (c) => {
    const q = c.req.valid('query');
    const opd = scopeOf(c, q.opd);
    const rows = db
      .prepare(
        `SELECT ft.nip, s.name, s.opd_code AS opd, ft.finger, length(ft.template) AS bytes, ft.sha256, ft.enrolled_device_id AS enrolledDeviceId,
                ft.enrolled_at AS enrolledAt, ft.updated_at AS updatedAt
           FROM finger_templates ft JOIN staff s ON s.nip = ft.nip
          WHERE (@nip IS NULL OR ft.nip = @nip) AND (@opd IS NULL OR s.opd_code = @opd) ORDER BY ft.nip, ft.finger`,
      )
      .all({ nip: q.nip ?? null, opd: opd ?? null });
    return c.json({ items: rows });
  });
  api.delete('/finger/templates/:nip/:finger', (c) => {
    const nip = c.req.param('nip');
    const finger = Number(c.req.param('finger'));
    if (!nipSchema.safeParse(nip).success || !Number.isInteger(finger) || finger < 0 || finger > 10) return c.json({ error: 'nip or finger (0–10) is invalid' }, 400);
    const staff = staffOf.get(nip);
    if (!staff) return c.json({ error: `NIP ${nip} tidak terdaftar / not found` }, 404);
    scopeOf(c, staff.opd_code); // 403 for another OPD's admin
    const before = prior.get(nip, finger);
    const r = db.prepare('DELETE FROM finger_templates WHERE nip = ? AND finger = ?').run(nip, finger);
    if (r.changes === 0) return c.json({ error: `no template for NIP ${nip} finger ${finger}` }, 404);
    noteAudit(c, { action: 'finger.template.delete', target: `nip:${nip}`, opdCode: staff.opd_code, before: { finger, ...before }, after: null });
    log.info({ nip, finger, by: c.get('user').username }, 'finger template deleted');
    bus.emit('roster:changed', {});
    return c.json({ deleted: true });
  });

  return {
    name: 'finger',
    kioskApi,
    api,
    contributeRoster(siteCode, people) {
      for (const row of forSite.iterate(siteCode)) {
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
