import { localTime } from '../dedup.js';
import type { FeedbackEvent } from '../types.js';

/** What the kiosk screen shows; built from feedback events and link/journal status. Pure. */
export interface ScreenView {
  site: string;
  deviceId: string;
  connected: boolean;
  backlog: number;
  timeZone: string;
  /** Components in fault (camera, fingerprint, journal …) — shown small in the footer for the technician. */
  faults: string[];
  /** The result being shown (null once it timed out: nobody's data lingers). */
  last: ScreenEvent | null;
  /** A live camera preview is available at /preview.mjpg. */
  preview: boolean;
}

export interface ScreenEvent {
  kind: FeedbackEvent['kind'];
  /** Big status line in Bahasa Indonesia. */
  title: string;
  /** The same in English (small print). */
  titleEn: string;
  name?: string;
  nip?: string;
  /** "07:28" local time of the event. */
  time?: string;
  detail?: string;
  /** A caveat under the name (e.g. the clock was not verified). */
  note?: string;
  /** The captured face crop (data: URL, JPEG) shown beside the name. */
  photo?: string;
  /** Spoken/beeped tone: ok (recorded, already) or refused. */
  tone: 'ok' | 'refused' | 'info';
  at: string;
}

/** Component names as staff and technicians read them on the screen. */
const COMPONENT_ID: Record<string, string> = { camera: 'kamera', face: 'pengenalan wajah', finger: 'sidik jari', clock: 'jam', journal: 'penyimpanan', gpio: 'lampu/bel', roster: 'daftar pegawai', sound: 'suara', system: 'sistem' };
export const componentName = (c: string) => COMPONENT_ID[c] ?? c;

/** Turns a feedback event into what the person reads ("Tercatat", "Sudah tercatat pukul 07:28", …). */
export function describe(ev: FeedbackEvent, timeZone: string, nowIso: string): ScreenEvent {
  switch (ev.kind) {
    case 'recorded':
      return {
        kind: ev.kind, title: 'Tercatat', titleEn: 'Recorded', name: ev.name, nip: ev.nip, time: localTime(ev.at, timeZone), tone: 'ok', at: ev.at,
        ...(ev.photo ? { photo: `data:image/jpeg;base64,${ev.photo.toString('base64')}` } : {}),
        // recorded, but the time is not trusted yet: say so instead of a plain "Tercatat"
        ...(ev.unverified ? { note: 'Jam kiosk belum tersinkron — waktu diperiksa admin / clock not verified: the time will be checked' } : {}),
      };
    case 'already': {
      const first = localTime(ev.firstAt, timeZone);
      return { kind: ev.kind, title: `Sudah tercatat pukul ${first}`, titleEn: `Already recorded at ${first}`, name: ev.name, nip: ev.nip, time: localTime(ev.at, timeZone), tone: 'ok', at: ev.at };
    }
    case 'unknown':
      return { kind: ev.kind, title: 'Tidak dikenali', titleEn: 'Not recognised', detail: ev.reason, tone: 'refused', at: nowIso };
    case 'hint':
      return { kind: ev.kind, title: ev.message.split(' / ')[0] ?? ev.message, titleEn: ev.message.split(' / ')[1] ?? '', tone: 'info', at: nowIso };
    case 'fault':
      return { kind: ev.kind, title: `Gangguan: ${componentName(ev.component)}`, titleEn: `Fault: ${ev.component}`, detail: ev.detail, tone: 'refused', at: nowIso };
  }
}
