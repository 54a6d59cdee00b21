import type { Context } from 'hono';
import type { ZodError } from 'zod';
import { formatIssues } from '../../lib/config-file.js';

/** @hono/zod-validator hook shared by every route: a 400 with every zod issue on one line. */
export const validationHook = (r: { success: boolean; error?: unknown }, c: Context) => {
  if (!r.success) return c.json({ error: formatIssues(r.error as ZodError) }, 400);
};
