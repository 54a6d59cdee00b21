import { z } from 'zod';

/** Config section `gpio` of kiosk.json (owned by the gpio feature). */
export const gpioConfigSchema = z.strictObject({
  enabled: z.boolean().default(true),
});
