import { z } from 'zod';
import { isUuidV7 } from './ids.js';
import { DEVICE_ID_RE } from './topics.js';

/**
 * zod schemas for every kiosk↔hub message (DESIGN.md "MQTT"). Objects are strict: an unknown
 * field is rejected with a reason rather than silently ignored, so a newer kiosk talking to an
 * older hub is visible, never half-understood.
 */

export const MAX_PUNCH_BYTES = 256 * 1024; // photo evidence is a small JPEG; anything larger is refused
export const MAX_PHOTO_B64 = 200 * 1024;
/**
 * Highest seq a kiosk may use: 2^31 − 1 is 68 years at one punch a second. A seq near 2^53 would
 * leave the device nowhere to continue (its next seq is no longer a safe integer).
 */
export const MAX_SEQ = 2 ** 31 - 1;

const isoUtc = z.iso.datetime({ offset: false, precision: 3 }); // 2026-11-24T00:30:00.000Z
const hex64 = z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 lowercase hex characters');

export const deviceIdSchema = z.string().regex(DEVICE_ID_RE, 'device id: 2–63 chars of a-z, 0-9, -');
/** NIP: 18 digits for ASN/PPPK; honorer ids are free-form but bounded and safe to print. */
export const nipSchema = z.string().regex(/^[A-Za-z0-9.\-]{1,32}$/, 'nip: 1–32 of A-Z a-z 0-9 . -');

export const clockSchema = z.strictObject({
  /** Was the wall clock NTP-synchronised when the punch was taken? */
  synced: z.boolean(),
  /** Where time came from: chrony, timesyncd, system (unknown), … */
  source: z.string().min(1).max(32),
  /** Estimated offset from true time (ms) at capture, when known. */
  offsetMs: z.number().finite().optional(),
  /**
   * Bound of |capturedAt − true time| in ms, when the source measures one (source "hub": half the
   * round trip of the best exchange, aged by drift). capturedAt is already corrected by offsetMs then.
   */
  errorMs: z.number().finite().nonnegative().optional(),
  /** Linux boot id: monotonic times are only comparable within one boot. */
  bootId: z.string().min(1).max(64),
  /** Monotonic ms since boot at capture (CLOCK_MONOTONIC / process.hrtime based). */
  monoMs: z.number().finite().nonnegative(),
});
export type Clock = z.infer<typeof clockSchema>;

export const METHODS = ['face', 'finger', 'pin'] as const;
export type Method = (typeof METHODS)[number];

/** The punch minus its signature: exactly the fields that are signed and hashed. */
export const unsignedPunchSchema = z.strictObject({
  id: z.string().refine(isUuidV7, 'id must be a UUIDv7'),
  deviceId: deviceIdSchema,
  seq: z.number().int().min(1).max(MAX_SEQ),
  nip: nipSchema,
  method: z.enum(METHODS),
  capturedAt: isoUtc,
  clock: clockSchema,
  match: z.strictObject({
    score: z.number().finite(),
    liveness: z.number().finite().min(0).max(1).optional(),
  }),
  photo: z.base64().max(MAX_PHOTO_B64).optional(),
  prevHash: hex64,
});
export type UnsignedPunch = z.infer<typeof unsignedPunchSchema>;

export const punchSchema = unsignedPunchSchema.extend({
  /** Ed25519 signature (base64) over the canonical encoding of every other field. */
  sig: z.base64().length(88),
});
export type Punch = z.infer<typeof punchSchema>;

/** Hub → kiosk: which punches are stored. Only this (never the broker's PUBACK) marks a punch delivered. */
export const ackSchema = z.strictObject({
  /** Ids stored now or already stored before (a duplicate is acked again). */
  ids: z.array(z.string()).max(10_000),
  /** Highest seq s such that 1..s are all stored at the hub for this device. */
  contiguousSeq: z.number().int().min(0),
  /** Punches the hub refused for good, with the reason (bad signature, …): the kiosk flags them. */
  rejected: z.array(z.strictObject({ id: z.string(), reason: z.string().max(200) })).max(1000).optional(),
});
export type Ack = z.infer<typeof ackSchema>;

/** Retained status: birth on connect, LWT `{online:false}` when the connection dies. */
export const statusSchema = z.strictObject({
  online: z.boolean(),
  at: isoUtc.optional(),
  appVersion: z.string().max(64).optional(),
  bootId: z.string().max(64).optional(),
});
export type Status = z.infer<typeof statusSchema>;

/** Component state shown in kiosk health (camera, fingerprint, gpio, clock, …). */
export const componentStateSchema = z.strictObject({
  state: z.enum(['ok', 'degraded', 'fault', 'absent', 'disabled']),
  detail: z.string().max(300).optional(),
});
export type ComponentState = z.infer<typeof componentStateSchema>;

/**
 * Health telemetry every 60 s. Loose on purpose where hardware differs (optional fields), strict
 * on names so a typo is visible.
 */
export const healthSchema = z.strictObject({
  at: isoUtc,
  appVersion: z.string().max(64),
  modelVersion: z.string().max(128).optional(),
  uptimeS: z.number().nonnegative(),
  bootId: z.string().max(64),
  monoMs: z.number().nonnegative(),
  backlog: z.strictObject({
    undelivered: z.number().int().nonnegative(),
    oldestUndeliveredAt: isoUtc.nullable(),
    lastSeq: z.number().int().nonnegative(),
    rejected: z.number().int().nonnegative().optional(),
  }),
  clock: z
    .strictObject({
      synced: z.boolean(),
      source: z.string().max(32),
      offsetMs: z.number().finite().optional(),
      stratum: z.number().int().optional(),
      jumpDetected: z.boolean().optional(),
    })
    .optional(),
  system: z
    .strictObject({
      cpuTempC: z.number().optional(),
      throttled: z.string().max(32).optional(),
      load1: z.number().optional(),
      memFreeMb: z.number().optional(),
      memTotalMb: z.number().optional(),
      diskFreePct: z.number().optional(),
      diskFreeMb: z.number().optional(),
      rssMb: z.number().optional(),
    })
    .optional(),
  network: z
    .strictObject({
      iface: z.string().max(32).optional(),
      ip: z.string().max(64).optional(),
      rssiDbm: z.number().optional(),
    })
    .optional(),
  components: z.record(z.string().max(32), componentStateSchema).optional(),
});
export type Health = z.infer<typeof healthSchema>;

/** Retained per-device config pointer: what roster/settings version to fetch over HTTP. */
export const configSchema = z.strictObject({
  rosterVersion: z.string().max(64),
  settingsVersion: z.string().max(64).optional(),
});
export type ConfigMsg = z.infer<typeof configSchema>;

export const COMMANDS = ['sync_now', 'reload_roster', 'restart_service', 'enrol_mode', 'ping'] as const;
export const cmdSchema = z.strictObject({
  id: z.string().min(1).max(64),
  cmd: z.enum(COMMANDS),
  args: z.record(z.string(), z.unknown()).optional(),
  at: isoUtc,
});
export type Cmd = z.infer<typeof cmdSchema>;

export const cmdResultSchema = z.strictObject({
  id: z.string().min(1).max(64),
  ok: z.boolean(),
  result: z.unknown().optional(),
  error: z.string().max(500).optional(),
  at: isoUtc,
});
export type CmdResult = z.infer<typeof cmdResultSchema>;
