import { z } from 'zod';

/** Config section `finger` of kiosk.json (owned by the finger feature). */
export const fingerConfigSchema = z.strictObject({
  enabled: z.boolean().default(true),
  /** Serial device of the module (Pi UART: /dev/serial0; USB-TTL adapter: /dev/ttyUSB0). */
  port: z.string().min(1).default('/dev/serial0'),
  baudRate: z.number().int().refine((b) => b % 9600 === 0 && b >= 9600 && b <= 115200, 'baudRate must be 9600 × N (N = 1..12); modules ship at 57600').default(57600),
  /** Module address (factory 0xFFFFFFFF = 4294967295). */
  address: z.number().int().min(0).max(0xffffffff).default(0xffffffff),
  /** Module password (factory 0). */
  password: z.number().int().min(0).max(0xffffffff).default(0),
  /** Per-command timeout; capture, search and transfers get a multiple of it. */
  timeoutMs: z.number().int().min(50).max(10_000).default(1000),
  /** Use at most this many library pages (default: the module's own capacity from ReadSysPara). */
  capacity: z.number().int().min(1).max(3000).optional(),
  /** How often the glass is polled for a finger (GenImg). */
  pollMs: z.number().int().min(20).max(5000).default(150),
  /** Minimum sensor match score accepted as a punch (the module's own threshold comes first). */
  minScore: z.number().int().min(0).max(1000).default(50),
  /** R503 LED ring: breathe blue while idle, green/red after a scan. */
  ledRing: z.boolean().default(false),
  /** Reconnect back-off after a fault (ms, doubled up to maxBackoffMs). */
  backoffMs: z.number().int().min(10).default(1000),
  maxBackoffMs: z.number().int().min(10).default(30_000),
  /** Re-check the sensor's library against the map this often (someone may have emptied or swapped it). */
  verifyIntervalS: z.number().int().min(1).default(300),
  /** Seconds to wait for each capture during enrolment. */
  enrolTimeoutS: z.number().int().min(3).max(120).default(20),
  /** `--simulate`: the emulated module served on a socat pty pair. */
  simulator: z
    .strictObject({
      capacity: z.number().int().min(1).max(3000).default(200),
      packetSize: z.union([z.literal(32), z.literal(64), z.literal(128), z.literal(256)]).default(128),
      /** Keep to the 57600-baud line rate like the real UART. */
      paced: z.boolean().default(true),
      /** Unix socket in dataDir that `hadir finger sim …` uses to put fingers on the glass. */
      controlSocket: z.boolean().default(true),
    })
    .prefault({}),
});
export type FingerConfig = z.output<typeof fingerConfigSchema>;
