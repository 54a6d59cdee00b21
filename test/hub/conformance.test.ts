import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { createConfig, lintFromString } from '@redocly/openapi-core';
import { startHub, type RunningHub } from '../../hub/server.js';
import { tmpDir } from './helpers.js';

type Op = { operationId?: string; security?: unknown[]; responses: Record<string, unknown> };
type Doc = { servers?: { url: string }[]; info: { license?: unknown }; paths: Record<string, Record<string, Op>> };

/** Routes of the web dashboard (HTML and static files), not part of the JSON API. */
const WEB_UI_ROUTES = ['GET /', 'GET /assets/*', 'GET /saya'];
/**
 * Public probes with no 4xx answer at all (no input, no credentials): Redocly's
 * operation-4xx-response cannot be met truthfully for them, so exactly these are ignored.
 */
const NO_4XX = ['/healthz', '/metrics', '/api/v1/openapi.json', '/api/v1/zone'];

/**
 * The served API description and metrics against independent tools: Redocly's OpenAPI linter
 * (@redocly/openapi-core, the engine of @redocly/cli) with its strict rule set, the registered
 * Hono routes against the spec both ways, and Debian's `promtool check metrics` on /metrics.
 */
describe('hub conformance: OpenAPI (Redocly), routes ⇄ spec, Prometheus (promtool)', () => {
  let hub: RunningHub;
  let dir: string;
  let base: string;
  let doc: Doc;
  let raw: string;

  beforeAll(async () => {
    dir = tmpDir('conform');
    hub = await startHub({ dataDir: dir, httpPort: 0, mqttPort: 0, httpHost: '127.0.0.1', env: {}, defaultMetrics: true, log: pino({ level: 'silent' }) } as never);
    base = `http://127.0.0.1:${hub.httpPort}`;
    raw = await (await fetch(`${base}/api/v1/openapi.json`)).text();
    doc = JSON.parse(raw) as Doc;
  });
  afterAll(async () => {
    await hub?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('Redocly recommended-strict: no errors and no warnings (servers, licence, operationId, 4xx answers)', async () => {
    const ref = `${base}/api/v1/openapi.json`;
    const ignore = { [ref]: { 'operation-4xx-response': new Set(NO_4XX.map((p) => `#/paths/${p.replaceAll('/', '~1')}/get/responses`)) } };
    const config = await createConfig({ extends: ['recommended-strict'] } as never, { ignore } as never);
    const problems = await lintFromString({ source: raw, absoluteRef: ref, config });
    const shown = problems.filter((p) => !p.ignored).map((p) => `${p.severity} ${p.ruleId} ${p.location[0]?.pointer ?? ''}: ${p.message}`);
    expect(shown).toEqual([]);
    // The ignore list is not stale: each of those is in the spec and really has no 4xx.
    expect(problems.filter((p) => p.ignored).length).toBe(NO_4XX.length);
    expect(doc.servers?.[0]?.url).toBe('/');
    expect(doc.info.license).toBeTruthy();
    const ids = Object.values(doc.paths).flatMap((ops) => Object.values(ops).map((o) => o.operationId));
    expect(ids.every(Boolean)).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('every registered route is in the spec and every operation in the spec is a registered route', () => {
    const registered = new Set(
      hub.app.routes
        .filter((r) => r.method !== 'ALL')
        .map((r) => `${r.method} ${r.path.replace(/:([A-Za-z0-9_]+)(\{[^}]*\})?/g, '{$1}')}`)
        .filter((r) => !WEB_UI_ROUTES.includes(r)),
    );
    const described = new Set(Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`)));
    expect([...registered].filter((r) => !described.has(r)).sort(), 'routes missing from the spec').toEqual([]);
    expect([...described].filter((r) => !registered.has(r)).sort(), 'spec operations with no route').toEqual([]);
    for (const must of ['GET /api/v1/devices/{id}/commands/{cmdId}', 'GET /healthz', 'GET /metrics', 'GET /api/v1/openapi.json']) expect(described).toContain(must);
  });

  it('the security in the spec is what the guards do: secured operations answer 401 without credentials, public ones do not', async () => {
    const wrong: string[] = [];
    for (const [p, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const url = base + p.replace(/\{[^}]+\}/g, 'x');
        const res = await fetch(url, { method: method.toUpperCase(), headers: { 'content-type': 'application/json' }, ...(method === 'get' ? {} : { body: '{}' }) });
        await res.arrayBuffer();
        const secured = (op.security ?? [{ bearer: [] }]).length > 0;
        if (secured !== (res.status === 401)) wrong.push(`${method.toUpperCase()} ${p}: ${res.status} (secured in spec: ${secured})`);
        if (secured && !op.responses['401']) wrong.push(`${method.toUpperCase()} ${p}: no 401 in the spec`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('promtool check metrics passes on /metrics (no gauge named …_total)', async () => {
    const text = await (await fetch(`${base}/metrics`)).text();
    expect(text).toContain('hadir_hub_nodejs_active_handles_all');
    expect(text).not.toMatch(/^# TYPE \S+_total gauge$/m);
    const child = execFile('promtool', ['check', 'metrics']);
    const out: string[] = [];
    child.stdout?.on('data', (d: Buffer) => out.push(d.toString()));
    child.stderr?.on('data', (d: Buffer) => out.push(d.toString()));
    child.stdin?.end(text);
    const code = await new Promise<number | null>((res) => child.on('close', res));
    expect(out.join(''), 'promtool output').toBe('');
    expect(code).toBe(0);
  });
});
