import { Hono, type Context } from 'hono';
import { leaderOf } from '../leader.js';
import { zValidator } from '@hono/zod-validator';
import { Counter, Gauge } from 'prom-client';
import { z } from 'zod';
import { COMMANDS, cmdResultSchema, decodePayload, healthSchema, newId, type Cmd, type Health } from '../../protocol/index.js';
import type { HubContext, HubEnv, HubModule } from '../module-contract.js';
import { opdScope } from '../http/auth.js';
import { httpError } from '../http/errors.js';
import { errorResponse, json, type OpenApiPaths } from '../http/openapi.js';
import { pickReference, reconstructTrueTime, type SyncedReference } from '../../clock/reconstruct.js';
import { alertRulesSchema, estimateOffsetMs, evaluateAlerts, type AlertKind, type DeviceHealthView } from './rules.js';
import type { CommandRow, HealthRepository } from './store.js';
import { validationHook as hook } from '../http/validation.js';
import { noteAudit } from '../audit/http.js';
import { enrolArgsSchema, type EnrolSessionRepository } from '../biometrics/enrol-sessions.js';
import { formatIssues } from '../../lib/config-file.js';
import type { Clock } from '../../lib/clock.js';

const MAX_MSG = 64 * 1024;

export interface HealthModuleOptions {
  /** This module's clock (default the hub's, ctx.clock); a test moves it alone to make a kiosk go quiet. */
  clock?: Clock;
  /** Period of the all-devices evaluation (offline detection). */
  evaluateEveryS?: number;
  /** Health samples used for the offset estimate (most recent, same boot). */
  offsetWindow?: number;
  /** Health history kept (days); the latest message of each device is always kept. */
  historyDays?: number;
}

const commandBodySchema = z.strictObject({
  cmd: z.enum(COMMANDS),
  args: z.record(z.string(), z.unknown()).optional(),
  /** Seconds to wait for the kiosk's answer before replying 202 (pending). */
  waitS: z.number().min(0).max(120).default(15),
});
const listQuerySchema = z.strictObject({
  status: z.enum(['open', 'all']).default('open'),
  device: z.string().optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(200),
});
const historyQuerySchema = z.strictObject({
  from: z.string().optional(),
  to: z.string().optional(),
  limit: z.coerce.number().int().min(1).max(10_000).default(1440),
});

/**
 * Terminal health at the hub: keeps each kiosk's latest health and a history, estimates its clock
 * offset, raises and clears alerts by configurable rules (an admin acknowledges them), sends remote
 * commands and collects their results, suggests true times for clock-unsynced punches, and exposes
 * all of it in /api/v1 and /metrics.
 */
export class HealthModule implements HubModule {
  readonly name = 'health';
  readonly api = new Hono<HubEnv>();
  readonly openapi: OpenApiPaths = OPENAPI;
  readonly store: HealthRepository;
  private readonly sessions: EnrolSessionRepository;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private lastPruneMs = 0;
  private offAcquired?: () => void;
  private readonly waiters = new Map<string, (row: CommandRow) => void>();
  private readonly now: Clock;
  private readonly metrics;
  private readonly onStored = (list: { id: string }[]) => void this.suggestFromPunches(list.map((p) => p.id));
  private readonly onStatus = (e: { deviceId: string }) => void this.safeEvaluate(e.deviceId);
  /** Health messages of all devices are handled one after another, in arrival order (offset estimate, alerts). */
  private healthChain: Promise<void> = Promise.resolve();

  constructor(private readonly ctx: HubContext, private readonly opts: HealthModuleOptions = {}) {
    this.store = ctx.stores.health;
    this.sessions = ctx.stores.enrolSessions;
    this.now = opts.clock ?? ctx.clock;
    this.metrics = this.createMetrics();
    this.routes();
  }

