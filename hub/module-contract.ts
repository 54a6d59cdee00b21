import type { EventEmitter } from 'node:events';
import type { Hono } from 'hono';
import type { Registry } from 'prom-client';
import type { Logger } from '../lib/logger.js';
import type { Clock } from '../lib/clock.js';
import type { Topics } from '../protocol/index.js';
import type { HubStores } from './store/stores.js';
import type { RosterPerson } from '../protocol/index.js';
import type { AuditLog } from './audit/index.js';
import type { Leadership } from './leader.js';

/**
 * How hub features plug in: a HubModule gets the HubContext, may mount a Hono sub-app under
 * /api/v1 (routes: authenticated; `c.get('user')` is the AuthUser), subscribe to MQTT topics through
 * the hub's own client, and add Prometheus metrics. hub/server.ts builds the modules in order.
 */
export interface HubModule {
  readonly name: string;
  /** Routes mounted at /api/v1 with no user authentication (they authenticate themselves, e.g. the staff page). */
  publicApi?: Hono;
  /** Routes mounted at /api/v1 (already behind user authentication). */
  api?: Hono<HubEnv>;
  /**
   * Who may call this module's routes that hub/http/roles.ts ROUTE_POLICY does not name, e.g.
   * `{ 'GET /probe': ['bkpsdm', 'opd_admin'] }` (paths relative to /api/v1). A route with no rule is refused for everyone.
   */
  access?: Record<string, readonly Role[]>;
  /** Routes mounted at /api/v1/kiosk (behind device authentication: HTTP Basic deviceId:mqttPassword). */
  kioskApi?: Hono<KioskEnv>;
  /** OpenAPI paths of `api`/`kioskApi`, relative to /api/v1 (hub/http/openapi.ts), merged into /api/v1/openapi.json. */
  openapi?: import('./http/openapi.js').OpenApiPaths;
  /** Adds this module's data (face/finger templates, …) to a site's roster before it is sent to kiosks. */
  contributeRoster?(siteCode: string, people: Map<string, RosterPerson>): Promise<void>;
  /** Extra fields for GET /api/v1/devices (terminal health, clock, alerts), merged into each device's view. */
  describeDevices?(deviceIds: string[]): Promise<Map<string, Record<string, unknown>>>;
  start?(): Promise<void>;
  stop?(): Promise<void>;
}

/** bkpsdm: the whole regency; opd_admin: one OPD; technician: terminals only (hub/http/roles.ts), optionally one OPD. */
export type Role = 'bkpsdm' | 'opd_admin' | 'technician';
export interface AuthUser {
  username: string;
  name: string;
  role: Role;
  /** Set for opd_admin (and a technician limited to one OPD): the only OPD they may see. */
  opdCode: string | null;
}
export type HubEnv = { Variables: { user: AuthUser } };
export interface AuthDevice {
  id: string;
  siteCode: string;
}
export type KioskEnv = { Variables: { device: AuthDevice } };

/** The hub's MQTT client (embedded aedes or external broker, same API). */
export interface HubMqtt {
  subscribe(topicFilter: string, handler: (topic: string, payload: Buffer) => void, opts?: { share?: boolean }): Promise<void>;
  publish(topic: string, payload: string | Buffer, opts?: { qos?: 0 | 1; retain?: boolean }): Promise<void>;
}

export interface HubEvents {
  /** New punches stored (after commit): attendance re-derives the affected days. */
  'punches:stored': [{ nip: string; capturedAt: string; id: string }[]];
  'device:status': [{ deviceId: string; online: boolean }];
  /** Something in a roster changed (staff, templates): the core recomputes versions and republishes config. */
  'roster:changed': [{ siteCodes?: string[] }];
}
export type HubBus = EventEmitter<HubEvents>;

export interface HubContext {
  /** Every feature's repository, from the one store factory (hub/store/open.ts); never a raw database handle. */
  stores: HubStores;
  log: Logger;
  /** The hub's one clock (lib/clock.ts), from the process edge (startHub): every "now" a module reads comes from it. */
  clock: Clock;
  bus: HubBus;
  mqtt: HubMqtt;
  topics: Topics;
  metrics: Registry;
  dataDir: string;
  /** Public base URL of the hub (for kiosk configs), e.g. http://10.0.0.5:8080 */
  publicUrl: string;
  /** The audit log: `ctx.audit.record({...})` after every change a module makes outside the API's own recording. */
  audit: AuditLog;
  /**
   * Which worker runs the periodic jobs (hub/leader.ts): wrap each timer-driven pass in
   * `leaderOf(ctx).whenLeader(job, fn)`. Absent: this process is the only worker.
   */
  leader?: Leadership;
}
