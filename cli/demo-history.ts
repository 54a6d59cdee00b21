import { mulberry32 } from '../lib/random.js';

/**
 * The demo's month of history: check-in/check-out times for each sample employee from the first
 * day of the previous month up to now, as `hadir import punches` CSV rows (method `legacy`, noted
 * as sample history), plus e-Kinerja scores. Pure and seeded, so every run looks the same and a
 * test can check it. Times are local to the sites (WIB, +07:00).
 */
export interface DemoPerson {
  nip: string;
  site: string;
  /** Weekday (0 = Sunday) → [start, end] "HH:MM", absent = day off. */
  hours: Partial<Record<number, [string, string]>>;
}

/** Seeded: the history must not change between runs. */
const prng = mulberry32;

const OFFSET = '+07:00';
const toMin = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
const hhmmss = (min: number, sec: number) => `${String(Math.floor(min / 60)).padStart(2, '0')}:${String(min % 60).padStart(2, '0')}:${String(sec).padStart(2, '0')}`;

/** Local (WIB) calendar date of an instant, YYYY-MM-DD. */
export function wibDate(ms: number): string {
  return new Date(ms + 7 * 3600_000).toISOString().slice(0, 10);
}

export function demoHistory(people: DemoPerson[], nowMs: number): { punches: string[]; kinerja: string[]; months: string[] } {
  const today = wibDate(nowMs);
  const [y, m] = today.split('-').map(Number) as [number, number];
  const first = Date.UTC(m === 1 ? y - 1 : y, m === 1 ? 11 : m - 2, 1);
  const months = [new Date(first).toISOString().slice(0, 7), today.slice(0, 7)];
  const punches = ['nip,time,site,method,note'];
  const kinerja = ['nip,month,score'];
  people.forEach((p, i) => {
    const rnd = prng(1000 + i);
    for (let day = first; wibDate(day) <= today; day += 86_400_000) {
      const date = new Date(day).toISOString().slice(0, 10);
      const hours = p.hours[new Date(day).getUTCDay()];
      const r = rnd();
      const jitter = rnd();
      const sec = Math.floor(rnd() * 60);
      if (!hours) continue;
      const [start, end] = [toMin(hours[0]), toMin(hours[1])];
      // 62 % on time, 20 % late, 6 % leave early, 5 % forget check-out, 3 % absent, rest on time
      if (r >= 0.88 && r < 0.91) continue;
      const inMin = r >= 0.62 && r < 0.82 ? start + 1 + Math.floor(jitter * (r < 0.78 ? 40 : 100)) : start - 5 - Math.floor(jitter * 25);
      const outMin = r >= 0.82 && r < 0.88 ? end - 5 - Math.floor(jitter * 50) : end + 2 + Math.floor(jitter * 45);
      const at = (min: number) => `${date}T${hhmmss(min, sec)}${OFFSET}`;
      const row = (min: number) => `${p.nip},${at(min)},${p.site},legacy,riwayat contoh demo / demo sample history`;
      if (Date.parse(at(inMin)) <= nowMs) punches.push(row(inMin));
      const forgetsOut = r >= 0.91 && r < 0.96;
      if (!forgetsOut && Date.parse(at(outMin)) <= nowMs) punches.push(row(outMin));
    }
    for (const month of months) kinerja.push(`${p.nip},${month},${70 + Math.floor(rnd() * 29)}`);
  });
  return { punches, kinerja, months };
}