  async start(): Promise<void> {
    const { mqtt, topics } = this.ctx;
    // Shared (external broker): with several hub workers each health message is stored once, by one of them.
    await mqtt.subscribe(
      topics.all('health'),
      (topic, payload) => {
        const t = topics.parse(topic);
        if (t) void this.onHealth(t.deviceId, payload);
      },
      { share: true },
    );
    await mqtt.subscribe(topics.all('cmdres'), (topic, payload) => {
      const t = topics.parse(topic);
      if (t) void this.onCommandResult(t.deviceId, payload);
    });
    this.ctx.bus.on('punches:stored', this.onStored);
    // The core's presence handler stores online/offline (retained status / LWT), then emits this.
    this.ctx.bus.on('device:status', this.onStatus);
    // Alerts for silent kiosks and the history's retention are periodic jobs: the leader's (hub/leader.ts).
    const leader = leaderOf(this.ctx);
    const periodic = () => leader.whenLeader('alerts', () => this.evaluateAll());
    this.timer = setInterval(() => void periodic(), (this.opts.evaluateEveryS ?? 60) * 1000);
    this.timer.unref();
    this.offAcquired = leader.onAcquired(() => void periodic());
    await periodic();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.offAcquired?.();
    this.ctx.bus.off('punches:stored', this.onStored);
    this.ctx.bus.off('device:status', this.onStatus);
    this.waiters.clear();
  }

  private iso(ms = this.now()): string {
    return new Date(ms).toISOString();
  }

  // ---------------------------------------------------------------- ingest

  /** Stores one health message (in arrival order with the others); resolves when it is stored and evaluated. */
  onHealth(deviceId: string, payload: Buffer): Promise<void> {
    const receivedMs = this.now();
    const run = this.healthChain.then(() => this.storeHealth(deviceId, payload, receivedMs));
    this.healthChain = run;
    return run;
  }

  private async storeHealth(deviceId: string, payload: Buffer, receivedMs: number): Promise<void> {
    if (this.stopped) return;
    const d = decodePayload(healthSchema, payload, MAX_MSG);
    if (!d.ok) return void this.ctx.log.warn({ deviceId, reason: d.reason }, 'health message ignored');
    const h = d.value;
    try {
      if (!(await this.deviceOpd(deviceId)).exists) return void this.ctx.log.warn({ deviceId }, 'health from an unknown device ignored');
      const recent = (await this.store.recent(deviceId, (this.opts.offsetWindow ?? 10) - 1)).filter((r) => r.bootId === h.bootId);
      const est = estimateOffsetMs([...recent.map((r) => ({ atMs: Date.parse(r.at), receivedAtMs: Date.parse(r.receivedAt) })), { atMs: Date.parse(h.at), receivedAtMs: receivedMs }]);
      const id = await this.store.insertHealth(deviceId, h, this.iso(receivedMs), est === null ? null : Math.round(est));
      if (h.clock?.synced) await this.suggestFrom(deviceId, { bootId: h.bootId, monoMs: h.monoMs, wallAt: h.at, offsetMs: h.clock.offsetMs ?? 0 }, `health:${id}`);
      await this.evaluate(deviceId);
    } catch (e) {
      this.ctx.log.error({ deviceId, err: (e as Error).message }, 'health message not stored');
    }
  }

  /** Enrolled, enabled devices (of one OPD when given), from the core store. */
  private async devices(opdCode?: string | null) {
    return (await this.ctx.stores.core.listDevices(opdCode ? { opdCode } : {})).filter((d) => !d.disabledAt && d.enrolledAt);
  }

  private async deviceOpd(deviceId: string): Promise<{ exists: boolean; opdCode: string | null }> {
    const d = await this.ctx.stores.core.getDevice(deviceId);
    if (!d) return { exists: false, opdCode: null };
    return { exists: true, opdCode: (await this.ctx.stores.core.getSite(d.siteCode))?.opdCode ?? null };
  }

