import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ComponentState } from '../../protocol/index.js';
import type { KioskContext, KioskExtension } from '../extension-api.js';
import type { Feedback, FeedbackEvent } from '../types.js';

/** What is said: short, Indonesian, and clearly different for "recorded" and "refused". */
export function utterance(ev: FeedbackEvent): { text: string; tone: 'ok' | 'refused' } | null {
  switch (ev.kind) {
    case 'recorded':
      return { text: `Terima kasih, ${ev.name.split(/\s+/)[0]}. Tercatat.`, tone: 'ok' };
    case 'already':
      return { text: 'Sudah tercatat.', tone: 'ok' };
    case 'unknown':
      return { text: 'Maaf, tidak dikenali. Silakan coba lagi.', tone: 'refused' };
    case 'fault':
      return { text: 'Maaf, ada gangguan. Hubungi petugas.', tone: 'refused' };
    case 'hint':
      return null; // guidance is on the screen; speaking every hint would nag
  }
}

/** How long a missing speech command, or a missing sound card, is not looked for again. */
const MISSING_RETRY_MS = 5 * 60_000;

/**
 * Whether ALSA has a playback device (`pcmC<card>D<dev>p` in /dev/snd). A kiosk without one (no
 * sound card, an unplugged USB speaker, the field system test's VM) is told so once, in its health,
 * instead of starting espeak-ng for every punch to fail.
 */
export function hasPlaybackDevice(dir = '/dev/snd'): boolean {
  try {
    return readdirSync(dir).some((n) => /^pcmC\d+D\d+p$/.test(n));
  } catch {
    return false;
  }
}

/**
 * Spoken feedback through espeak-ng (Debian package, Indonesian voice `id`): a confirmation in a
 * normal voice, a refusal lower and slower, so the two are told apart without looking. One
 * utterance at a time; a newer one replaces one still waiting (never a queue of stale names).
 */
export class SoundExtension implements KioskExtension, Feedback {
  readonly name = 'sound';
  private busy = false;
  private next: { text: string; tone: 'ok' | 'refused' } | null = null;
  private state: ComponentState = { state: 'disabled' };
  private n = 0;
  /** Utterances played or written (tests). */
  played: { text: string; tone: 'ok' | 'refused'; wav?: string }[] = [];
  /** Processes started (tests). */
  spawned = 0;
  /**
   * While the command is missing (ENOENT), no process is started before this time: forking the
   * kiosk's process per punch to learn again that espeak-ng is absent cost the arm64 VM much of
   * its CPU at 2 punches/s. Tried again every few minutes, for a technician who installs it.
   */
  private missingUntil = 0;

  constructor(
    private readonly ctx: KioskContext,
    /** Where ALSA's devices are (tests point it elsewhere). */
    private readonly soundDevDir = '/dev/snd',
  ) {}

  async start(): Promise<void> {
    const cfg = this.ctx.config.sound;
    if (!cfg.enabled) return;
    this.state = { state: 'ok', detail: `${cfg.command} -v ${cfg.voice}` };
    this.ctx.health.register({ component: 'sound', state: () => this.state });
    this.ctx.addFeedback(this);
  }

  async stop(): Promise<void> {
    this.next = null;
  }

  notify(ev: FeedbackEvent): void {
    const u = utterance(ev);
    if (!u || this.state.state === 'disabled' || Date.now() < this.missingUntil) return;
    if (!this.ctx.config.sound.wavDir && !hasPlaybackDevice(this.soundDevDir)) {
      this.missingUntil = Date.now() + MISSING_RETRY_MS;
      this.state = { state: 'fault', detail: `suara / sound: tidak ada perangkat suara / no playback device in ${this.soundDevDir} (connect a speaker, check \`aplay -l\`)` };
      this.ctx.log.warn({ dir: this.soundDevDir }, 'no sound playback device: spoken feedback off for now');
      return;
    }
    this.next = u;
    if (!this.busy) void this.drain();
  }

  private async drain(): Promise<void> {
    this.busy = true;
    while (this.next) {
      const u = this.next;
      this.next = null;
      await this.say(u);
    }
    this.busy = false;
  }

  private say(u: { text: string; tone: 'ok' | 'refused' }): Promise<void> {
    const cfg = this.ctx.config.sound;
    // refusal: lower pitch, slower — recognisably "no" even in a noisy corridor
    const args = ['-v', cfg.voice, '-s', u.tone === 'ok' ? '165' : '135', '-p', u.tone === 'ok' ? '60' : '25'];
    const wav = cfg.wavDir ? join(cfg.wavDir, `${String(++this.n).padStart(4, '0')}-${u.tone}.wav`) : undefined;
    if (wav) args.push('-w', wav);
    args.push(u.text);
    return new Promise((resolve) => {
      this.spawned++;
      const p = spawn(cfg.command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      p.stderr.on('data', (d) => (err += d));
      let settled = false;
      // A command that cannot start emits 'error' (ENOENT) and then 'close' (code -2): one verdict, the first.
      const done = (problem: string | null) => {
        if (settled) return;
        settled = true;
        if (problem) {
          this.state = { state: 'fault', detail: `suara / sound: ${problem}`.slice(0, 300) };
          this.ctx.log.warn({ err: problem }, 'spoken feedback failed');
        } else {
          this.state = { state: 'ok', detail: `${cfg.command} -v ${cfg.voice}` };
          this.played.push({ ...u, ...(wav ? { wav } : {}) });
        }
        resolve();
      };
      p.on('error', (e) => {
        const missing = (e as NodeJS.ErrnoException).code === 'ENOENT';
        if (missing) this.missingUntil = Date.now() + MISSING_RETRY_MS;
        done(missing ? `${cfg.command} not installed (apt-get install espeak-ng)` : e.message);
      });
      p.on('close', (code) => (code === 0 ? done(null) : done(`${cfg.command} exit ${code}: ${err.trim().slice(0, 120)}`)));
    });
  }

  health(): ComponentState {
    return this.state;
  }
}

export function createSoundExtension(ctx: KioskContext): KioskExtension {
  return new SoundExtension(ctx);
}
