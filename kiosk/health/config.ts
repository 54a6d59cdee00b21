import { z } from 'zod';

/** Config section `health` of kiosk.json (owned by the health feature). */
export const healthConfigSchema = z.strictObject({
  enabled: z.boolean().default(true),
  /** Health telemetry period (DESIGN: every 60 s). */
  intervalS: z.number().min(5).max(3600).default(60),
  /** Raspberry Pi firmware tool; absent on other boards → /sys is used. */
  vcgencmd: z.string().min(1).default('vcgencmd'),
  /** Root for /proc and /sys reads (tests point it at captured files). */
  sysRoot: z.string().min(1).default('/'),
  /** Local component thresholds (the hub has its own alert rules). */
  diskLowPct: z.number().min(0).max(100).default(10),
  tempHighC: z.number().default(80),
});
export type HealthConfig = z.output<typeof healthConfigSchema>;