  /** Suggested true times for this boot's unsynced punches from one synced reference (keeps the closest reference). */
  private async suggestFrom(deviceId: string, ref: SyncedReference, refName: string): Promise<number> {
    let n = 0;
    for (const p of await this.store.unsyncedPunchesBefore(deviceId, ref.bootId, ref.monoMs)) {
      const r = reconstructTrueTime({ bootId: ref.bootId, monoMs: p.monoMs }, ref);
      if (r && (p.spanMs === null || r.spanMs < p.spanMs)) {
        await this.store.setSuggestion(p.id, r.trueAt, r.spanMs, refName);
        n++;
      }
    }
    if (n) this.ctx.log.info({ deviceId, punches: n, ref: refName }, 'suggested true times for clock-unsynced punches');
    return n;
  }

  private async suggestFromPunches(ids: string[]): Promise<void> {
    try {
      const synced = await this.store.syncedPunches(ids);
      const byDevBoot = new Map<string, typeof synced>();
      for (const p of synced) byDevBoot.set(`${p.deviceId}\n${p.bootId}`, [...(byDevBoot.get(`${p.deviceId}\n${p.bootId}`) ?? []), p]);
      for (const list of byDevBoot.values()) {
        const refs = list.map((p) => ({ bootId: p.bootId, monoMs: p.monoMs, wallAt: p.capturedAt, offsetMs: p.offsetMs ?? 0, id: p.id, deviceId: p.deviceId }));
        // the earliest synced punch of the batch is the closest reference for earlier unsynced ones
        const best = pickReference({ bootId: refs[0]!.bootId, monoMs: 0 }, refs)!;
        await this.suggestFrom(best.deviceId, best, `punch:${best.id}`);
      }
    } catch (e) {
      this.ctx.log.warn({ err: (e as Error).message }, 'clock suggestion from punches failed');
    }
  }

  // ---------------------------------------------------------------- alerts

  async view(deviceId: string, online: boolean, statusAt: string | null): Promise<DeviceHealthView> {
    const latest = await this.store.latest(deviceId);
    const recent = await this.store.recent(deviceId, 60);
    let unsyncedSinceMs: number | null = null;
    for (let i = recent.length - 1; i >= 0 && recent[i]!.synced === false; i--) unsyncedSinceMs = Date.parse(recent[i]!.receivedAt);
    return {
      deviceId,
      online,
      statusAtMs: statusAt ? Date.parse(statusAt) : null,
      latest: latest ? { body: latest.body, receivedAtMs: Date.parse(latest.receivedAt) } : null,
      estOffsetMs: latest?.estOffsetMs ?? null,
      recent: recent.map((r) => ({ receivedAtMs: Date.parse(r.receivedAt), undelivered: r.undelivered })),
      unsyncedSinceMs,
    };
  }

  async evaluate(deviceId: string): Promise<void> {
    const dev = await this.ctx.stores.core.getDevice(deviceId);
    if (!dev || dev.disabledAt || !dev.enrolledAt) return;
    const now = this.now();
    const open = new Set((await this.store.openAlerts(deviceId)).map((a) => a.kind as AlertKind));
    const conds = evaluateAlerts(await this.store.rules(), await this.view(deviceId, dev.online, dev.statusAt ?? dev.enrolledAt), now, open);
    const { raised, cleared } = await this.store.syncAlerts(deviceId, conds, this.iso(now));
    for (const a of raised) this.ctx.log.warn({ deviceId, kind: a.kind, severity: a.severity }, `ALERT ${a.kind}: ${a.detail}`);
    for (const a of cleared) this.ctx.log.info({ deviceId, kind: a.kind }, `alert cleared: ${a.kind}`);
  }

  private async safeEvaluate(deviceId: string): Promise<void> {
    if (this.stopped) return;
    try {
      await this.evaluate(deviceId);
    } catch (e) {
      this.ctx.log.error({ deviceId, err: (e as Error).message }, 'alert evaluation failed');
    }
  }

