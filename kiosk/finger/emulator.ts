import { createHash } from 'node:crypto';
import { DEFAULT_ADDRESS, INS, PACKET_SIZES, PID, PacketDecoder, dataPackets, encodePacket, type Packet } from './packet.js';

/**
 * A byte-accurate emulator of an R30x/R503-family fingerprint module. It consumes the bytes a host
 * writes and produces the bytes the module would answer, so the driver under test runs its real
 * framing, checksum, timeout and data-packet code. Transport adapters (binding-mock, pty) are in
 * emulator-transport.ts.
 *
 * Fingers are synthetic: a finger is a seed (e.g. `199001012020011001#1`) expanded into a character
 * file; each capture perturbs a few bytes (no two captures are identical, as on real glass) and a
 * search scores the fraction of bytes equal to a library template.
 */

export type FaultKind = 'checksum' | 'truncate' | 'silence' | 'wrong-address' | 'garbage';

export interface EmulatorOptions {
  address?: number;
  password?: number;
  /** Template library capacity (R307: 1000, R503: 200, AS608: 300/1000). */
  capacity?: number;
  /** Data packet size (32/64/128/256). */
  packetSize?: number;
  /** Character file size in bytes (512 on R30x/AS608). */
  templateSize?: number;
  securityLevel?: number;
  /** When set, the emulator keeps to the UART's byte rate (10 bits per byte) in both directions. */
  lineBaud?: number;
}

/** Deterministic synthetic character file for a finger seed. */
export function syntheticTemplate(seed: string, size = 512): Buffer {
  const out = Buffer.alloc(size);
  let block = createHash('sha256').update(`finger:${seed}`).digest();
  for (let off = 0; off < size; off += block.length) {
    block.copy(out, off);
    block = createHash('sha256').update(block).digest();
  }
  // Real character files start with a small header; keep a fixed one so templates look alike.
  out[0] = 0x03;
  out[1] = 0x01;
  return out;
}

/** Fraction of equal bytes → sensor-like score (0..~250); random templates score ~1. */
export function similarityScore(a: Buffer, b: Buffer): number {
  const n = Math.min(a.length, b.length);
  if (n === 0) return 0;
  let same = 0;
  for (let i = 0; i < n; i++) if (a[i] === b[i]) same++;
  return Math.round((same / n) * 250);
}

/** Match thresholds per security level 1..5 (stricter levels need more agreement). */
const THRESHOLDS = [0, 100, 120, 140, 160, 180];

/** good; poor = readable image, too few features (Img2Tz 0x07); fail = no usable image (GenImg 0x03). */
export type FingerQuality = 'good' | 'poor' | 'fail';

interface Finger {
  template: Buffer;
  quality: FingerQuality;
}

export class SensorEmulator {
  readonly address: number;
  readonly capacity: number;
  readonly packetSize: number;
  readonly templateSize: number;
  securityLevel: number;
  private readonly password: number;
  private passwordOk: boolean;
  readonly library = new Map<number, Buffer>();
  private finger: Finger | null = null;
  private image: Buffer | null = null;
  private readonly charBuf: [null, Buffer | null, Buffer | null] = [null, null, null];
  private captures = 0;
  private fault: { kind: FaultKind; remaining: number } | null = null;
  private downChar: { buffer: 1 | 2; parts: Buffer[] } | null = null;
  private readonly decoder: PacketDecoder;
  private readonly lineBaud: number | undefined;
  private rxBusyUntil = 0;
  private txBusyUntil = 0;
  private readonly timers = new Set<NodeJS.Timeout>();
  private disposed = false;
  /** Where answer bytes go (set by the transport). */
  onOutput: (bytes: Buffer) => void = () => {};
  /** Counters for tests and the bench. */
  readonly stats = { commands: 0, bytesIn: 0, bytesOut: 0, captures: 0, emptyPolls: 0 };

  constructor(opts: EmulatorOptions = {}) {
    this.address = opts.address ?? DEFAULT_ADDRESS;
    this.password = opts.password ?? 0;
    this.passwordOk = this.password === 0;
    this.capacity = opts.capacity ?? 200;
    this.packetSize = opts.packetSize ?? 128;
    if (!(PACKET_SIZES as readonly number[]).includes(this.packetSize)) throw new Error(`packetSize must be one of ${PACKET_SIZES.join(', ')}`);
    this.templateSize = opts.templateSize ?? 512;
    this.securityLevel = opts.securityLevel ?? 3;
    this.lineBaud = opts.lineBaud;
    this.decoder = new PacketDecoder(
      (p) => this.onPacket(p),
      () => {}, // a real module silently drops what it cannot parse
    );
  }

  // ---- control (the "hand" of the test or the demo) -------------------------------------------

  /** Put a finger on the glass: a seed (`nip#finger`) or raw template bytes. */
  place(finger: string | Buffer, quality: FingerQuality = 'good'): void {
    this.finger = { template: typeof finger === 'string' ? syntheticTemplate(finger, this.templateSize) : Buffer.from(finger), quality };
  }

