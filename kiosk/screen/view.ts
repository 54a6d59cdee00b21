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
  last: ScreenEvent | null;
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
  at: string;
}

/** Turns a feedback event into what the person reads ("Tercatat", "Sudah tercatat pukul 07:28", …). */
export function describe(ev: FeedbackEvent, timeZone: string, nowIso: string): ScreenEvent {
  switch (ev.kind) {
    case 'recorded':
      return { kind: ev.kind, title: 'Tercatat', titleEn: 'Recorded', name: ev.name, nip: ev.nip, time: localTime(ev.at, timeZone), at: ev.at };
    case 'already': {
      const first = localTime(ev.firstAt, timeZone);
      return { kind: ev.kind, title: `Sudah tercatat pukul ${first}`, titleEn: `Already recorded at ${first}`, name: ev.name, nip: ev.nip, time: localTime(ev.at, timeZone), at: ev.at };
    }
    case 'unknown':
      return { kind: ev.kind, title: 'Tidak dikenali', titleEn: 'Not recognised', detail: ev.reason, at: nowIso };
    case 'hint':
      return { kind: ev.kind, title: ev.message.split(' / ')[0] ?? ev.message, titleEn: ev.message.split(' / ')[1] ?? '', at: nowIso };
    case 'fault':
      return { kind: ev.kind, title: `Gangguan: ${ev.component}`, titleEn: `Fault: ${ev.component}`, detail: ev.detail, at: nowIso };
  }
}
