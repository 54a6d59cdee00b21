import type { AddressInfo } from 'node:net';
import { Hono } from 'hono';
import { stream as honoStream, streamSSE } from 'hono/streaming';
import { serve, type ServerType } from '@hono/node-server';
import { isErrno, UserError } from '../../lib/errors.js';
import type { Logger } from '../../lib/logger.js';
import { iso, systemClock, type Clock } from '../../lib/clock.js';
import type { KioskBus, KioskEvents } from '../extension-api.js';
import { nipSchema } from '../../protocol/index.js';
import type { Feedback, FeedbackEvent } from '../types.js';
import { componentName, describe, type ScreenEvent, type ScreenView } from './view.js';
import { SCREEN_HTML } from './page.js';
import { PreviewFeed } from './preview.js';

/** How long a result (name, time, face crop) stays on screen; then it is gone from the page AND from /state. */
export const RESULT_MS = 8000;

export interface ScreenOptions {
  host: string;
  port: number;
  timeZone: string;
  bus: KioskBus;
  status: () => { siteName: string; deviceId: string; connected: boolean; backlog: number; faults?: string[] };
  log: Logger;
  /** Live camera preview: frames per second and width of the JPEGs (0 fps = off). */
  preview?: { fps: number; width: number };
  /** Result display time (tests shorten it). */
  resultMs?: number;
  /** Stamps events shown without a time of their own (default: the system clock). */
  now?: Clock;
}

/**
 * The local page Chromium shows full-screen on the kiosk: clock, site, last event, connection and
 * backlog, pushed with Server-Sent Events (`/events`). It is a Feedback output like the GPIO LEDs.
 * `/state` returns the same view as JSON (tests, troubleshooting with curl).
 */
export class ScreenServer implements Feedback {
  private server: ServerType | null = null;
  private last: ScreenEvent | null = null;
  private readonly clients = new Set<(view: ScreenView) => void>();
  private readonly closers = new Set<() => void>();
  private timer: NodeJS.Timeout | null = null;
  private readonly offs: (() => void)[] = [];
  private expiry: NodeJS.Timeout | null = null;
  readonly preview: PreviewFeed | null;
  port = 0;

  constructor(private readonly o: ScreenOptions) {
    this.preview = o.preview && o.preview.fps > 0 ? new PreviewFeed(o.bus, o.preview) : null;
  }

  view(): ScreenView {
    const s = this.o.status();
    return { site: s.siteName, deviceId: s.deviceId, connected: s.connected, backlog: s.backlog, timeZone: this.o.timeZone, faults: (s.faults ?? []).map(componentName), last: this.last, preview: !!this.preview };
  }

  notify(ev: FeedbackEvent): void {
    this.last = describe(ev, this.o.timeZone, iso(this.o.now ?? systemClock));
    // The result is someone's name, NIP and face: after its few seconds it is dropped here, so no
    // later viewer (a page reload, /state, the next person) can see it.
    if (this.expiry) clearTimeout(this.expiry);
    this.expiry = setTimeout(() => {
      this.last = null;
      this.expiry = null;
      this.broadcast();
    }, this.o.resultMs ?? RESULT_MS);
    this.expiry.unref();
    this.broadcast();
  }

  private broadcast(): void {
    if (this.clients.size === 0) return;
    const v = this.view();
    for (const c of this.clients) c(v);
  }

