import { z } from 'zod';

/** Config section `clock` of kiosk.json (owned by the clock feature). */
export const clockConfigSchema = z.strictObject({
  enabled: z.boolean().default(true),
});
