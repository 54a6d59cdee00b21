import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { rootLogger } from '../../lib/logger.js';
import { startHub, type RunningHub, type StartHubOptions } from '../../hub/server.js';
import { addUser } from '../../hub/users.js';
import { enrolTestDevice, seedOrg, tmpDir, type TestDevice } from '../hub/helpers.js';

export const SITI = '198503122010011002'; // DINKES
export const BUDI = '199001012015032001'; // DINKES
export const ANI = '198001012005011003'; // DISDIK

export interface SecurityHub {
  hub: RunningHub;
  dir: string;
  base: string;
  tokens: { bkpsdm: string; dinkes: string; disdik: string; tech: string };
  /** kiosk of DINKES (PKM-01-A) and of DISDIK (SDN-01) */
  dinkesKiosk: TestDevice;
  disdikKiosk: TestDevice;
  /** JSON request to the real HTTP server; `auth` a bearer token or a device (HTTP Basic). */
  call(method: string, path: string, auth?: string | { id: string; password: string } | null, body?: unknown): Promise<{ status: number; json: any; text: string }>;
  close(): Promise<void>;
}

export const basic = (d: { id: string; password: string }) => `Basic ${Buffer.from(`${d.id}:${d.password}`).toString('base64')}`;

/** A real hub (embedded broker, every module) on a temp data dir with the test org, four users and two enrolled kiosks. */
export async function securityHub(opts: Partial<StartHubOptions> = {}): Promise<SecurityHub> {
  const dir = tmpDir('sec');
  const hub = await startHub({ dataDir: dir, httpPort: 0, mqttPort: 0, httpHost: '127.0.0.1', mqttHost: '127.0.0.1', env: {}, defaultMetrics: false, log: rootLogger.child({ component: 'hub' }, { level: 'silent' }), ...opts });
  seedOrg(hub.db);
  const now = new Date();
  const tokens = {
    bkpsdm: (await addUser(hub.store, { username: 'bkpsdm1', name: 'BKPSDM', role: 'bkpsdm', now })).token,
    dinkes: (await addUser(hub.store, { username: 'dinkes1', name: 'Admin Dinkes', role: 'opd_admin', opdCode: 'DINKES', now })).token,
    disdik: (await addUser(hub.store, { username: 'disdik1', name: 'Admin Disdik', role: 'opd_admin', opdCode: 'DISDIK', now })).token,
    tech: (await addUser(hub.store, { username: 'tek1', name: 'Teknisi', role: 'technician', now })).token,
  };
  const dinkesKiosk = await enrolTestDevice(hub.store, 'PKM-01-A', 'kiosk-pkm-01');
  const disdikKiosk = await enrolTestDevice(hub.store, 'SDN-01', 'kiosk-sdn-01');
  const base = `http://127.0.0.1:${hub.httpPort}`;
  return {
    hub, dir, base, tokens, dinkesKiosk, disdikKiosk,
    async call(method, path, auth, body) {
      const headers: Record<string, string> = {};
      if (typeof auth === 'string') headers.authorization = `Bearer ${auth}`;
      else if (auth) headers.authorization = basic(auth);
      if (body !== undefined) headers['content-type'] = 'application/json';
      const r = await fetch(base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
      const text = await r.text();
      let json: unknown = null;
      try {
        json = JSON.parse(text);
      } catch {
        /* not JSON */
      }
      return { status: r.status, json, text };
    },
    async close() {
      await hub.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const dbPath = (h: SecurityHub) => join(h.dir, 'hub.db');
