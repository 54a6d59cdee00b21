import { z } from 'zod';

/**
 * A small OpenAPI 3.1 registry. Hand-written rather than @hono/zod-openapi because feature
 * modules are plain `Hono` sub-apps (HubModule.api); switching every module to OpenAPIHono route
 * objects would change that contract mid-session. zod 4's own `z.toJSONSchema` gives the schemas,
 * so a module adds its paths with the same zod schemas it validates with.
 */
export type OpenApiOperation = {
  summary: string;
  /** Default: made from the method and path (operationIdOf), so every operation has a stable one. */
  operationId?: string;
  description?: string;
  tags?: string[];
  parameters?: { name: string; in: 'query' | 'path' | 'header'; required?: boolean; description?: string; schema: Record<string, unknown> }[];
  requestBody?: { required?: boolean; content: Record<string, { schema: Record<string, unknown> }> };
  responses: Record<string, { description: string; content?: Record<string, { schema: Record<string, unknown> }> }>;
  security?: Record<string, string[]>[];
};
export type OpenApiPaths = Record<string, Partial<Record<'get' | 'post' | 'put' | 'patch' | 'delete', OpenApiOperation>>>;

export function jsonSchema(schema: z.ZodType): Record<string, unknown> {
  return z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
}
export function json(schema: z.ZodType | Record<string, unknown>, description = 'OK') {
  return { description, content: { 'application/json': { schema: schema instanceof z.ZodType ? jsonSchema(schema) : schema } } };
}
export const errorResponse = (description: string) => json({ type: 'object', properties: { error: { type: 'string' } }, required: ['error'] }, description);

export class OpenApiRegistry {
  private readonly paths: OpenApiPaths = {};

  /** Adds paths; `base` is prefixed (e.g. '/api/v1'). */
  add(paths: OpenApiPaths, base = '/api/v1'): void {
    for (const [p, ops] of Object.entries(paths)) {
      const key = base + p;
      this.paths[key] = { ...(this.paths[key] ?? {}), ...ops };
    }
  }

  /**
   * The OpenAPI document. Filled in here rather than by each module: `operationId` where a module
   * gave none, and a 401 answer on every operation that needs credentials (the bearer and device
   * guards in app.ts answer 401 before any handler runs; test/hub/openapi-conformance.test.ts
   * calls each such operation without credentials to keep this true).
   */
  document(version: string) {
    const paths: OpenApiPaths = {};
    for (const [p, ops] of Object.entries(this.paths)) {
      paths[p] = {};
      for (const [method, op] of Object.entries(ops) as [keyof OpenApiPaths[string], OpenApiOperation][]) {
        const secured = (op.security ?? DEFAULT_SECURITY).length > 0;
        const scheme = Object.keys((op.security ?? DEFAULT_SECURITY)[0] ?? {})[0];
        const responses = secured && !op.responses['401'] ? { ...op.responses, '401': errorResponse(UNAUTHORISED[scheme ?? 'bearer'] ?? 'No or bad credentials') } : op.responses;
        paths[p][method] = { operationId: operationIdOf(method, p), ...op, parameters: withPathParameters(p, op.parameters), responses };
      }
    }
    return {
      openapi: '3.1.0',
      info: {
        title: 'Hadir hub API',
        version,
        description: 'Presensi ASN — hub API. Bearer tokens from `hadir user add`; kiosk routes use HTTP Basic deviceId:password.',
        // package.json: UNLICENSED (proprietary); SPDX has no id for that, hence a LicenseRef.
        license: { name: 'Proprietary (UNLICENSED)', identifier: 'LicenseRef-Hadir-Proprietary' },
      },
      // Relative: the hub that serves this document, whatever name or proxy it was reached by.
      servers: [{ url: '/', description: 'this hub' }],
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer' },
          device: { type: 'http', scheme: 'basic', description: 'deviceId:mqttPassword from the kiosk config' },
          staff: { type: 'http', scheme: 'bearer', description: 'a staff session token from POST /api/v1/saya/login or /saya/activate (the staff page)' },
        },
      },
      security: DEFAULT_SECURITY,
      paths,
    };
  }
}

const DEFAULT_SECURITY: Record<string, string[]>[] = [{ bearer: [] }];
const UNAUTHORISED: Record<string, string> = { bearer: 'No or bad token', device: 'Device authentication failed', staff: 'No staff session' };

/** The operation's parameters plus a `path` parameter for every `{name}` in the path it does not declare (modules need not repeat them). */
function withPathParameters(path: string, given: OpenApiOperation['parameters'] = []): OpenApiOperation['parameters'] {
  const declared = new Set(given.filter((x) => x.in === 'path').map((x) => x.name));
  const missing = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!).filter((n) => !declared.has(n));
  const out = [...given, ...missing.map((name) => ({ name, in: 'path' as const, required: true, schema: { type: 'string' } }))];
  return out.length ? out : undefined;
}

/** `GET /api/v1/devices/{id}/commands/{cmdId}` → `getDevicesByIdCommandsByCmdId`. */
export function operationIdOf(method: string, path: string): string {
  const words = path
    .replace(/^\/api\/v1(?=\/|$)/, '')
    .split('/')
    .filter(Boolean)
    .flatMap((seg) => {
      const param = /^\{(.+)\}$/.exec(seg);
      return (param ? ['by', param[1]!] : seg.split(/[^A-Za-z0-9]+/)).filter(Boolean);
    });
  return method.toLowerCase() + words.map((w) => w[0]!.toUpperCase() + w.slice(1)).join('');
}
