import type { ErrorHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { isUserError } from '../../lib/errors.js';

/**
 * The one error path of the hub's HTTP API. Every refusal is a JSON body `{error}` with one line
 * naming the problem (and, where there is one, the fix) — what the web dashboard shows
 * (hub/web/public/js/api.js) and kiosks log. A handler either throws `httpError(status, text)`,
 * throws a `UserError` (lib/errors.ts; its status, else 400), or lets zod's hook answer 400
 * (hub/http/validation.ts); `errorHandler` turns all of them into the response.
 */

/** A 4xx JSON response `{error}`; `headers` e.g. www-authenticate, retry-after, content-range. */
export function jsonError(status: ContentfulStatusCode, error: string, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify({ error }), { status, headers: { 'content-type': 'application/json', ...headers } });
}

/** Stops the request with `status` and the body `{error}` (HTTPException carries the response). */
export function httpError(status: ContentfulStatusCode, error: string, headers: Record<string, string> = {}): never {
  throw new HTTPException(status, { res: jsonError(status, error, headers) });
}

/** The hub app's onError: HTTPException and UserError as `{error}`; anything else is a bug, logged, 500. */
export function errorHandler(log: { error: (obj: object, msg: string) => void }): ErrorHandler {
  return (err, c) => {
    // Hono's own (e.g. "Malformed JSON in request body") carry no response: answer {error} like every 4xx.
    if (err instanceof HTTPException) return err.res ? err.getResponse() : jsonError(err.status as ContentfulStatusCode, err.message);
    if (isUserError(err)) return jsonError(err.status >= 400 && err.status < 500 ? (err.status as ContentfulStatusCode) : 400, err.message);
    log.error({ err, path: c.req.path }, 'http handler failed');
    return jsonError(500, 'internal error (see the hub log)');
  };
}
