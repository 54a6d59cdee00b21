import { z } from 'zod';

const bcm = z.number().int().min(0).max(53);
export const OUTPUTS = ['greenLed', 'redLed', 'buzzer', 'doorRelay'] as const;
export type OutputName = (typeof OUTPUTS)[number];

/** Config section `gpio` of kiosk.json (owned by the gpio feature). Pins are BCM numbers (GPIO17 = 17). */
export const gpioConfigSchema = z
  .strictObject({
    enabled: z.boolean().default(true),
    /** sysfs GPIO class directory (tests point it at a fake tree). */
    sysfsRoot: z.string().default('/sys/class/gpio'),
    /** sysfs number of BCM 0: 'auto' reads it from gpiochip*\/base (512 on Pi 4, 571 on Pi 5 kernels ≥ 6.6; 0 on old ones). */
    chipBase: z.union([z.literal('auto'), z.number().int().min(0)]).default('auto'),
    pins: z
      .strictObject({
        greenLed: bcm.default(17),
        redLed: bcm.default(27),
        buzzer: bcm.default(22),
        /** Optional door strike relay, pulsed for a recognised person. */
        doorRelay: bcm.optional(),
        /** Optional tamper switch of the casing. */
        tamper: bcm.optional(),
      })
      .prefault({}),
    /** Outputs wired active-low (many relay boards switch on a low level). */
    activeLow: z.array(z.enum(OUTPUTS)).default([]),
    doorOpenMs: z.number().int().min(100).max(30_000).default(3000),
    /** Level the tamper input reads when the casing is open. */
    tamperOpenLevel: z.union([z.literal(0), z.literal(1)]).default(1),
  })
  .refine((c) => {
    const used = Object.values(c.pins).filter((p) => p !== undefined);
    return new Set(used).size === used.length;
  }, 'gpio.pins: each function needs its own pin');
export type GpioConfig = z.output<typeof gpioConfigSchema>;