  async evaluateAll(): Promise<void> {
    let devices;
    try {
      devices = await this.devices();
    } catch (e) {
      return void this.ctx.log.error({ err: (e as Error).message }, 'alert evaluation failed');
    }
    for (const d of devices) await this.safeEvaluate(d.id);
    const now = this.now();
    if (now - this.lastPruneMs < 3600_000) return;
    this.lastPruneMs = now;
    try {
      const n = await this.store.pruneHistory(this.iso(now - (this.opts.historyDays ?? 30) * 86_400_000), this.iso(now - 86_400_000));
      if (n) this.ctx.log.info({ rows: n }, 'health history pruned');
    } catch (e) {
      this.ctx.log.warn({ err: (e as Error).message }, 'health history prune failed');
    }
  }

  // ---------------------------------------------------------------- commands

  async sendCommand(deviceId: string, cmd: Cmd['cmd'], args: Record<string, unknown> | undefined, by: string, waitS: number, id: string = newId()): Promise<CommandRow> {
    const msg: Cmd = { id, cmd, ...(args ? { args } : {}), at: this.iso() };
    await this.store.insertCommand({ id: msg.id, deviceId, cmd, args, sentAt: msg.at, sentBy: by });
    this.metrics.commands.inc({ cmd });
    const answered = new Promise<CommandRow | null>((resolve) => {
      const timer = setTimeout(() => {
        this.waiters.delete(msg.id);
        resolve(null);
      }, waitS * 1000);
      this.waiters.set(msg.id, (row) => {
        clearTimeout(timer);
        resolve(row);
      });
    });
    await this.ctx.mqtt.publish(this.ctx.topics.cmd(deviceId), JSON.stringify(msg), { qos: 1 });
    this.ctx.log.info({ deviceId, cmd, id: msg.id, by }, 'remote command sent');
    return (await answered) ?? (await this.store.command(msg.id))!;
  }

  async onCommandResult(deviceId: string, payload: Buffer): Promise<void> {
    const d = decodePayload(cmdResultSchema, payload, MAX_MSG);
    if (!d.ok) return void this.ctx.log.warn({ deviceId, reason: d.reason }, 'command result ignored');
    const r = d.value;
    try {
      if (!(await this.store.setCommandResult(deviceId, r.id, r.ok, r.result, r.error, this.iso()))) return; // unknown, other device's, or repeated
    } catch (e) {
      return void this.ctx.log.error({ deviceId, err: (e as Error).message }, 'command result not stored');
    }
    this.metrics.commandResults.inc({ ok: String(r.ok) });
    const row = (await this.store.command(r.id))!;
    this.waiters.get(r.id)?.(row);
    this.waiters.delete(r.id);
  }

  // ---------------------------------------------------------------- HTTP

  private async scopedDevice(c: Context<HubEnv>, id: string): Promise<void> {
    const d = await this.deviceOpd(id);
    if (!d.exists) httpError(404, `device ${id} does not exist`);
    const scope = opdScope(c.get('user'));
    if (scope && d.opdCode !== scope) httpError(404, `device ${id} does not exist`);
  }

  /** Terminal health for GET /api/v1/devices: latest telemetry, the hub's clock-offset estimate, open alerts. */
  async describeDevices(deviceIds: string[]): Promise<Map<string, Record<string, unknown>>> {
    const open = await this.store.openAlerts();
    return new Map(
      await Promise.all(deviceIds.map(async (id): Promise<[string, Record<string, unknown>]> => {
        const l = await this.store.latest(id);
        return [
          id,
          {
            lastHealthAt: l?.receivedAt ?? null,
            estClockOffsetMs: l?.estOffsetMs ?? null,
            health: l?.body ?? null,
            alerts: open.filter((a) => a.deviceId === id).map((a) => ({ id: a.id, kind: a.kind, severity: a.severity, detail: a.detail, raisedAt: a.raisedAt, acked: !!a.ackedAt })),
          },
        ];
      })),
    );
  }

