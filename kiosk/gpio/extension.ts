import type { ComponentState } from '../../protocol/index.js';
import type { Logger } from '../../lib/logger.js';
import type { KioskContext, KioskExtension } from '../extension-api.js';
import type { Feedback, FeedbackEvent, HealthReporter } from '../types.js';
import { bcmToSysfs, resolveChipBase, type GpioChip } from './chip.js';
import type { GpioConfig, OutputName } from './config.js';
import { FakeGpio, openOnoff, type GpioBackend, type OutputLine } from './lines.js';
import { PATTERNS, opensDoor, patternFor, type PatternName } from './patterns.js';

/**
 * LEDs, buzzer, door relay and tamper switch as a kiosk Feedback: each FeedbackEvent plays its
 * pattern (a newer event cuts the running one short). Without GPIO (`--simulate`, a PC, a Pi whose
 * user may not touch /sys/class/gpio) a FakeGpio records what would have been driven.
 */
export class GpioFeedback implements Feedback, HealthReporter {
  readonly component = 'gpio';
  private readonly out: Partial<Record<OutputName, OutputLine>> = {};
  private generation = 0;
  private doorTimer: NodeJS.Timeout | null = null;
  private stepTimer: NodeJS.Timeout | null = null;
  /** Ends the running pattern's current wait (a newer event pre-empts it). */
  private endStep: (() => void) | null = null;
  private tampered = false;
  private error: string | null = null;
  lastPattern: PatternName | null = null;

  constructor(
    readonly backend: GpioBackend,
    private readonly config: GpioConfig,
    private readonly chip: GpioChip,
    private readonly log: Logger,
    private readonly onTamper: (open: boolean) => void = () => {},
    private readonly note = '',
  ) {
    const p = config.pins;
    const outs: [OutputName, number | undefined][] = [
      ['greenLed', p.greenLed],
      ['redLed', p.redLed],
      ['buzzer', p.buzzer],
      ['doorRelay', p.doorRelay],
    ];
    for (const [name, pin] of outs) if (pin !== undefined) this.out[name] = backend.output(name, bcmToSysfs(pin, chip), config.activeLow.includes(name));
    if (p.tamper !== undefined) {
      const input = backend.input('tamper', bcmToSysfs(p.tamper, chip));
      const apply = (v: 0 | 1) => {
        const open = v === config.tamperOpenLevel;
        if (open === this.tampered) return;
        this.tampered = open;
        this.log[open ? 'warn' : 'info']({ open }, open ? 'tamper: casing opened' : 'tamper: casing closed');
        this.onTamper(open);
      };
      input.watch(apply);
      void input.read().then(apply, () => {});
    }
  }

  state(): ComponentState {
    if (this.error) return { state: 'fault', detail: this.error.slice(0, 300) };
    if (this.tampered) return { state: 'fault', detail: 'casing dibuka (tamper) / casing opened (tamper switch)' };
    const where = this.backend.kind === 'fake' ? `fake (tanpa GPIO / no GPIO)${this.note}` : `${this.chip.label || this.chip.name} base ${this.chip.base}`;
    return { state: this.backend.kind === 'fake' && this.note ? 'absent' : 'ok', detail: `${where}; last: ${this.lastPattern ?? '-'}` };
  }

  async notify(ev: FeedbackEvent): Promise<void> {
    const name = patternFor(ev);
    if (!name) return;
    this.lastPattern = name;
    const gen = ++this.generation;
    this.cutShort();
    this.log.debug({ pattern: name, backend: this.backend.kind }, 'gpio feedback');
    if (opensDoor(ev) && this.out.doorRelay) void this.pulseDoor();
    try {
      for (const step of PATTERNS[name]) {
        if (gen !== this.generation) return;
        await this.set(step.green, step.red, step.buzzer);
        await new Promise<void>((r) => {
          this.endStep = r;
          this.stepTimer = setTimeout(r, step.ms);
        });
      }
      if (gen === this.generation) await this.set(0, 0, 0);
      this.error = null;
    } catch (e) {
      this.error = `GPIO write failed: ${(e as Error).message}`;
      this.log.error({ err: (e as Error).message }, 'gpio write failed');
    }
  }

  private cutShort(): void {
    if (this.stepTimer) clearTimeout(this.stepTimer);
    this.stepTimer = null;
    const end = this.endStep;
    this.endStep = null;
    end?.();
  }

  private async set(green: 0 | 1, red: 0 | 1, buzzer: 0 | 1): Promise<void> {
    await Promise.all([this.out.greenLed?.write(green), this.out.redLed?.write(red), this.out.buzzer?.write(buzzer)]);
  }

  private async pulseDoor(): Promise<void> {
    if (this.doorTimer) clearTimeout(this.doorTimer);
    await this.out.doorRelay!.write(1);
    this.doorTimer = setTimeout(() => {
      this.doorTimer = null;
      void this.out.doorRelay?.write(0);
    }, this.config.doorOpenMs);
  }

  async close(): Promise<void> {
    this.generation++;
    this.cutShort();
    if (this.doorTimer) clearTimeout(this.doorTimer);
    await this.set(0, 0, 0).catch(() => {});
    await this.out.doorRelay?.write(0).catch(() => {});
    this.backend.close();
  }
}

export class GpioExtension implements KioskExtension {
  readonly name = 'gpio';
  feedback: GpioFeedback | null = null;

  constructor(
    private readonly ctx: KioskContext,
    /** Tests inject a backend (FakeGpio) instead of onoff. */
    private readonly backendOverride?: GpioBackend,
  ) {}

  async start(): Promise<void> {
    const { ctx } = this;
    const config = ctx.config.gpio;
    const log = ctx.log.child({ part: 'gpio' });
    if (!config.enabled) {
      ctx.health.register({ component: 'gpio', state: () => ({ state: 'disabled' }) });
      return;
    }
    let backend = this.backendOverride ?? null;
    let chip: GpioChip = { name: 'fake', base: 0, ngpio: 54, label: 'fake' };
    let note = '';
    if (!backend && !ctx.simulate) {
      backend = await openOnoff();
      if (backend) chip = resolveChipBase(config.sysfsRoot, config.chipBase);
      else note = ': /sys/class/gpio not accessible';
    }
    if (!backend) {
      backend = new FakeGpio();
      if (!ctx.simulate) log.warn('GPIO not accessible: LEDs/buzzer are simulated (add the hadir user to the gpio group)');
    } else if (backend.kind === 'onoff') log.info({ chip: chip.label, base: chip.base }, 'GPIO ready');
    this.feedback = new GpioFeedback(backend, config, chip, log, (open) => {
      if (open) ctx.bus.emit('feedback', { kind: 'fault', component: 'tamper', detail: 'casing dibuka / casing opened' });
    }, note);
    ctx.health.register(this.feedback);
    ctx.addFeedback(this.feedback);
  }

  async stop(): Promise<void> {
    await this.feedback?.close();
  }
}

export function createGpioExtension(ctx: KioskContext): KioskExtension {
  return new GpioExtension(ctx);
}