  async start(): Promise<void> {
    const app = new Hono();
    app.get('/', (c) => c.html(SCREEN_HTML));
    app.get('/state', (c) => c.json(this.view()));
    // NIP fallback (issue 17): the screen posts a typed NIP; the face feature verifies the next frames 1:1
    app.post('/claim', async (c) => {
      const body = (await c.req.json().catch(() => null)) as { nip?: unknown } | null;
      const nip = typeof body?.nip === 'string' ? body.nip.trim() : '';
      if (!nipSchema.safeParse(nip).success) return c.json({ error: 'nip tidak valid / nip is invalid: send {"nip":"<18 digits or honorer id>"}' }, 400);
      const r = await new Promise<Parameters<KioskEvents['face:claim'][0]['reply']>[0] | null>((resolve) => {
        if (this.o.bus.listenerCount('face:claim') === 0) return resolve(null);
        this.o.bus.emit('face:claim', { nip, reply: resolve });
      });
      if (!r) return c.json({ error: 'pengenalan wajah tidak aktif / face recognition is not running' }, 503);
      return r.ok ? c.json({ nip, timeoutS: r.timeoutS }, 202) : c.json({ error: r.reason }, r.status);
    });
    // Live preview as MJPEG (an <img> shows it; no script decoding), plus the box/hint over SSE.
    app.get('/preview.mjpg', (c) => {
      const feed = this.preview;
      if (!feed) return c.json({ error: 'pratinjau kamera mati / camera preview is off' }, 404);
      c.header('content-type', 'multipart/x-mixed-replace; boundary=frame');
      c.header('cache-control', 'no-store');
      return honoStream(c, async (s) => {
        let closed = false;
        let wake: () => void = () => {};
        const close = () => ((closed = true), wake());
        this.closers.add(close);
        s.onAbort(close);
        const off = feed.watch((jpeg) => {
          void s.write(`--frame\r\ncontent-type: image/jpeg\r\ncontent-length: ${jpeg.length}\r\n\r\n`).then(() => s.write(new Uint8Array(jpeg))).then(() => s.write('\r\n')).catch(close);
        });
        while (!closed) await new Promise<void>((r) => (wake = r));
        off();
        this.closers.delete(close);
      });
    });
    app.get('/events', (c) =>
      streamSSE(c, async (stream) => {
        let closed = false;
        let wake: () => void = () => {};
        const send = (v: ScreenView) => void stream.writeSSE({ event: 'view', data: JSON.stringify(v) }).catch(() => {});
        const offPreview = this.preview?.watch((_jpeg, meta) => void stream.writeSSE({ event: 'preview', data: JSON.stringify(meta) }).catch(() => {}));
        const close = () => {
          closed = true;
          wake();
        };
        this.clients.add(send);
        this.closers.add(close);
        stream.onAbort(close);
        send(this.view());
        while (!closed) await new Promise<void>((r) => (wake = r));
        offPreview?.();
        this.clients.delete(send);
        this.closers.delete(close);
      }),
    );
    this.preview?.start();
    const { bus } = this.o;
    const refresh = () => this.broadcast();
    for (const ev of ['mqtt:connected', 'mqtt:disconnected', 'punch:delivered', 'roster:updated'] as const) {
      bus.on(ev, refresh);
      this.offs.push(() => bus.off(ev, refresh));
    }
    // Backlog and connection also change without events (e.g. journal grows offline): a slow heartbeat.
    this.timer = setInterval(refresh, 5000);
    this.timer.unref();
    await new Promise<void>((resolve, reject) => {
      const server = serve({ fetch: app.fetch, hostname: this.o.host, port: this.o.port }, (info: AddressInfo) => {
        this.port = info.port;
        this.o.log.info({ url: `http://${this.o.host}:${info.port}/` }, 'screen page ready');
        resolve();
      });
      server.once('error', (e) => {
        reject(
          isErrno(e, 'EADDRINUSE')
            ? new UserError(`screen port ${this.o.port} is in use`, 'set screen.port in the kiosk config (0 = any free port)')
            : e,
        );
      });
      this.server = server;
    });
  }

  get url(): string {
    return `http://${this.o.host}:${this.port}/`;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (this.expiry) clearTimeout(this.expiry);
    this.preview?.stop();
    for (const off of this.offs.splice(0)) off();
    for (const c of [...this.closers]) c();
    const s = this.server;
    this.server = null;
    if (s) {
      (s as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
      await new Promise<void>((r) => s.close(() => r()));
    }
  }
}