  lift(): void {
    this.finger = null;
  }

  get fingerOnGlass(): boolean {
    return this.finger !== null;
  }

  /** Inject a line fault into the next `count` answers (Infinity: until cleared). */
  injectFault(kind: FaultKind, count = 1): void {
    this.fault = { kind, remaining: count };
  }

  clearFault(): void {
    this.fault = null;
  }

  /** A new sensor out of the box: empty library, buffers cleared (a "sensor swap"). */
  swap(): void {
    this.library.clear();
    this.charBuf[1] = this.charBuf[2] = null;
    this.image = null;
    this.passwordOk = this.password === 0;
  }

  /** Stops pending paced output (the transport is going away). */
  dispose(): void {
    this.disposed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  // ---- byte interface ---------------------------------------------------------------------------

  /** Bytes written by the host. */
  receive(bytes: Buffer): void {
    this.stats.bytesIn += bytes.length;
    this.paced('rx', bytes.length, () => this.decoder.push(Buffer.from(bytes)));
  }

  private paced(dir: 'rx' | 'tx', n: number, fn: () => void): void {
    if (!this.lineBaud) return fn();
    const now = performance.now();
    const key = dir === 'rx' ? 'rxBusyUntil' : 'txBusyUntil';
    const target = (this[key] = Math.max(now, this[key]) + (n * 10 * 1000) / this.lineBaud);
    // Timers are ms-granular and late; a UART is neither. Sleep until ~1 ms before the last byte
    // would have left the wire, then yield with setImmediate until it has: never early, rarely late.
    const fire = () => {
      if (this.disposed) return;
      const left = target - performance.now();
      if (left <= 0) return fn();
      if (left > 1.5) {
        const t = setTimeout(() => {
          this.timers.delete(t);
          fire();
        }, Math.floor(left - 1));
        this.timers.add(t);
      } else setImmediate(fire);
    };
    fire();
  }

  private send(frames: Buffer[]): void {
    let out = Buffer.concat(frames);
    const fault = this.fault;
    if (fault) {
      if (--fault.remaining <= 0) this.fault = null;
      switch (fault.kind) {
        case 'silence':
          return;
        case 'truncate':
          out = out.subarray(0, Math.max(3, Math.floor(out.length / 2)));
          break;
        case 'checksum':
          out = Buffer.from(out);
          out[out.length - 1] = out[out.length - 1]! ^ 0x5a;
          break;
        case 'wrong-address':
          out = Buffer.from(out);
          out.writeUInt32BE((this.address ^ 0x01) >>> 0, 2);
          // keep later frames' addresses wrong too; checksum does not cover the address
          break;
        case 'garbage':
          out = Buffer.from(Array.from({ length: 13 }, (_, i) => (i * 37 + 0x55) & 0xff).filter((b) => b !== 0xef));
          break;
      }
    }
    this.stats.bytesOut += out.length;
    this.paced('tx', out.length, () => this.onOutput(out));
  }

  private ack(code: number, extra: Buffer = Buffer.alloc(0)): Buffer {
    return encodePacket({ address: this.address, pid: PID.ack, payload: Buffer.concat([Buffer.from([code]), extra]) });
  }

  private onPacket(p: Packet): void {
    if (p.address !== this.address) return; // not for us: a real module stays silent
    if (this.downChar) {
      if (p.pid === PID.data || p.pid === PID.end) {
        this.downChar.parts.push(p.payload);
        if (p.pid === PID.end) {
          const t = Buffer.concat(this.downChar.parts);
          // A character file of the wrong size is not a template for this module: the buffer stays empty.
          this.charBuf[this.downChar.buffer] = t.length === this.templateSize ? t : null;
          this.downChar = null;
        }
        return;
      }
      this.downChar = null; // a command interrupts an unfinished download
    }
    if (p.pid !== PID.command || p.payload.length < 1) return;
    this.stats.commands++;
    this.send(this.execute(p.payload[0]!, p.payload.subarray(1)));
  }

  private execute(ins: number, a: Buffer): Buffer[] {
    const ok = (extra?: Buffer) => [this.ack(0, extra)];
    const err = (code: number) => [this.ack(code)];
    if (!this.passwordOk && ins !== INS.VfyPwd) return err(0x21);
    const page = (off: number) => (a.length >= off + 2 ? a.readUInt16BE(off) : -1);
    const bufId = (v: number | undefined): 1 | 2 | null => (v === 1 || v === 2 ? v : null);
    switch (ins) {
      case INS.VfyPwd: {
        if (a.length < 4) return err(0x01);
        if (a.readUInt32BE(0) !== this.password) return err(0x13);
        this.passwordOk = true;
        return ok();
      }
      case INS.ReadSysPara: {
        const b = Buffer.alloc(16);
        b.writeUInt16BE(0x0000, 0); // status register: not busy, no pass needed, image buffer state
        b.writeUInt16BE(0x0009, 2); // system identifier code
        b.writeUInt16BE(this.capacity, 4);
        b.writeUInt16BE(this.securityLevel, 6);
        b.writeUInt32BE(this.address >>> 0, 8);
        b.writeUInt16BE((PACKET_SIZES as readonly number[]).indexOf(this.packetSize), 12);
        b.writeUInt16BE(6, 14); // baud = 6 × 9600 = 57600
        return ok(b);
      }
      case INS.GenImg: {
        if (!this.finger) {
          this.stats.emptyPolls++;
          return err(0x02);
        }
        if (this.finger.quality === 'fail') return err(0x03);
        this.captures++;
        this.stats.captures++;
        this.image = this.finger.quality === 'poor' ? Buffer.alloc(0) : this.noisy(this.finger.template);
        return ok();
      }
      case INS.Img2Tz: {
        const b = bufId(a[0]);
        if (!b) return err(0x01);
        if (!this.image) return err(0x15);
        if (this.image.length === 0) return err(0x07); // poor image: too few feature points
        this.charBuf[b] = this.image;
        return ok();
      }
      case INS.Search: {
        const b = bufId(a[0]);
        const start = page(1);
        const count = page(3);
        if (!b || start < 0 || count < 0) return err(0x01);
        const probe = this.charBuf[b];
        if (!probe) return err(0x09);
        let best: { page: number; score: number } | null = null;
        for (const [pid, tpl] of this.library) {
          if (pid < start || pid >= start + count) continue;
          const score = similarityScore(probe, tpl);
          if (score >= THRESHOLDS[this.securityLevel]! && (!best || score > best.score)) best = { page: pid, score };
        }
        if (!best) return err(0x09);
        const r = Buffer.alloc(4);
        r.writeUInt16BE(best.page, 0);
        r.writeUInt16BE(best.score, 2);
        return ok(r);
      }
      case INS.RegModel: {
        const [, c1, c2] = this.charBuf;
        if (!c1 || !c2 || similarityScore(c1, c2) < THRESHOLDS[this.securityLevel]!) return err(0x0a);
        // Combine: where the captures disagree keep the first (a model is the consensus).
        const model = Buffer.from(c1);
        this.charBuf[1] = model;
        this.charBuf[2] = Buffer.from(model);
        return ok();
      }
      case INS.Store: {
        const b = bufId(a[0]);
        const pid = page(1);
        if (!b) return err(0x01);
        if (pid < 0 || pid >= this.capacity) return err(0x0b);
        const c = this.charBuf[b];
        if (!c) return err(0x22);
        this.library.set(pid, Buffer.from(c));
        return ok();
      }
      case INS.LoadChar: {
        const b = bufId(a[0]);
        const pid = page(1);
        if (!b) return err(0x01);
        if (pid < 0 || pid >= this.capacity) return err(0x0b);
        const t = this.library.get(pid);
        if (!t) return err(0x0c);
        this.charBuf[b] = Buffer.from(t);
        return ok();
      }
      case INS.UpChar: {
        const b = bufId(a[0]);
        if (!b) return err(0x01);
        const c = this.charBuf[b];
        if (!c) return err(0x0d);
        return [this.ack(0), ...dataPackets(this.address, c, this.packetSize)];
      }
      case INS.DownChar: {
        const b = bufId(a[0]);
        if (!b) return err(0x01);
        this.downChar = { buffer: b, parts: [] };
        return ok();
      }
      case INS.DeletChar: {
        const start = page(0);
        const n = page(2);
        if (start < 0 || n < 0) return err(0x01);
        if (start + n > this.capacity) return err(0x10);
        for (let i = start; i < start + n; i++) this.library.delete(i);
        return ok();
      }
      case INS.Empty:
        this.library.clear();
        return ok();
      case INS.TempleteNum: {
        const r = Buffer.alloc(2);
        r.writeUInt16BE(this.library.size);
        return ok(r);
      }
      case INS.ReadIndexTable: {
        const t = a[0];
        if (t === undefined || t > 3) return err(0x01);
        const r = Buffer.alloc(32);
        for (const pid of this.library.keys()) {
          const rel = pid - t * 256;
          if (rel >= 0 && rel < 256) r[rel >> 3]! |= 1 << (rel & 7);
        }
        return ok(r);
      }
      case INS.AuraLedConfig:
        return a.length >= 4 && a[0]! >= 1 && a[0]! <= 6 ? ok() : err(0x01);
      default:
        return err(0x19);
    }
  }

  /** A capture of the finger: ~4% of the bytes differ from the finger's true template. */
  private noisy(t: Buffer): Buffer {
    const out = Buffer.from(t);
    let x = (this.captures * 2654435761) >>> 0;
    for (let k = 0; k < Math.floor(t.length / 25); k++) {
      x = (Math.imul(x ^ (x >>> 15), 2246822519) + 0x9e3779b9) >>> 0;
      const i = 2 + (x % (t.length - 2));
      out[i] = (out[i]! + 1 + (x >>> 24)) & 0xff;
    }
    return out;
  }
}