  private routes(): void {
    const api = this.api;
    api.get('/health/devices', async (c) => {
      const scope = opdScope(c.get('user'), c.req.query('opd'));
      const devices = await this.devices(scope);
      const extra = await this.describeDevices(devices.map((d) => d.id));
      const items = devices.map((d) => ({ deviceId: d.id, siteCode: d.siteCode, online: d.online, statusAt: d.statusAt, ...extra.get(d.id) }));
      return c.json({ items });
    });
    api.get('/devices/:id/health', zValidator('query', historyQuerySchema, hook), async (c) => {
      const id = c.req.param('id');
      await this.scopedDevice(c, id);
      const q = c.req.valid('query');
      return c.json({ deviceId: id, items: await this.store.history(id, q.from, q.to, q.limit) });
    });
    api.get('/alerts', zValidator('query', listQuerySchema, hook), async (c) => {
      const q = c.req.valid('query');
      const scope = opdScope(c.get('user'));
      if (q.device) await this.scopedDevice(c, q.device);
      const inScope = scope ? new Set((await this.devices(scope)).map((d) => d.id)) : null;
      const items = (await this.store.listAlerts({ open: q.status === 'open', ...(q.device ? { deviceId: q.device } : {}), limit: q.limit })).filter((a) => !inScope || inScope.has(a.deviceId));
      return c.json({ items });
    });
    api.post('/alerts/:id/ack', async (c) => {
      const id = Number(c.req.param('id'));
      const a = Number.isInteger(id) ? await this.store.alert(id) : null;
      if (!a) return httpError(404, `alert ${c.req.param('id')} does not exist`);
      await this.scopedDevice(c, a.deviceId);
      if (a.ackedAt) return httpError(409, `alert ${id} was already acknowledged by ${a.ackedBy} at ${a.ackedAt}`);
      await this.store.ackAlert(id, c.get('user').username, this.iso());
      const after = await this.store.alert(id);
      noteAudit(c, { action: 'alert.ack', target: `alert:${id}`, opdCode: (await this.deviceOpd(a.deviceId)).opdCode ?? null, before: a, after });
      return c.json(after);
    });
    api.get('/health/rules', async (c) => c.json(await this.store.rules()));
    api.put('/health/rules', zValidator('json', alertRulesSchema, hook), async (c) => {
      const rules = c.req.valid('json');
      noteAudit(c, { action: 'health.rules.set', target: 'health-rules', opdCode: null, before: await this.store.rules(), after: rules });
      await this.store.setRules(rules, c.get('user').username, this.iso());
      await this.evaluateAll();
      return c.json(rules);
    });
    api.post('/devices/:id/commands', zValidator('json', commandBodySchema, hook), async (c) => {
      const id = c.req.param('id');
      await this.scopedDevice(c, id);
      const b = c.req.valid('json');
      const user = c.get('user');
      const cmdId = newId();
      let args = b.args;
      if (b.cmd === 'enrol_mode') {
        // Opens the enrolment session the kiosk's upload must claim; only for an employee this user may manage.
        const a = enrolArgsSchema.safeParse(b.args ?? {});
        if (!a.success) return httpError(400, `enrol_mode args: ${formatIssues(a.error)}`);
        const staff = await this.sessions.staff(a.data.nip);
        if (!staff) return httpError(404, `NIP ${a.data.nip} tidak terdaftar / is not in the staff list`);
        if (!staff.active) return httpError(409, `NIP ${a.data.nip} tidak aktif / is inactive`);
        const scope = opdScope(user);
        if (scope && staff.opd_code !== scope) return httpError(403, `NIP ${a.data.nip} belongs to another OPD: ${user.username} may enrol only staff of OPD ${scope}`);
        const session = await this.sessions.start({ id: cmdId, deviceId: id, args: a.data, opdCode: staff.opd_code, by: user.username, now: new Date(this.now()) });
        args = { ...a.data };
        noteAudit(c, { action: 'enrol.session.start', target: `nip:${a.data.nip}`, opdCode: staff.opd_code, after: { deviceId: id, ...a.data, session: session.id, expiresAt: session.expiresAt } });
      } else {
        noteAudit(c, { action: `device.command.${b.cmd}`, target: `device:${id}`, opdCode: (await this.deviceOpd(id)).opdCode ?? null, after: { cmd: b.cmd, args: b.args ?? null, id: cmdId } });
      }
      const row = await this.sendCommand(id, b.cmd, args, user.username, b.waitS, cmdId);
      return c.json({ ...row, status: row.resultAt ? 'done' : 'pending' }, row.resultAt ? 200 : 202);
    });
    api.get('/devices/:id/commands', async (c) => {
      const id = c.req.param('id');
      await this.scopedDevice(c, id);
      return c.json({ items: (await this.store.commands(id, 100)).map((r) => ({ ...r, status: r.resultAt ? 'done' : 'pending' })) });
    });
    api.get('/devices/:id/commands/:cmdId', async (c) => {
      const id = c.req.param('id');
      await this.scopedDevice(c, id);
      const row = await this.store.command(c.req.param('cmdId'));
      if (!row || row.deviceId !== id) return httpError(404, `command ${c.req.param('cmdId')} does not exist for device ${id}`);
      return c.json({ ...row, status: row.resultAt ? 'done' : 'pending' });
    });
    api.get('/clock/suggestions', async (c) => {
      const device = c.req.query('device');
      if (device) await this.scopedDevice(c, device);
      const scope = opdScope(c.get('user'));
      const inScope = scope ? new Set((await this.devices(scope)).map((d) => d.id)) : null;
      const items = (await this.store.suggestions({ ...(device ? { deviceId: device } : {}), pendingOnly: c.req.query('all') !== '1', limit: 1000 })).filter((p) => !inScope || inScope.has(p.deviceId as string));
      return c.json({ items });
    });
  }

