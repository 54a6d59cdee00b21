import { Hono } from 'hono';
import { zValidator } from '@hono/zod-validator';
import { z } from 'zod';
import { KIOSK_API, faceUploadSchema, kioskRoute, nipSchema } from '../../protocol/index.js';
import { isUserError } from '../../lib/errors.js';
import type { HubContext, HubEnv, HubModule, KioskEnv } from '../module-contract.js';
import { scopeOf } from '../http/auth.js';
import { errorResponse, json } from '../http/openapi.js';
import type { FaceEngine } from '../../face/engine.js';
import { CANONICAL_SIZE } from '../../face/align.js';
import { decodeImage, type RgbImage } from '../../face/image.js';
import { postGate } from '../../face/quality.js';
import { faceConfigSchema } from '../../face/config.js';
import { FaceStore } from './face-store.js';
import { hubFaceEngines } from './face-engines.js';
import { validationHook as hook } from '../http/validation.js';
import { noteAudit } from '../audit/http.js';
import { ENROL_SESSIONS_OPENAPI, NO_SESSION, enrolSessionRoutes } from './enrol-sessions.js';
import { httpError } from '../http/errors.js';

/**
 * Face enrolment at the hub: encrypted aligned crops and per-model templates (face-store.ts),
 * added to the roster of each person's site so kiosks receive them with the roster sync.
 * Routes: kiosk `POST /api/v1/kiosk/face/enrol` (crops captured in kiosk enrolment mode);
 * admin `GET /api/v1/face/enrolments`, `DELETE /api/v1/face/enrolments/{nip}`.
 */

const listQuerySchema = z.strictObject({ nip: nipSchema.optional(), opd: z.string().optional() });


