import { createHash } from 'node:crypto';
import { canonicalBytes, type Roster, type RosterPerson } from '../protocol/index.js';
import type { ConfigMsg, Topics } from '../protocol/index.js';
import type { Logger } from '../lib/logger.js';
import type { HubBus, HubModule, HubMqtt } from './module-contract.js';
import type { CoreStore } from './store/core-store.js';
import type { Clock } from '../lib/clock.js';

/**
 * A site's roster for its kiosks: active staff whose current unit is the site's unit, then
 * whatever each module adds (face/finger templates, …). `version` is a hash of the content, so
 * kiosks refetch only when something really changed.
 */
export async function buildRoster(store: CoreStore, modules: HubModule[], siteCode: string, now: Date): Promise<Roster | null> {
  const site = await store.getSite(siteCode);
  if (!site) return null;
  const people = new Map<string, RosterPerson>();
  for (const s of await store.activeStaffOfUnit(site.unitCode)) people.set(s.nip, { nip: s.nip, name: s.name });
  for (const m of modules) await m.contributeRoster?.(site.code, people);
  const list = [...people.values()].sort((a, b) => (a.nip < b.nip ? -1 : a.nip > b.nip ? 1 : 0));
  const content = { site: { code: site.code, name: site.name }, people: list };
  const version = createHash('sha256').update(canonicalBytes(content)).digest('hex').slice(0, 32);
  return { version, ...content, fetchedAt: now.toISOString() };
}

/**
 * Keeps the retained `{prefix}/kiosk/{id}/config` pointer of every enrolled device current:
 * at start, on `roster:changed`, and every interval (publishing only when a version changed).
 */
export class RosterPublisher {
  private readonly last = new Map<string, string>(); // deviceId → version published
  private timer: NodeJS.Timeout | null = null;
  private busy: Promise<void> | null = null;
  private readonly onChanged = () => void this.refresh();

  constructor(
    private readonly o: { store: CoreStore; modules: () => HubModule[]; mqtt: HubMqtt; topics: Topics; bus: HubBus; log: Logger; clock: Clock; intervalS: number },
  ) {}

  async start(): Promise<void> {
    this.o.bus.on('roster:changed', this.onChanged);
    await this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.o.intervalS * 1000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.o.bus.off('roster:changed', this.onChanged);
    if (this.timer) clearInterval(this.timer);
    await this.busy;
  }

  /** Recomputes every site's version and publishes changed pointers. One run at a time. */
  refresh(): Promise<void> {
    if (this.busy) return this.busy.then(() => this.refresh());
    this.busy = this.run().finally(() => (this.busy = null));
    return this.busy;
  }

  private async run(): Promise<void> {
    const { store, topics, mqtt, log } = this.o;
    try {
      const versions = new Map<string, string | null>();
      for (const d of await store.listDevices()) {
        if (!d.enrolledAt || d.disabledAt) continue;
        if (!versions.has(d.siteCode)) versions.set(d.siteCode, (await buildRoster(store, this.o.modules(), d.siteCode, new Date(this.o.clock())))?.version ?? null);
        const v = versions.get(d.siteCode);
        if (!v || this.last.get(d.id) === v) continue;
        const msg: ConfigMsg = { rosterVersion: v };
        await mqtt.publish(topics.config(d.id), JSON.stringify(msg), { qos: 1, retain: true });
        this.last.set(d.id, v);
      }
    } catch (e) {
      log.warn({ err: (e as Error).message }, 'roster config publish failed; will retry');
    }
  }
}