  // ---------------------------------------------------------------- metrics

  private createMetrics() {
    const registers = [this.ctx.metrics];
    const self = this;
    const perDevice = (name: string, help: string, pick: (h: Health, est: number | null) => number | undefined | null) =>
      new Gauge({
        name,
        help,
        labelNames: ['device'],
        registers,
        async collect() {
          const devices = await self.devices();
          const latest = await Promise.all(devices.map((d) => self.store.latest(d.id)));
          this.reset();
          for (const [i, d] of devices.entries()) {
            const l = latest[i];
            const v = l ? pick(l.body, l.estOffsetMs) : undefined;
            if (v !== undefined && v !== null) this.set({ device: d.id }, v);
          }
        },
      });
    perDevice('hadir_kiosk_cpu_temp_celsius', 'CPU temperature reported by the kiosk', (h) => h.system?.cpuTempC);
    perDevice('hadir_kiosk_disk_free_ratio', 'Free disk (0..1) reported by the kiosk', (h) => (h.system?.diskFreePct === undefined ? undefined : h.system.diskFreePct / 100));
    perDevice('hadir_kiosk_clock_offset_seconds', "Hub's estimate of the kiosk clock offset (positive = kiosk ahead)", (_h, est) => (est === null ? null : est / 1000));
    perDevice('hadir_kiosk_clock_synced', 'Kiosk reports an NTP-synchronised clock (1/0)', (h) => (h.clock ? (h.clock.synced ? 1 : 0) : undefined));
    perDevice('hadir_kiosk_backlog_undelivered', 'Punches journaled on the kiosk but not yet acknowledged by the hub', (h) => h.backlog.undelivered);
    perDevice('hadir_kiosk_uptime_seconds', 'Kiosk app uptime', (h) => h.uptimeS);
    new Gauge({
      name: 'hadir_kiosk_health_age_seconds',
      help: 'Seconds since the last health message of each kiosk',
      labelNames: ['device'],
      registers,
      async collect() {
        const devices = await self.devices();
        const latest = await Promise.all(devices.map((d) => self.store.latest(d.id)));
        this.reset();
        for (const [i, d] of devices.entries()) {
          const l = latest[i];
          if (l) this.set({ device: d.id }, (self.now() - Date.parse(l.receivedAt)) / 1000);
        }
      },
    });
    new Gauge({
      name: 'hadir_health_alerts_open',
      help: 'Open terminal-health alerts by kind and severity',
      labelNames: ['kind', 'severity'],
      registers,
      async collect() {
        const open = await self.store.openAlerts();
        this.reset();
        const counts = new Map<string, number>();
        for (const a of open) counts.set(`${a.kind}\n${a.severity}`, (counts.get(`${a.kind}\n${a.severity}`) ?? 0) + 1);
        for (const [k, n] of counts) {
          const [kind, severity] = k.split('\n') as [string, string];
          this.set({ kind, severity }, n);
        }
      },
    });
    return {
      commands: new Counter({ name: 'hadir_kiosk_commands_sent_total', help: 'Remote commands sent to kiosks', labelNames: ['cmd'], registers }),
      commandResults: new Counter({ name: 'hadir_kiosk_command_results_total', help: 'Remote command results received', labelNames: ['ok'], registers }),
    };
  }
}

