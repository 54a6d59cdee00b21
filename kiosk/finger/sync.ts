import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { isErrno } from '../../lib/errors.js';
import { writeFileAtomic } from '../../lib/write-atomic.js';
import type { RosterPerson } from '../../protocol/index.js';
import type { FingerSensor } from './driver.js';
import { isConfirmation, isLinkError } from './errors.js';

/**
 * Template sync: the hub's templates for this site (roster) → the sensor's library, keeping a
 * persisted page-id ↔ (NIP, finger) map. Planning is pure (data in, plan out); applying the plan
 * talks to the sensor. Incremental: only changed templates move over the 57600-baud line.
 */

export interface WantedTemplate {
  nip: string;
  finger: number;
  template: Buffer;
  hash: string;
}

export interface PageEntry {
  nip: string;
  finger: number;
  hash: string;
}

const mapSchema = z.object({
  version: z.literal(1),
  pages: z.record(z.string(), z.object({ nip: z.string(), finger: z.number().int(), hash: z.string() })),
});
export type LibraryMap = z.infer<typeof mapSchema>;

export const keyOf = (t: { nip: string; finger: number }) => `${t.nip}#${t.finger}`;

export function templateHash(t: Buffer): string {
  return createHash('sha256').update(t).digest('hex').slice(0, 32);
}

/** The templates a roster asks for (every finger of every person). */
export function wantedFromRoster(people: readonly RosterPerson[]): WantedTemplate[] {
  const out: WantedTemplate[] = [];
  for (const p of people)
    for (const f of p.finger ?? []) {
      const template = Buffer.from(f.template, 'base64');
      if (template.length === 0) continue;
      out.push({ nip: p.nip, finger: f.finger, template, hash: templateHash(template) });
    }
  return out;
}

export interface SyncPlan {
  /** The sensor's library is empty but our map is not: a new/replaced sensor → full reload. */
  reset: boolean;
  deletes: number[];
  stores: { page: number; want: WantedTemplate }[];
  /** Wanted templates that do not fit into the sensor's capacity. */
  overflow: WantedTemplate[];
  /** Map after the plan is applied. */
  next: LibraryMap;
}

export function planSync(wanted: readonly WantedTemplate[], map: LibraryMap, occupied: ReadonlySet<number>, capacity: number): SyncPlan {
  const reset = occupied.size === 0 && Object.keys(map.pages).length > 0;
  const want = new Map(wanted.map((w) => [keyOf(w), w]));
  const keptPages = new Map<number, PageEntry>();
  const satisfied = new Set<string>();
  const deletes = new Set<number>();
  if (!reset) {
    for (const [pageStr, entry] of Object.entries(map.pages)) {
      const page = Number(pageStr);
      if (!occupied.has(page) || page >= capacity) continue; // gone from the sensor: reload it
      const key = keyOf(entry);
      const w = want.get(key);
      if (w && w.hash === entry.hash && !satisfied.has(key)) {
        keptPages.set(page, entry);
        satisfied.add(key);
      } else deletes.add(page);
    }
  }
  // Templates on the sensor we know nothing about (crash mid-sync, another tool): remove them, a
  // stray template would identify nobody or, worse, the wrong person.
  for (const page of occupied) if (!keptPages.has(page)) deletes.add(page);

  const todo = [...want.values()].filter((w) => !satisfied.has(keyOf(w))).sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : 1));
  const stores: SyncPlan['stores'] = [];
  const overflow: WantedTemplate[] = [];
  let page = 0;
  for (const w of todo) {
    while (page < capacity && keptPages.has(page)) page++;
    if (page >= capacity) {
      overflow.push(w);
      continue;
    }
    stores.push({ page, want: w });
    page++;
  }
  const next: LibraryMap = { version: 1, pages: {} };
  for (const [p, e] of keptPages) next.pages[p] = e;
  for (const s of stores) next.pages[s.page] = { nip: s.want.nip, finger: s.want.finger, hash: s.want.hash };
  return { reset, deletes: [...deletes].filter((p) => p < capacity).sort((a, b) => a - b), stores, overflow, next };
}

/** The page map on disk (dataDir/finger-library.json), written atomically. */
export class LibraryMapStore {
  readonly path: string;
  constructor(dataDir: string) {
    this.path = join(dataDir, 'finger-library.json');
  }
  load(): LibraryMap {
    try {
      const parsed = mapSchema.safeParse(JSON.parse(readFileSync(this.path, 'utf8')));
      // A damaged map only costs a full reload (the sensor is rewritten from the roster).
      return parsed.success ? parsed.data : { version: 1, pages: {} };
    } catch (e) {
      if (isErrno(e, 'ENOENT') || e instanceof SyntaxError) return { version: 1, pages: {} };
      throw e;
    }
  }
  save(map: LibraryMap): void {
    writeFileAtomic(this.path, JSON.stringify(map));
  }
}

export interface SyncResult {
  reset: boolean;
  loaded: number;
  deleted: number;
  kept: number;
  overflow: number;
  /** Templates the sensor refused (wrong size/format), by key with the reason. */
  failed: { key: string; reason: string }[];
}

/**
 * Brings the sensor in line with `wanted`. Link errors abort (the caller reports a fault and
 * retries later; the map on disk is consistent at every step); a template the sensor refuses is
 * skipped and reported.
 */
export async function syncLibrary(sensor: FingerSensor, store: LibraryMapStore, wanted: readonly WantedTemplate[], capacity: number): Promise<SyncResult> {
  const map = store.load();
  const occupied = await sensor.occupiedPages(capacity);
  const plan = planSync(wanted, map, occupied, capacity);
  const current: LibraryMap = plan.reset ? { version: 1, pages: {} } : { version: 1, pages: { ...map.pages } };
  // Deletions first, in contiguous runs (one DeletChar per run).
  for (let i = 0; i < plan.deletes.length; ) {
    let j = i;
    while (j + 1 < plan.deletes.length && plan.deletes[j + 1] === plan.deletes[j]! + 1) j++;
    await sensor.deleteTemplates(plan.deletes[i]!, j - i + 1);
    for (let k = i; k <= j; k++) delete current.pages[plan.deletes[k]!];
    i = j + 1;
  }
  if (plan.deletes.length || plan.reset) store.save(current);
  const failed: SyncResult['failed'] = [];
  let loaded = 0;
  let unsaved = 0;
  for (const { page, want } of plan.stores) {
    try {
      await sensor.downloadTemplate(1, want.template);
      await sensor.store(1, page);
      current.pages[page] = { nip: want.nip, finger: want.finger, hash: want.hash };
      loaded++;
    } catch (e) {
      if (isLinkError(e) || !isConfirmation(e)) throw e;
      failed.push({ key: keyOf(want), reason: e.message });
    }
    // persist progress so a crash mid-sync costs at most a few templates
    if (++unsaved >= 20) {
      store.save(current);
      unsaved = 0;
    }
  }
  store.save(current);
  return { reset: plan.reset, loaded, deleted: plan.deletes.length, kept: Object.keys(plan.next.pages).length - plan.stores.length, overflow: plan.overflow.length, failed };
}
