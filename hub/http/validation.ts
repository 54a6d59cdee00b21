import type { ZodError } from 'zod';
import { formatIssues } from '../../lib/config-file.js';
import { httpError } from './errors.js';

/** @hono/zod-validator hook shared by every route: a 400 with every zod issue on one line. */
export const validationHook = (r: { success: boolean; error?: unknown }) => {
  if (!r.success) httpError(400, formatIssues(r.error as ZodError));
};
