import { z } from 'zod';
import { deviceIdSchema, nipSchema } from './schemas.js';

/**
 * The kiosk↔hub HTTP contract: every request a kiosk makes to the hub and every reply it reads.
 * Under `/api/v1/kiosk` the kiosk authenticates with HTTP Basic `deviceId:mqttPassword`
 * (kiosk/hub-client.ts sends it; hub/http/auth.ts checks it); `/api/v1/enrol` is the one call made
 * before the kiosk has credentials. The hub validates requests with these schemas, the kiosk
 * validates replies with them: both sides read one definition. Fleet updates (`/update`,
 * `/update/report`) are in update.ts.
 */

/** Where the device-authenticated part of the hub's API is mounted. */
export const KIOSK_API_BASE = '/api/v1/kiosk';

/** Paths under the hub's origin: the kiosk calls them, the hub serves them (kioskRoute). */
export const KIOSK_API = {
  enrol: '/api/v1/enrol',
  roster: `${KIOSK_API_BASE}/roster`,
  state: `${KIOSK_API_BASE}/state`,
  time: `${KIOSK_API_BASE}/time`,
  faceEnrol: `${KIOSK_API_BASE}/face/enrol`,
  fingerTemplates: `${KIOSK_API_BASE}/finger/templates`,
  update: `${KIOSK_API_BASE}/update`,
  updateReport: `${KIOSK_API_BASE}/update/report`,
  healthz: '/healthz',
} as const;

/** A KIOSK_API path as the hub's kiosk sub-app (mounted at KIOSK_API_BASE) routes it: `/roster`. */
export function kioskRoute(path: (typeof KIOSK_API)[keyof typeof KIOSK_API]): string {
  if (!path.startsWith(`${KIOSK_API_BASE}/`)) throw new Error(`${path} is not under ${KIOSK_API_BASE}`);
  return path.slice(KIOSK_API_BASE.length);
}

// ---------------------------------------------------------------- enrolment (no device auth yet)

/** POST /api/v1/enrol: a one-time token and the public key made on the device. */
export const enrolRequestSchema = z.strictObject({
  token: z.string().min(10).max(200),
  publicKeyPem: z.string().min(40).max(2000),
  deviceId: deviceIdSchema.optional(),
  siteCode: z.string().min(1).max(64).optional(),
});
export type EnrolRequest = z.infer<typeof enrolRequestSchema>;

/** What the hub answers on POST /api/v1/enrol. */
export const enrolReplySchema = z.object({
  deviceId: z.string(),
  siteCode: z.string(),
  hubUrl: z.string(),
  mqtt: z.object({ url: z.string(), username: z.string(), password: z.string(), prefix: z.string() }),
});
export type EnrolReply = z.infer<typeof enrolReplySchema>;

// ---------------------------------------------------------------- roster

/** A roster entry as the kiosk sees it (DESIGN: lowdb snapshot pushed by the hub). */
export interface RosterPerson {
  nip: string;
  name: string;
  /** Face templates tagged with the model id that produced them (vector: base64 little-endian float32). */
  face?: { modelId: string; vector: string }[];
  /** Fingerprint templates (sensor character file, base64) per finger. */
  finger?: { finger: number; template: string; updatedAt: string }[];
}
export interface Roster {
  version: string;
  site: { code: string; name: string };
  people: RosterPerson[];
  fetchedAt: string;
}

/**
 * GET /api/v1/kiosk/roster. Loose on person fields: modules add theirs (face, finger), and a kiosk
 * that does not know one keeps it without failing.
 */
export const rosterReplySchema = z.object({
  version: z.string().min(1),
  site: z.object({ code: z.string(), name: z.string() }),
  people: z.array(z.looseObject({ nip: z.string().min(1), name: z.string() })),
  fetchedAt: z.string().optional(),
});
export type RosterReply = z.infer<typeof rosterReplySchema>;

// ---------------------------------------------------------------- state and time

/** GET /api/v1/kiosk/state: what the hub has stored of this device's punches. */
export const kioskStateReplySchema = z.object({
  deviceId: z.string(),
  maxSeq: z.number().int().min(0).refine(Number.isSafeInteger, 'maxSeq must be a safe integer'),
  contiguousSeq: z.number().int().min(0).optional(),
});
export type KioskStateReply = z.infer<typeof kioskStateReplySchema>;

/** GET /api/v1/kiosk/time: one NTP-style exchange, ms since epoch at receipt and at sending. */
export const hubTimeReplySchema = z.object({ receivedMs: z.number(), sentMs: z.number() });
export type HubTimeReply = z.infer<typeof hubTimeReplySchema>;

// ---------------------------------------------------------------- enrolment uploads

/** A face enrolment is 3–5 aligned crops. */
export const MIN_ENROL = 3;
export const MAX_ENROL = 5;

/** POST /api/v1/kiosk/face/enrol: crops captured in kiosk enrolment mode. */
export const faceUploadSchema = z.strictObject({
  nip: nipSchema,
  /** Canonical aligned crops (160x160) as base64 JPEG. */
  crops: z.array(z.base64().max(200_000)).min(MIN_ENROL).max(MAX_ENROL),
});
export type FaceUpload = z.infer<typeof faceUploadSchema>;
/** The hub's 201 to a face upload: the NIP and what was stored (crops, models). */
export const faceUploadReplySchema = z.looseObject({ nip: z.string() });

/** Character files of R30x/AS608 are 512 bytes, R503 up to 1536; anything outside is not a template. */
const MIN_TEMPLATE = 256;
const MAX_TEMPLATE = 4096;

/** POST /api/v1/kiosk/finger/templates: a template enrolled at the kiosk's sensor. */
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
export type FingerUpload = z.infer<typeof fingerUploadSchema>;
export const fingerUploadReplySchema = z.object({ nip: z.string(), finger: z.number(), sha256: z.string(), bytes: z.number() });

/** Every error the hub answers carries one line of why. */
export const errorReplySchema = z.object({ error: z.string() });
