import jpeg from 'jpeg-js';
import type { ComponentState } from '../../protocol/index.js';
import type { RosterView } from '../extension-api.js';
import type { Identification, IdentificationSource } from '../types.js';

export interface SimulatedSourceOptions {
  roster: RosterView;
  /** Identifications per second. */
  rate: number;
  /** Stop after this many (undefined: run until stopped). */
  count?: number;
  /** Deterministic runs in tests. */
  random?: () => number;
}

/**
 * A simulated biometric source: picks roster members and reports them as face matches with a
 * plausible cosine score and liveness, plus a small evidence JPEG, at a fixed rate. It drives the
 * real path (dedup → punch → journal → publisher) exactly like the camera pipeline would.
 */
export class SimulatedSource implements IdentificationSource {
  readonly component = 'simulator';
  private timer: NodeJS.Timeout | null = null;
  private emitted = 0;
  private stopped = false;
  private resolveDone!: () => void;
  /** Resolves after `count` identifications have been handled (journaled or refused). */
  readonly done: Promise<void> = new Promise((r) => (this.resolveDone = r));
  private readonly photos = new Map<string, Buffer>();
  private readonly random: () => number;

  constructor(private readonly o: SimulatedSourceOptions) {
    if (!(o.rate > 0)) throw new Error('simulator rate must be > 0');
    this.random = o.random ?? Math.random;
  }

  get count(): number {
    return this.emitted;
  }

  async start(onIdentified: (id: Identification) => void | Promise<void>): Promise<void> {
    const started = performance.now();
    const pending = new Set<Promise<void>>();
    const tick = async () => {
      this.timer = null;
      if (this.stopped) return;
      const people = this.o.roster.current()?.people ?? [];
      // Catch up to the schedule: at high rates several identifications per timer tick.
      const due = Math.floor(((performance.now() - started) / 1000) * this.o.rate) + 1;
      let n = Math.min(due - this.emitted, 1000);
      if (this.o.count !== undefined) n = Math.min(n, this.o.count - this.emitted);
      for (let i = 0; i < n && people.length > 0; i++) {
        const person = people[Math.floor(this.random() * people.length)]!;
        this.emitted++;
        const p = Promise.resolve(onIdentified(this.identify(person.nip))).finally(() => pending.delete(p));
        pending.add(p);
      }
      if (this.o.count !== undefined && this.emitted >= this.o.count) {
        await Promise.allSettled([...pending]);
        this.resolveDone();
        return;
      }
      const next = ((this.emitted + 1) / this.o.rate) * 1000 - (performance.now() - started);
      this.timer = setTimeout(() => void tick(), Math.max(people.length ? 0 : 500, Math.min(next, 1000)));
    };
    this.timer = setTimeout(() => void tick(), 0);
  }

  private identify(nip: string): Identification {
    return {
      nip,
      method: 'face',
      score: round(0.55 + 0.35 * this.random()),
      liveness: round(0.9 + 0.09 * this.random()),
      photo: this.photoFor(nip),
    };
  }

  /** A tiny grey JPEG per person (evidence photo stand-in; the real source sends the face crop). */
  private photoFor(nip: string): Buffer {
    let p = this.photos.get(nip);
    if (!p) {
      const w = 24, h = 24;
      const shade = [...nip].reduce((a, c) => (a * 31 + c.charCodeAt(0)) % 200, 7) + 30;
      const data = Buffer.alloc(w * h * 4, shade);
      p = Buffer.from(jpeg.encode({ data, width: w, height: h }, 50).data);
      this.photos.set(nip, p);
    }
    return p;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  state(): ComponentState {
    if (!this.o.roster.current()?.people.length) return { state: 'degraded', detail: 'simulator: daftar pegawai kosong / roster empty' };
    return { state: 'ok', detail: `simulator ${this.o.rate}/s, ${this.emitted} identifikasi` };
  }
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
