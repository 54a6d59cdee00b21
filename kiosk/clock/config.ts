import { z } from 'zod';

/** Config section `clock` of kiosk.json (owned by the trusted-time feature). */
export const clockConfigSchema = z.strictObject({
  enabled: z.boolean().default(true),
  /** How often chrony / timesyncd is asked for the clock state. */
  pollS: z.number().min(2).max(3600).default(30),
  /** A sync whose estimated error (|offset| + root delay/2 + root dispersion) exceeds this counts as NOT synced. */
  maxErrorMs: z.number().positive().max(600_000).default(1000),
  /** A step of the wall clock against the monotonic clock larger than this is a jump (checked every second). */
  jumpThresholdMs: z.number().positive().default(2000),
  /** chronyc binary and optional `-h` host/socket (tests talk to a private chronyd). */
  chronyc: z.string().min(1).default('chronyc'),
  chronyHost: z.string().min(1).optional(),
  timedatectl: z.string().min(1).default('timedatectl'),
  /** systemd-timesyncd creates this file once it has synchronised. */
  timesyncFlag: z.string().min(1).default('/run/systemd/timesync/synchronized'),
  /**
   * Time from the hub over HTTP when neither chrony nor timesyncd is synced (UDP 123 blocked):
   * a burst of NTP-style round trips every `everyS`; the round trip bounds the error.
   */
  hub: z.strictObject({ enabled: z.boolean().default(true), everyS: z.number().min(5).max(86_400).default(300) }).prefault({}),
});
export type ClockConfig = z.output<typeof clockConfigSchema>;
