import { z } from 'zod';

/** Config section `face` of kiosk.json (owned by the face feature). */
export const faceConfigSchema = z.strictObject({
  enabled: z.boolean().default(true),
});
