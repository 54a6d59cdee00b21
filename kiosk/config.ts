import { z } from 'zod';
import { DEFAULT_PREFIX, deviceIdSchema } from '../protocol/index.js';
import { loadConfigFile } from '../lib/config-file.js';
import { faceConfigSchema } from '../face/config.js';
import { fingerConfigSchema } from './finger/config.js';
import { gpioConfigSchema } from './gpio/config.js';
import { clockConfigSchema } from './clock/config.js';
import { healthConfigSchema } from './health/config.js';
import { updateConfigSchema } from './updater/config.js';

/**
 * The kiosk's config file (/etc/hadir/kiosk.json, mode 0600: it holds the device's private key
 * and MQTT password). One schema, all errors reported at once. Each feature owns its section
 * schema in its own folder.
 */
export const kioskConfigSchema = z.strictObject({
  deviceId: deviceIdSchema,
  siteCode: z.string().min(1),
  hubUrl: z.url(),
  dataDir: z.string().min(1).default('/var/lib/hadir'),
  mqtt: z.strictObject({
    url: z.string().regex(/^(mqtts?|wss?|tcp):\/\//, 'mqtt.url must start with mqtt://, mqtts://, ws:// or wss://'),
    username: z.string().min(1),
    password: z.string().min(1),
    prefix: z.string().default(DEFAULT_PREFIX),
  }),
  /** Ed25519 private key (PKCS#8 PEM) made on the device; never leaves it. */
  privateKeyPem: z.string().includes('PRIVATE KEY'),
  /** Same person again within this many minutes → "already recorded", no new punch. */
  dedupWindowMin: z.number().min(0).max(240).default(5),
  /** Delivered punches are kept this long for audit, then pruned. */
  retentionDays: z.number().int().min(1).default(90),
  /** IANA time zone for times shown to staff (WIB Asia/Jakarta, WITA Asia/Makassar, WIT Asia/Jayapura). */
  timeZone: z
    .string()
    .refine((tz) => {
      try {
        new Intl.DateTimeFormat('en', { timeZone: tz });
        return true;
      } catch {
        return false;
      }
    }, 'timeZone must be an IANA zone such as Asia/Jakarta')
    .default('Asia/Jakarta'),
  /** Local screen page (Chromium kiosk mode shows it). */
  screen: z
    .strictObject({
      port: z.number().int().min(0).max(65535).default(8090),
      host: z.string().default('127.0.0.1'),
      /** Live camera preview on the screen: frames per second (0 = off) and JPEG width. 5 fps costs a Pi 4 little (see `hadir bench preview`). */
      previewFps: z.number().min(0).max(30).default(5),
      previewWidth: z.number().int().min(80).max(1280).default(360),
    })
    .prefault({}),
  /** Spoken confirmation / refusal (espeak-ng, Indonesian voice) — see kiosk/sound/. */
  sound: z
    .strictObject({
      enabled: z.boolean().default(true),
      command: z.string().min(1).default('espeak-ng'),
      voice: z.string().min(1).default('id'),
      /** Tests and recordings: write each utterance as a WAV here instead of playing it. */
      wavDir: z.string().min(1).optional(),
    })
    .prefault({}),
  face: faceConfigSchema.prefault({}),
  finger: fingerConfigSchema.prefault({}),
  gpio: gpioConfigSchema.prefault({}),
  clock: clockConfigSchema.prefault({}),
  health: healthConfigSchema.prefault({}),
  update: updateConfigSchema.prefault({}),
});
export type KioskConfig = z.output<typeof kioskConfigSchema>;
export type KioskConfigInput = z.input<typeof kioskConfigSchema>;

export function loadKioskConfig(path: string): KioskConfig {
  return loadConfigFile(kioskConfigSchema, path, 'fix the file or re-create it with `hadir device add --kiosk-config` / provisioning');
}
