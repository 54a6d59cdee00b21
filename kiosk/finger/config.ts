import { z } from 'zod';

/** Config section `finger` of kiosk.json (owned by the finger feature). */
export const fingerConfigSchema = z.strictObject({
  enabled: z.boolean().default(true),
});
