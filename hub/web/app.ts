import { Hono } from 'hono';
import { fileURLToPath } from 'node:url';
import { serveStatic } from '@hono/node-server/serve-static';

/** Where the dashboard's files live: plain HTML/CSS/ES modules, no build step, no CDN. */
export const PUBLIC_DIR = fileURLToPath(new URL('./public', import.meta.url));

/**
 * The web dashboard: `/` is the single page, `/assets/*` its files. All data comes from the
 * JSON API with the user's bearer token, so authorization stays in one place (the API).
 * The CSP allows only this origin: the dashboard works without internet and nothing foreign runs.
 */
export function createWebApp(): Hono {
  const web = new Hono();
  web.use('*', async (c, next) => {
    await next();
    c.header('content-security-policy', "default-src 'self'; img-src 'self' data: blob:; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'");
    c.header('x-content-type-options', 'nosniff');
    c.header('referrer-policy', 'no-referrer');
    // files change with the checkout; revalidate (Last-Modified) instead of stale caching
    c.header('cache-control', 'no-cache');
  });
  web.get('/', serveStatic({ root: PUBLIC_DIR, path: 'index.html' }));
  // The staff page (own data only, phone first): hub/web/public/saya.html.
  web.get('/saya', serveStatic({ root: PUBLIC_DIR, path: 'saya.html' }));
  web.get('/assets/*', serveStatic({ root: PUBLIC_DIR, rewriteRequestPath: (p) => p.replace(/^\/assets/, '') }));
  return web;
}
