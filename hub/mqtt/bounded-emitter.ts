import mqemitter from 'mqemitter';

type Message = mqemitter.Message;
type Listener = (message: Message, done: () => void) => void;
type Pending = { message: Message; cb: (err?: Error) => void };

/**
 * The message bus of the embedded broker (aedes `mq` option): mqemitter's topic matching and
 * delivery, with aedes' `concurrency` limit enforced HERE, by an iterative loop, instead of inside
 * mqemitter.
 *
 * Why: mqemitter 7.1.0 (the newest; aedes 1.2.0 uses it) starts the next queued message from the
 * completion callback of the previous one, synchronously. When listeners complete synchronously —
 * as aedes' do for in-memory sessions — every queued message adds ~4 stack frames, and a queue of a
 * few thousand messages (500 kiosks each sending a burst of punches) ends in `RangeError: Maximum
 * call stack size exceeded` at Qlobber._match2 ← MQEmitter._do ← released ← fastparallel, which
 * kills the hub (upstream: mcollina/mqemitter PR #204, moscajs/aedes #193, both open). Here the inner
 * mqemitter runs with no concurrency limit, so it never queues and never recurses; messages over
 * the limit wait in our queue and are started by `drain()`, a loop that is never re-entered: a
 * completion inside it only decrements the count and lets the loop continue. Order is kept (FIFO),
 * nothing is deferred to a later tick, so the hot path costs what it cost before.
 */
export class BoundedMqEmitter implements mqemitter.MQEmitter {
  private readonly inner: mqemitter.MQEmitter;
  private readonly queue: Pending[] = [];
  private head = 0;
  private draining = false;
  private closed = false;
  current = 0;
  /** The greatest queue length seen (bench and tests). */
  maxQueued = 0;

  constructor(readonly concurrency: number) {
    // matchEmptyLevels as aedes sets it for its own mqemitter [MQTT-4.7.1-3]
    this.inner = mqemitter({ concurrency: 0, matchEmptyLevels: true });
  }

  /** mqemitter's typings name it so; aedes never reads it. */
  get concurrent(): number {
    return this.concurrency;
  }

  /** Messages waiting for a slot (mqemitter's `length`). */
  get length(): number {
    return this.queue.length - this.head;
  }

  on(topic: string, listener: Listener, callback?: () => void): this {
    this.inner.on(topic, listener, callback);
    return this;
  }

  removeListener(topic: string, listener: Listener, callback?: () => void): void {
    this.inner.removeListener(topic, listener, callback);
  }

  emit(message: Message, cb: (err?: Error) => void = noop): void {
    if (this.closed) return cb(new Error('mqemitter is closed'));
    this.queue.push({ message, cb });
    this.maxQueued = Math.max(this.maxQueued, this.length);
    this.drain();
  }

  close(callback: () => void): void {
    this.closed = true;
    this.inner.close(callback);
  }

  /** Starts queued messages while slots are free. Re-entrant calls return at once: the loop that is already running picks up whatever they would have started. */
  private drain(): void {
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.head < this.queue.length && (this.concurrency <= 0 || this.current < this.concurrency)) {
        const p = this.queue[this.head]!;
        this.queue[this.head++] = undefined as unknown as Pending; // let it be collected
        if (this.head > 1024 && this.head * 2 > this.queue.length) this.queue.splice(0, this.head), (this.head = 0);
        this.current++;
        this.inner.emit(p.message, (err?: Error) => {
          this.current--;
          p.cb(err);
          this.drain();
        });
      }
    } finally {
      this.draining = false;
    }
  }
}

function noop(): void {}
