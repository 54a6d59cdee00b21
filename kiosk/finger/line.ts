/**
 * One direction of a UART, for the emulator: bytes leave in the order they were given, each chunk
 * once its last byte would have crossed the wire at `baud` (10 bits per byte, 8N1).
 *
 * Everything waits in one FIFO drained from its head. An earlier version scheduled each chunk on
 * its own timer; a chunk that slept on a (late, ms-granular) setTimeout could be overtaken by a
 * later chunk that was spinning on setImmediate, so a host writing one byte per write() (as
 * pyfingerprint does) occasionally had its bytes reordered and a packet lost (issue 14).
 */
export class PacedLine {
  private readonly queue: { bytes: Buffer; at: number }[] = [];
  private busyUntil = 0;
  private timer: NodeJS.Timeout | null = null;
  private immediate: NodeJS.Immediate | null = null;
  private stopped = false;

  constructor(
    private readonly deliver: (bytes: Buffer) => void,
    /** Undefined: no pacing, bytes are delivered synchronously. */
    private readonly baud?: number,
  ) {}

  /** Bytes still on the (virtual) wire. */
  get pending(): number {
    return this.queue.reduce((n, q) => n + q.bytes.length, 0);
  }

  push(bytes: Buffer): void {
    if (this.stopped || bytes.length === 0) return;
    if (!this.baud) return this.deliver(bytes);
    const now = performance.now();
    this.busyUntil = Math.max(now, this.busyUntil) + (bytes.length * 10 * 1000) / this.baud;
    this.queue.push({ bytes, at: this.busyUntil });
    this.schedule();
  }

  /** Drops what is still on the wire (the other end went away, or the module reset). */
  stop(): void {
    this.stopped = true;
    this.clear();
  }

  clear(): void {
    this.queue.length = 0;
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = this.immediate = null;
  }

  private readonly drain = () => {
    this.timer = this.immediate = null;
    const now = performance.now();
    while (this.queue.length && this.queue[0]!.at <= now && !this.stopped) this.deliver(this.queue.shift()!.bytes);
    this.schedule();
  };

  private schedule(): void {
    if (this.timer || this.immediate || !this.queue.length || this.stopped) return;
    // Timers are ms-granular and late; a UART is neither. Sleep until ~1 ms before the head is
    // due, then yield with setImmediate until it is: never early, rarely late.
    const left = this.queue[0]!.at - performance.now();
    if (left > 1.5) this.timer = setTimeout(this.drain, Math.floor(left - 1));
    else this.immediate = setImmediate(this.drain);
  }
}