const idParam = { name: 'id', in: 'path' as const, required: true, schema: { type: 'string' } };
const OPENAPI: OpenApiPaths = {
  '/health/devices': { get: { summary: 'Latest health, clock offset estimate and open alerts of every kiosk', tags: ['health'], responses: { '200': json({ type: 'object' }) } } },
  '/devices/{id}/health': { get: { summary: 'Health history of one kiosk', tags: ['health'], parameters: [idParam], responses: { '200': json({ type: 'object' }), '404': errorResponse('unknown device') } } },
  '/alerts': { get: { summary: 'Terminal alerts (status=open|all, device)', tags: ['health'], responses: { '200': json({ type: 'object' }) } } },
  '/alerts/{id}/ack': { post: { summary: 'Acknowledge an alert', tags: ['health'], parameters: [idParam], responses: { '200': json({ type: 'object' }), '404': errorResponse('unknown alert'), '409': errorResponse('already acknowledged') } } },
  '/health/rules': {
    get: { summary: 'Alert rules in force', tags: ['health'], responses: { '200': json(alertRulesSchema) } },
    put: { summary: 'Replace the alert rules (BKPSDM only)', tags: ['health'], requestBody: { required: true, content: { 'application/json': { schema: { type: 'object' } } } }, responses: { '200': json(alertRulesSchema), '400': errorResponse('invalid rules'), '403': errorResponse('not BKPSDM') } },
  },
  '/devices/{id}/commands': {
    post: { summary: 'Send a remote command (sync_now, reload_roster, restart_service, enrol_mode, ping) and wait for its result', tags: ['health'], parameters: [idParam], requestBody: { required: true, content: { 'application/json': { schema: { type: 'object' } } } }, responses: { '200': json({ type: 'object' }, 'answered'), '202': json({ type: 'object' }, 'sent, no answer yet'), '404': errorResponse('unknown device') } },
    get: { summary: 'Recent commands of a kiosk with their results', tags: ['health'], parameters: [idParam], responses: { '200': json({ type: 'object' }), '404': errorResponse('unknown device') } },
  },
  '/devices/{id}/commands/{cmdId}': {
    get: { summary: 'One command of a kiosk with its result (status pending|done)', tags: ['health'], parameters: [idParam, { name: 'cmdId', in: 'path', required: true, schema: { type: 'string' } }], responses: { '200': json({ type: 'object' }), '404': errorResponse('unknown device, or no such command for it') } },
  },
  '/clock/suggestions': { get: { summary: 'Clock-unsynced punches with a suggested true time (same boot, monotonic offset)', tags: ['health'], responses: { '200': json({ type: 'object' }) } } },
};

export function createHealthModule(ctx: HubContext): HubModule {
  return new HealthModule(ctx);
}
