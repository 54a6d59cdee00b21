import { z } from 'zod';
import { cmdSchema, decodePayload, type Cmd, type CmdResult } from '../../protocol/index.js';
import { formatIssues } from '../../lib/config-file.js';
import { iso, type Clock } from '../../lib/clock.js';
import type { KioskContext, KioskEvents, KioskExtension } from '../extension-api.js';
import { TrustedClock } from '../clock/service.js';

const MAX_CMD_BYTES = 64 * 1024;
/** A command older than this (by a synced kiosk clock) is refused: a restart queued for a day is not wanted. */
const MAX_CMD_AGE_MS = 10 * 60 * 1000;

const enrolArgsSchema = z.strictObject({
  nip: z.string().min(1).max(32),
  method: z.enum(['face', 'finger']),
  finger: z.number().int().min(0).max(10).optional(), // ISO/IEC 19794-2 finger positions, as kiosk/finger uses them
  timeoutS: z.number().min(5).max(900).default(120),
});

export interface CommandsDeps {
  /** How restart_service ends the process (systemd Restart=always starts it again). */
  restart?: () => void;
  /** Overrides the kiosk's clock (tests). */
  now?: Clock;
}

class CommandError extends Error {}

/**
 * Remote commands from the hub on the cmd topic, each answered on cmdres with its result
 * (zigbee2mqtt style: a failing command answers `{ok:false, error}`, it never crashes the kiosk).
 * QoS 1 may deliver a command twice: a repeated id gets the first answer again, not a second run.
 */
export class CommandsExtension implements KioskExtension {
  readonly name = 'commands';
  private answered = new Map<string, CmdResult>();
  private running = new Set<string>();
  private stopped = false;

  constructor(private readonly ctx: KioskContext, private readonly deps: CommandsDeps = {}) {}

  async start(): Promise<void> {
    this.ctx.link.subscribe('cmd', (payload) => void this.handle(payload));
  }

  async stop(): Promise<void> {
    this.stopped = true;
  }

  async handle(payload: Buffer): Promise<CmdResult | null> {
    const now = this.deps.now ?? this.ctx.now;
    const d = decodePayload(cmdSchema, payload, MAX_CMD_BYTES);
    if (!d.ok) {
      // Answer when the id is readable, so the admin sees why; otherwise only log.
      let id: unknown;
      try {
        id = (JSON.parse(payload.toString('utf8')) as { id?: unknown }).id;
      } catch {}
      this.ctx.log.warn({ reason: d.reason }, 'invalid remote command ignored');
      if (typeof id === 'string' && id.length > 0 && id.length <= 64) return this.reply({ id, ok: false, error: `invalid command: ${d.reason}`.slice(0, 500), at: iso(now) });
      return null;
    }
    const cmd = d.value;
    const prev = this.answered.get(cmd.id);
    if (prev) return this.reply(prev);
    if (this.running.has(cmd.id)) return null;
    this.running.add(cmd.id);
    let res: CmdResult;
    try {
      const result = await this.execute(cmd, now);
      res = { id: cmd.id, ok: true, result, at: iso(now) };
    } catch (e) {
      res = { id: cmd.id, ok: false, error: ((e as Error).message || 'failed').slice(0, 500), at: iso(now) };
    } finally {
      this.running.delete(cmd.id);
    }
    this.ctx.log.info({ cmd: cmd.cmd, id: cmd.id, ok: res.ok, error: res.error }, 'remote command');
    this.answered.set(cmd.id, res);
    if (this.answered.size > 200) this.answered.delete(this.answered.keys().next().value!);
    await this.reply(res);
    if (cmd.cmd === 'restart_service' && res.ok) setTimeout(this.deps.restart ?? (() => process.kill(process.pid, 'SIGTERM')), 500).unref();
    return res;
  }

  private async reply(res: CmdResult): Promise<CmdResult> {
    if (!this.stopped) {
      try {
        await this.ctx.link.publish('cmdres', res, { qos: 1 });
      } catch (e) {
        this.ctx.log.warn({ err: (e as Error).message, id: res.id }, 'could not publish command result');
      }
    }
    return res;
  }

  private async execute(cmd: Cmd, now: Clock): Promise<unknown> {
    const clock = this.ctx.clock;
    const synced = clock.stamp().synced;
    const age = now() - Date.parse(cmd.at);
    if (synced && age > MAX_CMD_AGE_MS) throw new CommandError(`command expired: sent ${Math.round(age / 60000)} min ago (limit ${MAX_CMD_AGE_MS / 60000} min)`);
    switch (cmd.cmd) {
      case 'ping':
        return { pong: true, deviceId: this.ctx.deviceId, uptimeS: Math.round(process.uptime()), backlog: this.ctx.journalStats() };
      case 'reload_roster': {
        const r = await this.ctx.roster.refresh();
        if (!r) throw new CommandError('roster could not be fetched from the hub (see kiosk log)');
        return { rosterVersion: r.version, people: r.people.length };
      }
      case 'sync_now': {
        // "Sync" from the field's point of view: re-read the clock, fetch the roster, show the backlog.
        const clockState = clock instanceof TrustedClock ? await clock.refresh() : clock.stamp();
        let roster: { version: string; people: number } | { error: string };
        try {
          const r = await this.ctx.roster.refresh();
          roster = r ? { version: r.version, people: r.people.length } : { error: 'roster fetch failed' };
        } catch (e) {
          roster = { error: (e as Error).message };
        }
        return { clock: { synced: clockState.synced, source: clockState.source, offsetMs: clockState.offsetMs }, roster, backlog: this.ctx.journalStats() };
      }
      case 'restart_service':
        return { restarting: true, inMs: 500 };
      case 'enrol_mode':
        return this.enrol(cmd);
    }
  }

  private enrol(cmd: Cmd): Promise<unknown> {
    const a = enrolArgsSchema.safeParse(cmd.args ?? {});
    if (!a.success) return Promise.reject(new CommandError(`enrol_mode args: ${formatIssues(a.error)}`));
    const args = a.data;
    if (this.ctx.bus.listenerCount('enrol:request') === 0) return Promise.reject(new CommandError(`no ${args.method} enrolment source on this kiosk`));
    return new Promise((resolve, reject) => {
      const onResult = (r: KioskEvents['enrol:result'][0]) => {
        if (r.requestId !== cmd.id) return;
        clearTimeout(timer);
        this.ctx.bus.off('enrol:result', onResult);
        if (r.ok) resolve({ enrolled: true, nip: args.nip, method: args.method, detail: r.detail });
        else reject(new CommandError(`enrolment failed: ${r.detail}`));
      };
      const timer = setTimeout(() => {
        this.ctx.bus.off('enrol:result', onResult);
        reject(new CommandError(`enrolment timed out after ${args.timeoutS} s (nobody presented a ${args.method}?)`));
      }, args.timeoutS * 1000);
      this.ctx.bus.on('enrol:result', onResult);
      this.ctx.bus.emit('enrol:request', { requestId: cmd.id, nip: args.nip, method: args.method, ...(args.finger !== undefined ? { finger: args.finger } : {}) });
    });
  }
}

export function createCommandsExtension(ctx: KioskContext): KioskExtension {
  return new CommandsExtension(ctx);
}