export function createFaceModule(ctx: HubContext): HubModule {
  const { bus, log } = ctx;
  const store = new FaceStore(ctx.stores.face, ctx.dataDir, ctx.clock);
  const sessions = ctx.stores.enrolSessions;
  const quality = faceConfigSchema.parse({}).quality;
  // Engines load on first use (tens of MB, a second or two): a hub without face enrolment never pays.
  let engines: Promise<FaceEngine[]> | null = null;
  const getEngines = () => (engines ??= hubFaceEngines().catch((e) => ((engines = null), Promise.reject(e))));

  const kioskApi = new Hono<KioskEnv>();
  kioskApi.post(kioskRoute(KIOSK_API.faceEnrol), zValidator('json', faceUploadSchema, hook), async (c) => {
    const body = c.req.valid('json');
    const device = c.get('device');
    const staff = await store.staff(body.nip);
    if (!staff) httpError(404, `NIP ${body.nip} tidak terdaftar / is not in the staff list — import it first (hadir import staff)`);
    if (!staff.active) httpError(409, `NIP ${body.nip} tidak aktif / is inactive`);
    // Only against an enrolment an authorised user started for this NIP on this kiosk (checked before the image work, claimed before the write).
    if (!(await sessions.peek({ deviceId: device.id, nip: body.nip, method: 'face', now: new Date(ctx.clock()) }))) {
      log.warn({ nip: body.nip, deviceId: device.id }, 'face enrolment refused: no open enrolment session');
      httpError(403, NO_SESSION(body.nip, 'face', device.id));
    }
    const crops: RgbImage[] = [];
    for (const [i, b64] of body.crops.entries()) {
      let img: RgbImage;
      try {
        img = await decodeImage(Buffer.from(b64, 'base64'));
      } catch {
        httpError(400, `crops.${i}: not a JPEG/PNG image`);
      }
      if (img.width !== CANONICAL_SIZE || img.height !== CANONICAL_SIZE) httpError(400, `crops.${i}: ${img.width}x${img.height}, expected the ${CANONICAL_SIZE}x${CANONICAL_SIZE} aligned crop`);
      if (postGate(img, quality).code) httpError(422, `crops.${i}: gambar buram / blurred`);
      crops.push(img);
    }
    try {
      const engs = await getEngines();
      const before = (await store.list(null, body.nip))[0] ?? null;
      const session = await sessions.claim({ deviceId: device.id, nip: body.nip, method: 'face', now: new Date(ctx.clock()), usedFor: `face ${crops.length} crops` });
      if (!session) httpError(403, NO_SESSION(body.nip, 'face', device.id));
      const r = await store.enrol(body.nip, crops, engs, { source: device.id });
      noteAudit(c, { action: 'face.enrol.upload', target: `nip:${body.nip}`, opdCode: staff.opd_code, before, after: { ...r, session: session.id, startedBy: session.startedBy } });
      log.info({ nip: body.nip, deviceId: device.id, crops: r.crops, models: r.models, session: session.id, startedBy: session.startedBy }, 'face enrolled at kiosk');
      bus.emit('roster:changed', {});
      return c.json({ nip: body.nip, ...r }, 201);
    } catch (e) {
      if (isUserError(e)) httpError(422, e.message);
      throw e;
    }
  });

  const api = new Hono<HubEnv>();
  api.get('/face/enrolments', zValidator('query', listQuerySchema, hook), async (c) => {
    const q = c.req.valid('query');
    return c.json({ items: await store.list(scopeOf(c, q.opd), q.nip) });
  });
  api.delete('/face/enrolments/:nip', async (c) => {
    const nip = c.req.param('nip');
    if (!nipSchema.safeParse(nip).success) httpError(400, 'nip is invalid');
    const staff = await store.staff(nip);
    if (!staff) httpError(404, `NIP ${nip} tidak terdaftar / not found`);
    scopeOf(c, staff.opd_code); // 403 for another OPD's admin
    const before = (await store.list(null, nip))[0] ?? null;
    const n = await store.remove(nip);
    if (n === 0) httpError(404, `no face enrolment for NIP ${nip}`);
    noteAudit(c, { action: 'face.enrol.delete', target: `nip:${nip}`, opdCode: staff.opd_code, before, after: null });
    log.info({ nip, by: c.get('user').username }, 'face enrolment deleted');
    bus.emit('roster:changed', {});
    return c.json({ deleted: n });
  });
  api.route('/', enrolSessionRoutes(sessions, ctx.clock));

  return {
    name: 'face',
    kioskApi,
    api,
    async contributeRoster(siteCode, people) {
      for (const [nip, templates] of await store.templatesForSite(siteCode)) {
        const person = people.get(nip);
        if (person) person.face = templates;
      }
    },
    async stop() {
      const e = engines;
      engines = null;
      if (e) for (const x of await e.catch(() => [])) await x.close();
    },
    openapi: {
      ...ENROL_SESSIONS_OPENAPI,
      '/kiosk/face/enrol': {
        post: {
          summary: 'Upload 3–5 aligned face crops captured in kiosk enrolment mode (device auth); the hub computes and stores templates',
          tags: ['face'],
          requestBody: { required: true, content: { 'application/json': { schema: json(faceUploadSchema).content['application/json'].schema } } },
          responses: { '201': { description: 'enrolled' }, '400': errorResponse('invalid body'), '403': errorResponse('no open enrolment session for this NIP on this kiosk'), '404': errorResponse('unknown NIP'), '409': errorResponse('inactive NIP'), '422': errorResponse('crops refused') },
        },
      },
      '/face/enrolments': {
        get: {
          summary: 'List face enrolments (metadata only: no crops, no templates)',
          tags: ['face'],
          parameters: [
            { name: 'nip', in: 'query', schema: { type: 'string' } },
            { name: 'opd', in: 'query', schema: { type: 'string' } },
          ],
          responses: { '200': { description: 'enrolments' } },
        },
      },
      '/face/enrolments/{nip}': {
        delete: {
          summary: "Delete a person's face crops and templates; kiosks drop them at their next sync",
          tags: ['face'],
          parameters: [{ name: 'nip', in: 'path', required: true, schema: { type: 'string' } }],
          responses: { '200': { description: 'deleted' }, '403': errorResponse('another OPD'), '404': errorResponse('not found') },
        },
      },
    },
  };
}
