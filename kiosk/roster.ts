import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { Low } from 'lowdb';
import { JSONFile } from 'lowdb/node';
import { KIOSK_API, configSchema, decodePayload, rosterReplySchema, type ComponentState, type Roster, type RosterPerson } from '../protocol/index.js';
import type { Logger } from '../lib/logger.js';
import { iso, type Clock } from '../lib/clock.js';
import type { KioskBus, RosterView } from './extension-api.js';
import type { HubClient } from './hub-client.js';
import type { HealthReporter } from './types.js';

export interface RosterOptions {
  dataDir: string;
  hub: HubClient;
  now: Clock;
  bus: KioskBus;
  log: Logger;
}

/**
 * The roster snapshot (staff, templates) kept with lowdb in `{dataDir}/roster.json` — a document
 * replaced whole on each sync that can always be fetched again. Fetched at start, when the retained
 * config topic announces a new rosterVersion, and on refresh(); the kiosk works from the snapshot
 * while the hub is unreachable.
 */
export class RosterStore implements RosterView, HealthReporter {
  readonly component = 'roster';
  private readonly db: Low<{ roster: Roster | null }>;
  private index = new Map<string, RosterPerson>();
  private inFlight: Promise<Roster | null> | null = null;
  private lastError: string | null = null;
  /** Version announced on the config topic that we have not fetched yet. */
  private wanted: string | null = null;

  constructor(private readonly o: RosterOptions) {
    mkdirSync(o.dataDir, { recursive: true });
    this.db = new Low(new JSONFile<{ roster: Roster | null }>(join(o.dataDir, 'roster.json')), { roster: null });
  }

  async load(): Promise<void> {
    try {
      await this.db.read();
    } catch (e) {
      // A damaged snapshot is not fatal: it is fetched again from the hub.
      this.o.log.warn({ err: (e as Error).message }, 'roster snapshot unreadable; will fetch again');
      this.db.data = { roster: null };
    }
    this.reindex();
  }

  current(): Roster | null {
    return this.db.data.roster;
  }

  byNip(nip: string): RosterPerson | undefined {
    return this.index.get(nip);
  }

  /** Handles the retained config message: fetch when the announced version differs. */
  onConfig(payload: Buffer): void {
    const d = decodePayload(configSchema, payload, 64 * 1024);
    if (!d.ok) {
      this.o.log.warn({ reason: d.reason }, 'config message ignored');
      return;
    }
    if (d.value.rosterVersion === this.current()?.version) return;
    this.wanted = d.value.rosterVersion;
    void this.refresh();
  }

  /** Fetches the roster now; concurrent callers share one request. Never throws. */
  refresh(): Promise<Roster | null> {
    this.inFlight ??= this.fetchOnce().finally(() => {
      this.inFlight = null;
    });
    return this.inFlight;
  }

  private async fetchOnce(): Promise<Roster | null> {
    const { o } = this;
    try {
      const reply = await o.hub.get(KIOSK_API.roster, rosterReplySchema);
      const roster: Roster = { ...(reply as Omit<Roster, 'fetchedAt'>), fetchedAt: iso(o.now) };
      const changed = roster.version !== this.current()?.version;
      this.db.data = { roster };
      await this.db.write();
      this.reindex();
      this.lastError = null;
      if (this.wanted === roster.version) this.wanted = null;
      if (changed) {
        o.log.info({ version: roster.version, people: roster.people.length }, 'roster updated');
        o.bus.emit('roster:updated', { version: roster.version });
      }
      return roster;
    } catch (e) {
      const msg = (e as Error).message;
      if (this.lastError !== msg) o.log.warn({ err: msg }, 'roster fetch failed; using the snapshot');
      this.lastError = msg;
      return null;
    }
  }

  private reindex(): void {
    this.index = new Map((this.current()?.people ?? []).map((p) => [p.nip, p]));
  }

  state(): ComponentState {
    const r = this.current();
    if (!r) return { state: 'fault', detail: `belum ada daftar pegawai / no roster yet${this.lastError ? `: ${this.lastError}` : ''}` };
    if (this.lastError) return { state: 'degraded', detail: `memakai salinan ${r.version} / using snapshot: ${this.lastError}` };
    if (this.wanted) return { state: 'degraded', detail: `versi ${this.wanted} belum diambil / not fetched yet` };
    return { state: 'ok', detail: `${r.people.length} pegawai, versi ${r.version}` };
  }
}
