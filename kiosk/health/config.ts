import { z } from 'zod';

/** Config section `health` of kiosk.json (owned by the health feature). */
export const healthConfigSchema = z.strictObject({
  enabled: z.boolean().default(true),
});
