import type { ComponentState, Health } from '../../protocol/index.js';
import { healthSchema } from '../../protocol/index.js';
import { formatIssues } from '../../lib/config-file.js';
import { iso } from '../../lib/clock.js';
import type { KioskContext, KioskExtension } from '../extension-api.js';
import { execRunner, type CommandRunner } from '../clock/probe.js';
import { TrustedClock } from '../clock/service.js';
import { createHash } from 'node:crypto';
import type { HealthConfig } from './config.js';
import { collectSystem, decodeThrottled, type SystemSample } from './system.js';

export interface HealthExtensionDeps {
  run?: CommandRunner;
}

/**
 * Publishes health telemetry every `health.intervalS` (60 s) on the health topic: the core's body
 * (backlog, components, versions, uptime) plus system metrics, network and the clock state. Only
 * while connected: a queued, stale health message would mislead the hub's clock-offset estimate.
 * Also a `system` component (disk, temperature, throttling) so the screen and hub see it.
 */
export class HealthExtension implements KioskExtension {
  readonly name = 'health';
  private timer: NodeJS.Timeout | null = null;
  private last: SystemSample | null = null;
  private readonly cfg: HealthConfig;
  private readonly onConnected = () => void this.publishNow();
  private modelVersion: string | null | undefined;

  constructor(private readonly ctx: KioskContext, private readonly deps: HealthExtensionDeps = {}) {
    this.cfg = ctx.config.health;
  }

  async start(): Promise<void> {
    if (!this.cfg.enabled) return;
    this.ctx.health.register({ component: 'system', state: () => this.systemState() });
    this.ctx.bus.on('mqtt:connected', this.onConnected);
    this.timer = setInterval(() => void this.publishNow(), this.cfg.intervalS * 1000);
    this.timer.unref();
    void this.publishNow();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.ctx.bus.off('mqtt:connected', this.onConnected);
  }

  /** Builds one health message (validated against the protocol schema). */
  async build(): Promise<Health> {
    this.last = await collectSystem({
      sysRoot: this.cfg.sysRoot,
      vcgencmd: this.cfg.vcgencmd,
      diskPath: this.ctx.dataDir,
      run: this.deps.run ?? execRunner,
    });
    const base = this.ctx.baseHealth();
    const clock = this.ctx.clock;
    let clockBlock: Health['clock'];
    if (clock instanceof TrustedClock) {
      const s = clock.status();
      clockBlock = { synced: s.synced, source: s.source, ...(s.offsetMs !== undefined ? { offsetMs: s.offsetMs } : {}), ...(s.stratum !== undefined ? { stratum: s.stratum } : {}), jumpDetected: s.jumpDetected };
    } else {
      const st = clock.stamp();
      clockBlock = { synced: st.synced, source: st.source, ...(st.offsetMs !== undefined ? { offsetMs: st.offsetMs } : {}) };
    }
    const modelVersion = await this.models();
    const body = {
      ...base,
      ...(modelVersion ? { modelVersion } : {}),
      components: { ...(base.components ?? {}), system: this.systemState() },
      clock: clockBlock,
      system: this.last.system,
      network: this.last.network,
    };
    const r = healthSchema.safeParse(body);
    if (!r.success) throw new Error(`health message does not match the protocol: ${formatIssues(r.error)}`);
    return r.data;
  }

  /**
   * The face models in use, as "<embedding model id>@<digest of every model's sha256>": the hub can
   * tell at a glance which kiosks run which model set. Null when face is off or there is no manifest.
   */
  private async models(): Promise<string | null> {
    if (this.modelVersion !== undefined) return this.modelVersion;
    this.modelVersion = null;
    if (!this.ctx.config.face.enabled) return null;
    try {
      const { loadManifest } = await import('../../models/store.js');
      const m = loadManifest();
      const digest = createHash('sha256').update(m.models.map((e) => e.sha256).join(',')).digest('hex').slice(0, 12);
      const rec = m.models.find((e) => e.role === 'embedding') ?? m.models[0];
      this.modelVersion = `${rec?.id ?? 'models'}@${digest}`.slice(0, 128);
    } catch {}
    return this.modelVersion;
  }

  async publishNow(): Promise<boolean> {
    if (!this.ctx.link.connected) return false;
    try {
      const body = await this.build();
      // `at` is stamped last, right before sending: the hub compares it with its receive time.
      body.at = iso(this.ctx.now);
      await this.ctx.link.publish('health', body, { qos: 0 });
      return true;
    } catch (e) {
      this.ctx.log.warn({ err: (e as Error).message }, 'health publish failed');
      return false;
    }
  }

  systemState(): ComponentState {
    const s = this.last?.system;
    if (!s) return { state: 'ok', detail: 'belum diukur / not measured yet' };
    const problems: string[] = [];
    if (s.diskFreePct !== undefined && s.diskFreePct < this.cfg.diskLowPct) problems.push(`disk ${s.diskFreePct}% free`);
    if (s.cpuTempC !== undefined && s.cpuTempC >= this.cfg.tempHighC) problems.push(`CPU ${s.cpuTempC} °C`);
    const now = s.throttled ? decodeThrottled(s.throttled).filter((f) => !f.endsWith('-occurred')) : [];
    if (now.length) problems.push(now.join(', '));
    return problems.length ? { state: 'degraded', detail: problems.join('; ').slice(0, 300) } : { state: 'ok' };
  }
}

export function createHealthExtension(ctx: KioskContext): KioskExtension {
  return new HealthExtension(ctx);
}
