import { z } from 'zod';

/**
 * Fleet updates between the hub and a kiosk's updater (HTTP under /api/v1/kiosk, device auth).
 * The updater asks GET /update for an offer, downloads the bundle for its CPU with range requests,
 * and reports every step with POST /update/report. The release itself is trusted only through its
 * Ed25519 signature (lib/release-bundle.ts), never because the hub offered it.
 */

export const updateOfferSchema = z.strictObject({
  rolloutId: z.number().int(),
  version: z.string().max(41),
  /** One bundle per CPU: size and sha256 of the whole file (a resumed download is checked against it). */
  bundles: z.record(z.string(), z.strictObject({ size: z.number().int().min(0), sha256: z.string().regex(/^[0-9a-f]{64}$/), url: z.string() })),
  /** Inside the site's install window (and outside check-in/check-out hours) now: install; otherwise only download. */
  installNow: z.boolean(),
  installWindow: z.string(),
  blackouts: z.string(),
});
export type UpdateOffer = z.infer<typeof updateOfferSchema>;

export const updateAnswerSchema = z.strictObject({
  offer: updateOfferSchema.nullable(),
  /** What the hub last heard from this kiosk's MQTT birth: the updater's proof that the hub sees the new version. */
  seen: z.strictObject({ version: z.string(), online: z.boolean(), at: z.string() }).nullable(),
});
export type UpdateAnswer = z.infer<typeof updateAnswerSchema>;

export const UPDATE_PHASES = ['downloading', 'downloaded', 'installing', 'confirmed', 'refused', 'rolled_back'] as const;
export const updateReportSchema = z.strictObject({
  rolloutId: z.number().int(),
  version: z.string().max(41),
  phase: z.enum(UPDATE_PHASES),
  fromVersion: z.string().max(41).optional(),
  /** Why it was refused or rolled back, in the kiosk's words. */
  reason: z.string().max(500).optional(),
  /** Seconds: download, verify, restartGap (old stopped → new READY), confirm (switch → confirmed). */
  timings: z.record(z.string(), z.number()).optional(),
});
export type UpdateReport = z.infer<typeof updateReportSchema>;
