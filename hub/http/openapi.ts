import { z } from 'zod';

/**
 * A small OpenAPI 3.1 registry. Hand-written rather than @hono/zod-openapi because feature
 * modules are plain `Hono` sub-apps (HubModule.api); switching every module to OpenAPIHono route
 * objects would change that contract mid-session. zod 4's own `z.toJSONSchema` gives the schemas,
 * so a module adds its paths with the same zod schemas it validates with.
 */
export type OpenApiOperation = {
  summary: string;
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

  document(version: string) {
    return {
      openapi: '3.1.0',
      info: { title: 'Hadir hub API', version, description: 'Presensi ASN — hub API. Bearer tokens from `hadir user add`; kiosk routes use HTTP Basic deviceId:password.' },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer' },
          device: { type: 'http', scheme: 'basic', description: 'deviceId:mqttPassword from the kiosk config' },
        },
      },
      security: [{ bearer: [] }],
      paths: this.paths,
    };
  }
}
