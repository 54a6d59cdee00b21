/**
 * GPIO lines behind a narrow interface: the real one on `onoff` (sysfs), and a fake that records
 * every level it would have driven (tests, `--simulate`, machines without GPIO).
 */
export interface OutputLine {
  write(value: 0 | 1): Promise<void>;
}
export interface InputLine {
  read(): Promise<0 | 1>;
  watch(fn: (value: 0 | 1) => void): void;
}
export interface GpioBackend {
  readonly kind: 'onoff' | 'fake';
  output(name: string, sysfs: number, activeLow: boolean): OutputLine;
  input(name: string, sysfs: number): InputLine;
  close(): void;
}

export interface DrivenLevel {
  /** ms since the backend was created */
  t: number;
  name: string;
  sysfs: number;
  value: 0 | 1;
}

export class FakeGpio implements GpioBackend {
  readonly kind = 'fake';
  readonly driven: DrivenLevel[] = [];
  private readonly levels = new Map<string, 0 | 1>();
  private readonly watchers = new Map<string, ((v: 0 | 1) => void)[]>();
  private readonly t0 = performance.now();

  output(name: string, sysfs: number): OutputLine {
    this.levels.set(name, 0);
    return {
      write: async (value) => {
        if (this.levels.get(name) === value) return;
        this.levels.set(name, value);
        this.driven.push({ t: Math.round(performance.now() - this.t0), name, sysfs, value });
      },
    };
  }

  input(name: string, _sysfs: number): InputLine {
    if (!this.levels.has(name)) this.levels.set(name, 0);
    return {
      read: async () => this.levels.get(name) ?? 0,
      watch: (fn) => this.watchers.set(name, [...(this.watchers.get(name) ?? []), fn]),
    };
  }

  /** Drive an input from outside (tamper switch in tests and the simulator). */
  setInput(name: string, value: 0 | 1): void {
    if (this.levels.get(name) === value) return;
    this.levels.set(name, value);
    for (const fn of this.watchers.get(name) ?? []) fn(value);
  }

  level(name: string): 0 | 1 | undefined {
    return this.levels.get(name);
  }

  close(): void {
    this.watchers.clear();
  }
}

type OnoffGpio = import('onoff').Gpio;

export class OnoffGpio_ implements GpioBackend {
  readonly kind = 'onoff';
  private readonly opened: OnoffGpio[] = [];
  constructor(private readonly Gpio: typeof import('onoff').Gpio) {}

  output(_name: string, sysfs: number, activeLow: boolean): OutputLine {
    // 'low' = output, initially inactive (with activeLow, "low" means the logical 0).
    const g = new this.Gpio(sysfs, 'low', 'none', { activeLow });
    this.opened.push(g);
    return { write: (v) => g.write(v) };
  }

  input(_name: string, sysfs: number): InputLine {
    const g = new this.Gpio(sysfs, 'in', 'both', { debounceTimeout: 20 });
    this.opened.push(g);
    return {
      read: () => g.read(),
      watch: (fn) => g.watch((err, v) => (err ? undefined : fn(v))),
    };
  }

  close(): void {
    for (const g of this.opened.splice(0)) {
      try {
        g.unwatchAll();
        g.unexport();
      } catch {
        // already gone: nothing to release
      }
    }
  }
}

/** onoff is imported lazily (it loads a native epoll addon). Returns null where GPIO is not accessible. */
export async function openOnoff(): Promise<GpioBackend | null> {
  const { Gpio } = await import('onoff');
  return Gpio.accessible ? new OnoffGpio_(Gpio) : null;
}
