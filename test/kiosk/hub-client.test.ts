import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { KIOSK_API, hubTimeReplySchema, kioskStateReplySchema, rosterReplySchema } from '../../protocol/index.js';
import { HubClient, HubError } from '../../kiosk/hub-client.js';

/** A real HTTP server on a loopback port answering as `handler` says (the hub's side of the contract). */
async function server(handler: (req: IncomingMessage, res: ServerResponse, body: string) => void): Promise<{ url: string; seen: { method?: string; url?: string; auth?: string; body: string }[]; close(): Promise<void> }> {
  const seen: { method?: string; url?: string; auth?: string; body: string }[] = [];
  const s: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      seen.push({ method: req.method, url: req.url, auth: req.headers.authorization, body });
      handler(req, res, body);
    });
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(s.address() as AddressInfo).port}`,
    seen,
    close: async () => {
      s.closeAllConnections();
      await new Promise<void>((r) => s.close(() => r()));
    },
  };
}

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

const json = (res: ServerResponse, status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));

describe('HubClient: the kiosk’s one way to call the hub over HTTP', () => {
  it('sends HTTP Basic deviceId:password and returns the reply validated against the protocol schema', async () => {
    const hub = await server((_req, res) => json(res, 200, { deviceId: 'k-1', maxSeq: 41, contiguousSeq: 41 }));
    closers.push(hub.close);
    const client = new HubClient({ hubUrl: hub.url, deviceId: 'k-1', password: 's3cret' });
    expect(await client.get(KIOSK_API.state, kioskStateReplySchema)).toEqual({ deviceId: 'k-1', maxSeq: 41, contiguousSeq: 41 });
    expect(hub.seen[0]).toMatchObject({ method: 'GET', url: '/api/v1/kiosk/state', auth: `Basic ${Buffer.from('k-1:s3cret').toString('base64')}` });
  });

  it('POSTs JSON bodies; public routes go without credentials', async () => {
    const hub = await server((req, res) => (req.url === '/healthz' ? res.writeHead(200).end('ok') : json(res, 201, { receivedMs: 1, sentMs: 2 })));
    closers.push(hub.close);
    const client = new HubClient({ hubUrl: hub.url, deviceId: 'k-1', password: 'p' });
    await client.post('/x', { a: 1 }, hubTimeReplySchema);
    expect(hub.seen[0]).toMatchObject({ method: 'POST', body: '{"a":1}' });
    expect((await client.request(KIOSK_API.healthz, { auth: false })).status).toBe(200);
    expect(hub.seen[1]!.auth).toBeUndefined();
  });

  it('a refusal names the request, the HTTP status and the hub’s one-line reason', async () => {
    const hub = await server((_req, res) => json(res, 403, { error: 'perangkat dinonaktifkan / device disabled' }));
    closers.push(hub.close);
    const e = await new HubClient({ hubUrl: hub.url, deviceId: 'k-1', password: 'p' }).get(KIOSK_API.roster, rosterReplySchema).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(HubError);
    expect(e).toMatchObject({ kind: 'refused', status: 403 });
    expect((e as Error).message).toBe('hub menolak / hub refused GET /api/v1/kiosk/roster (HTTP 403): perangkat dinonaktifkan / device disabled');
  });

  it('a reply of another shape is refused with the fields that are wrong, not half-understood', async () => {
    const hub = await server((_req, res) => json(res, 200, { deviceId: 'k-1', maxSeq: -3 }));
    closers.push(hub.close);
    const e = await new HubClient({ hubUrl: hub.url, deviceId: 'k-1', password: 'p' }).get(KIOSK_API.state, kioskStateReplySchema).catch((x: unknown) => x);
    expect(e).toMatchObject({ kind: 'invalid', status: 200 });
    expect((e as Error).message).toMatch(/^hub answered GET \/api\/v1\/kiosk\/state with an unexpected shape: .*maxSeq/);
  });

  it('a hub that does not answer in time is "unreachable" after the timeout, with the time in the message', async () => {
    const hub = await server(() => {}); // never answers
    closers.push(hub.close);
    const t0 = Date.now();
    const e = await new HubClient({ hubUrl: hub.url, deviceId: 'k-1', password: 'p', timeoutMs: 300 }).get(KIOSK_API.time, hubTimeReplySchema).catch((x: unknown) => x);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
    expect(e).toMatchObject({ kind: 'unreachable', status: null, reason: 'no answer within 0.3 s' });
  });

  it('a closed port is "unreachable" with the network error code', async () => {
    const hub = await server(() => {});
    const url = hub.url;
    await hub.close();
    const e = await new HubClient({ hubUrl: url, deviceId: 'k-1', password: 'p' }).get(KIOSK_API.time, hubTimeReplySchema).catch((x: unknown) => x);
    expect(e).toMatchObject({ kind: 'unreachable', reason: 'ECONNREFUSED' });
    expect((e as Error).message).toMatch(/^hub tidak dapat dihubungi \/ hub not reachable: GET \/api\/v1\/kiosk\/time: ECONNREFUSED$/);
  });
});
