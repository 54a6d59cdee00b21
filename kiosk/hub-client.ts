import type { z } from 'zod';
import { formatIssues } from '../lib/config-file.js';
import type { KioskConfig } from './config.js';

/**
 * The kiosk's one way to call the hub over HTTP (protocol/kiosk-api.ts is the contract): device
 * auth (HTTP Basic `deviceId:mqttPassword`), a timeout on every request, replies validated
 * against the protocol's schemas, and one error type whose message says which request failed and
 * how: the hub was not reachable, it refused (HTTP status and its one-line reason), or it answered
 * something this kiosk does not understand.
 */

export type HubErrorKind = 'unreachable' | 'refused' | 'invalid';

export class HubError extends Error {
  override readonly name = 'HubError';
  constructor(
    message: string,
    readonly kind: HubErrorKind,
    /** HTTP status for 'refused' (and 'invalid' replies), null when no answer came. */
    readonly status: number | null,
    /** The network error's code or message for 'unreachable' (ECONNREFUSED, timeout, …). */
    readonly reason: string,
  ) {
    super(message);
  }
}

export interface HubClientOptions {
  hubUrl: string;
  /** The device's credentials; absent only before enrolment (`POST /api/v1/enrol`). */
  deviceId?: string;
  password?: string;
  /** Default timeout of a request (ms); each call may set its own. */
  timeoutMs?: number;
}

export interface HubRequest {
  method?: 'GET' | 'POST';
  /** Sent as JSON. */
  body?: unknown;
  headers?: Record<string, string>;
  /** This request's timeout (ms); null: none (a download the caller aborts itself). */
  timeoutMs?: number | null;
  signal?: AbortSignal;
  /** false for the hub's public routes (/healthz, /api/v1/enrol). */
  auth?: boolean;
}

const DEFAULT_TIMEOUT_MS = 15_000;

export class HubClient {
  private readonly authorization: string | null;

  constructor(private readonly o: HubClientOptions) {
    this.authorization = o.deviceId !== undefined && o.password !== undefined ? `Basic ${Buffer.from(`${o.deviceId}:${o.password}`).toString('base64')}` : null;
  }

  static forConfig(config: Pick<KioskConfig, 'hubUrl' | 'deviceId'> & { mqtt: { password: string } }, timeoutMs?: number): HubClient {
    return new HubClient({ hubUrl: config.hubUrl, deviceId: config.deviceId, password: config.mqtt.password, ...(timeoutMs !== undefined ? { timeoutMs } : {}) });
  }

  get hubUrl(): string {
    return this.o.hubUrl;
  }

  url(path: string): string {
    return new URL(path, this.o.hubUrl).toString();
  }

  /**
   * The hub's raw answer, whatever its status (for downloads and callers that read the status).
   * Throws HubError('unreachable') only when no answer came (network error, timeout).
   */
  async request(path: string, r: HubRequest = {}): Promise<Response> {
    const method = r.method ?? (r.body === undefined ? 'GET' : 'POST');
    const headers: Record<string, string> = { ...r.headers };
    if (r.auth !== false && this.authorization) headers.authorization = this.authorization;
    if (r.body !== undefined) headers['content-type'] = 'application/json';
    const timeoutMs = r.timeoutMs === undefined ? (this.o.timeoutMs ?? DEFAULT_TIMEOUT_MS) : r.timeoutMs;
    const signals = [r.signal, timeoutMs === null ? undefined : AbortSignal.timeout(timeoutMs)].filter((s): s is AbortSignal => !!s);
    try {
      return await fetch(this.url(path), {
        method,
        headers,
        ...(r.body !== undefined ? { body: JSON.stringify(r.body) } : {}),
        ...(signals.length ? { signal: signals.length === 1 ? signals[0] : AbortSignal.any(signals) } : {}),
      });
    } catch (e) {
      const reason = (e as Error).name === 'TimeoutError' && timeoutMs !== null ? `no answer within ${timeoutMs / 1000} s` : causeOf(e);
      throw new HubError(`hub tidak dapat dihubungi / hub not reachable: ${method} ${path}: ${reason}`, 'unreachable', null, reason);
    }
  }

  /** GET and validate a 2xx reply. */
  get<S extends z.ZodType>(path: string, schema: S, r: Omit<HubRequest, 'method' | 'body'> = {}): Promise<z.infer<S>> {
    return this.call(path, schema, { ...r, method: 'GET' });
  }

  /** POST a JSON body and validate a 2xx reply. */
  post<S extends z.ZodType>(path: string, body: unknown, schema: S, r: Omit<HubRequest, 'method' | 'body'> = {}): Promise<z.infer<S>> {
    return this.call(path, schema, { ...r, method: 'POST', body });
  }

  private async call<S extends z.ZodType>(path: string, schema: S, r: HubRequest): Promise<z.infer<S>> {
    const res = await this.request(path, r);
    const what = `${r.method} ${path}`;
    const text = await res.text().catch((e: Error) => {
      throw new HubError(`hub tidak dapat dihubungi / hub not reachable: ${what}: ${causeOf(e)}`, 'unreachable', null, causeOf(e));
    });
    if (!res.ok) {
      const reason = errorText(text);
      throw new HubError(`hub menolak / hub refused ${what} (HTTP ${res.status}): ${reason || 'no reason given'}`, 'refused', res.status, reason);
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new HubError(`hub answered ${what} with something that is not JSON: ${text.slice(0, 120)}`, 'invalid', res.status, 'not JSON');
    }
    const parsed = schema.safeParse(body);
    if (!parsed.success) {
      const issues = formatIssues(parsed.error);
      throw new HubError(`hub answered ${what} with an unexpected shape: ${issues} — update the kiosk software to the hub's version`, 'invalid', res.status, issues);
    }
    return parsed.data;
  }
}

/** The hub's `{error}` line when it sent one, the start of a body that is not JSON, else ''. */
function errorText(text: string): string {
  try {
    const b = JSON.parse(text) as { error?: unknown } | null;
    return typeof b?.error === 'string' ? b.error.slice(0, 200) : '';
  } catch {
    return text.slice(0, 200);
  }
}

/** The useful part of a fetch failure: undici hides ECONNREFUSED & co. in `cause`. */
export function causeOf(e: unknown): string {
  const err = e as Error & { cause?: { code?: string; message?: string; errors?: { code?: string }[] } };
  return (err.cause?.code ?? err.cause?.errors?.[0]?.code ?? err.cause?.message ?? err.message ?? String(e)).slice(0, 200);
}
