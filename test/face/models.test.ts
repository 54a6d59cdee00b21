import { createServer, type Server } from 'node:http';
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { fetchModels, loadManifest, verifyModels } from '../../models/store.js';
import { isUserError } from '../../lib/errors.js';
import { SHARED, tmp } from './helpers.js';

const run = promisify(execFile);
const SHARED_MODELS = join(SHARED, 'models');
const BIN = resolve('bin/hadir.mjs');

describe('hadir models fetch / verify', () => {
  const manifest = loadManifest();
  let server: Server | null = null;
  afterAll(() => server?.close());

  it('the manifest pins every model the engine loads, with sha256 and size', () => {
    expect(manifest.models.map((m) => m.role).sort()).toEqual(['detector', 'embedding', 'liveness', 'liveness']);
    for (const m of manifest.models) {
      expect(m.sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(readFileSync(join(SHARED_MODELS, m.file)).length).toBe(m.bytes);
    }
  });

  it('copies from a folder, verifies, and is idempotent', async () => {
    const dir = tmp('models');
    const lines: string[] = [];
    const r = await fetchModels({ from: SHARED_MODELS, dir, progress: (l) => lines.push(l) });
    expect(r.installed.length).toBe(manifest.models.length);
    expect(lines.join('\n')).toMatch(/sha256 ok/);
    expect((await verifyModels(dir)).every((x) => x.state === 'ok')).toBe(true);
    expect(readdirSync(dir).filter((f) => f.startsWith('.staging'))).toEqual([]);
    const again = await fetchModels({ from: SHARED_MODELS, dir });
    expect(again.unchanged.length).toBe(manifest.models.length);
  });

  it('detects a tampered installed file (verify) and repairs it (fetch)', async () => {
    const dir = tmp('models-tamper');
    await fetchModels({ from: SHARED_MODELS, dir });
    const f = join(dir, manifest.models[1]!.file);
    const buf = readFileSync(f);
    buf[1000] = buf[1000]! ^ 0xff; // same size, one flipped byte
    writeFileSync(f, buf);
    const rows = await verifyModels(dir);
    expect(rows.find((x) => x.file === manifest.models[1]!.file)?.state).toBe('sha256');
    // the CLI exits non-zero with one clear line
    const cli = await run('node', [BIN, 'models', 'verify', '--dir', dir]).catch((e: { code: number; stderr: string }) => e);
    expect((cli as { code: number }).code).toBe(2);
    expect((cli as { stderr: string }).stderr).toMatch(/^hadir: 1 of 4 model files .* sha256.*hadir models fetch/m);
    await fetchModels({ from: SHARED_MODELS, dir });
    expect((await verifyModels(dir)).every((x) => x.state === 'ok')).toBe(true);
  });

  it('refuses a tampered or missing source file and changes nothing', async () => {
    const src = tmp('models-src');
    for (const m of manifest.models) copyFileSync(join(SHARED_MODELS, m.file), join(src, m.file));
    const bad = join(src, manifest.models[3]!.file);
    const b = readFileSync(bad);
    b[b.length - 5] = b[b.length - 5]! ^ 1;
    writeFileSync(bad, b);
    const dir = tmp('models-dst');
    const err = await fetchModels({ from: src, dir }).catch((e: unknown) => e);
    expect(isUserError(err)).toBe(true);
    expect((err as Error).message).toMatch(new RegExp(`${manifest.models[3]!.file.replace(/\./g, '\\.')} .* sha256 [0-9a-f]{64}, the manifest expects`));
    expect(readdirSync(dir)).toEqual([]); // not even the good files: all or nothing
    const missing = await fetchModels({ from: tmp('empty'), dir }).catch((e: unknown) => e);
    expect((missing as Error).message).toMatch(/is missing in .* point --from at a folder/);
  });

  it('downloads from an http base URL', async () => {
    server = createServer((req, res) => {
      const name = (req.url ?? '/').slice(1);
      const p = join(SHARED_MODELS, name);
      if (!/^[\w.-]+\.onnx$/.test(name) || !existsSync(p)) return res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(readFileSync(p));
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const dir = join(tmp('models-http'), 'nested', 'onnx');
    mkdirSync(dir, { recursive: true });
    const r = await fetchModels({ from: `http://127.0.0.1:${port}/`, dir });
    expect(r.installed.length).toBe(4);
    const e404 = await fetchModels({ from: `http://127.0.0.1:${port}/nothing-here`, dir: tmp('models-404') }).catch((e: unknown) => e);
    expect((e404 as Error).message).toMatch(/HTTP 404/);
  });

  it('HADIR_MODEL_DIR chooses the folder for the CLI', async () => {
    const dir = tmp('models-env');
    const { stdout } = await run('node', [BIN, 'models', 'fetch', '--from', SHARED_MODELS], { env: { ...process.env, HADIR_MODEL_DIR: dir } });
    expect(stdout).toContain(dir);
    expect(readdirSync(dir).sort()).toEqual(manifest.models.map((m) => m.file).sort());
  });
});
