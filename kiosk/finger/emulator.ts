import { randomBytes } from 'node:crypto';
import { syntheticTemplate } from '../../finger/synthetic.js';
import { IMAGE_BYTES, parseImage, renderImage, type ImageContent } from './emulator-image.js';
import { PacedLine } from './line.js';
import {
  ACK_PARAM_BYTES,
  DEFAULT_ADDRESS,
  INS,
  PACKET_SIZES,
  PID,
  PacketDecoder,
  SYS_REG,
  dataPackets,
  encodePacket,
  type DecodeProblem,
  type InstructionName,
  type Packet,
} from './packet.js';

/**
 * A byte-accurate emulator of an R30x / AS608 / R503-family fingerprint module. It consumes the
 * bytes a host writes and produces the bytes the module would answer, so the driver under test (or
 * pyfingerprint, or an Arduino sketch's library) runs its real framing, checksum, timeout and
 * data-packet code. It speaks every instruction of the family's datasheets (the union of R30x,
 * AS608 and R503 — see INS) with the datasheets' confirmation codes for bad parameters; transport
 * adapters (binding-mock, pty) are in transport.ts.
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

/** Confirmation codes the emulator answers (datasheet names). */
const C = {
  ok: 0x00,
  packetError: 0x01,
  noFinger: 0x02,
  imageFail: 0x03,
  imageMessy: 0x06,
  featureFail: 0x07,
  noMatch: 0x08,
  notFound: 0x09,
  enrollMismatch: 0x0a,
  badLocation: 0x0b,
  dbReadFail: 0x0c,
  uploadFeatureFail: 0x0d,
  uploadImageFail: 0x0f,
  deleteFail: 0x10,
  wrongPassword: 0x13,
  invalidImage: 0x15,
  undefinedError: 0x19,
  invalidRegister: 0x1a,
  badRegisterConfig: 0x1b,
  badNotepadPage: 0x1c,
  portFail: 0x1d,
  libraryFull: 0x1f,
  passwordRequired: 0x21,
  templateEmpty: 0x22,
  libraryEmpty: 0x24,
  timeout: 0x26,
  alreadyExists: 0x27,
} as const;

const NAME_OF = new Map<number, InstructionName>(Object.entries(INS).map(([k, v]) => [v, k as InstructionName]));
/** Parameter bytes each instruction needs; a shorter command packet is a receive error (0x01). */
const PARAM_BYTES: Partial<Record<InstructionName, number>> = {
  Img2Tz: 1,
  Search: 5,
  HiSpeedSearch: 5,
  Store: 3,
  LoadChar: 3,
  UpChar: 1,
  DownChar: 1,
  DeletChar: 4,
  SetSysPara: 2,
  SetPwd: 4,
  VfyPwd: 4,
  SetAdder: 4,
  WriteNotepad: 33,
  ReadNotepad: 1,
  BurnCode: 1,
  GenBinImage: 1,
  UserGPIO: 2,
  ReadIndexTable: 1,
  AutoEnroll: 5,
  AutoIdentify: 5,
  AuraLedConfig: 4,
};

const INFO_PAGE_BYTES = 512;
const NOTEPAD_PAGES = 16;
const NOTEPAD_PAGE_BYTES = 32;

type Download = { into: 'char'; buffer: 1 | 2 } | { into: 'image' } | { into: 'firmware' };

export class SensorEmulator {
  address: number;
  readonly capacity: number;
  packetSize: number;
  readonly templateSize: number;
  securityLevel: number;
  /** Baud rate register N (baud = N × 9600); stored, reported, applied at the next power-on as on the module. */
  baudMultiplier = 6;
  private password: number;
  private passwordOk: boolean;
  readonly library = new Map<number, Buffer>();
  readonly notepad = Array.from({ length: NOTEPAD_PAGES }, () => Buffer.alloc(NOTEPAD_PAGE_BYTES));
  /** LED of the Adafruit-sold modules (LedOn/LedOff) and the R503 ring (AuraLedConfig). */
  readonly leds = { on: false, aura: null as null | { mode: number; speed: number; color: number; count: number } };
  /** AS608 user GPIO levels and port control state, for tests. */
  readonly gpio = [0, 0];
  portEnabled = true;
  private finger: Finger | null = null;
  private image: ImageContent | null = null;
  private readonly charBuf: [null, Buffer | null, Buffer | null] = [null, null, null];
  private lastPass = false;
  private captures = 0;
  private fault: { kind: FaultKind; remaining: number } | null = null;
  private download: (Download & { parts: Buffer[]; corrupt: boolean }) | null = null;
  private readonly decoder: PacketDecoder;
  private readonly rx: PacedLine;
  private readonly tx: PacedLine;
  /** Where answer bytes go (set by the transport). */
  onOutput: (bytes: Buffer) => void = () => {};
  /** Counters for tests and the bench. */
  readonly stats = { commands: 0, bytesIn: 0, bytesOut: 0, captures: 0, emptyPolls: 0, badPackets: 0, downloads: 0, failedDownloads: 0 };

  constructor(opts: EmulatorOptions = {}) {
    this.address = (opts.address ?? DEFAULT_ADDRESS) >>> 0;
    this.password = opts.password ?? 0;
    this.passwordOk = this.password === 0;
    this.capacity = opts.capacity ?? 200;
    this.packetSize = opts.packetSize ?? 128;
    if (!(PACKET_SIZES as readonly number[]).includes(this.packetSize)) throw new Error(`packetSize must be one of ${PACKET_SIZES.join(', ')}`);
    this.templateSize = opts.templateSize ?? 512;
    this.securityLevel = opts.securityLevel ?? 3;
    this.decoder = new PacketDecoder(
      (p) => this.onPacket(p),
      (p) => this.onProblem(p),
    );
    this.rx = new PacedLine((b) => this.decoder.push(b), opts.lineBaud);
    this.tx = new PacedLine((b) => this.onOutput(b), opts.lineBaud);
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

  /** A character buffer's content (tests). */
  charBuffer(n: 1 | 2): Buffer | null {
    return this.charBuf[n];
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
    this.reset();
  }

  /** Stops pending paced output (the transport is going away). */
  dispose(): void {
    this.rx.stop();
    this.tx.stop();
  }

  // ---- byte interface ---------------------------------------------------------------------------

  /** Bytes written by the host. */
  receive(bytes: Buffer): void {
    this.stats.bytesIn += bytes.length;
    this.rx.push(Buffer.from(bytes));
  }

  private reset(): void {
    this.charBuf[1] = this.charBuf[2] = null;
    this.image = null;
    this.download = null;
    this.lastPass = false;
    this.passwordOk = this.password === 0;
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
    this.tx.push(out);
  }

  /** Acknowledgement: confirmation code, then the instruction's parameter bytes (zeros when the code is an error). */
  private ack(ins: InstructionName | undefined, code: number, params: Buffer = Buffer.alloc(0), from = this.address): Buffer {
    const n = (ins && ACK_PARAM_BYTES[ins]) ?? params.length;
    const body = Buffer.alloc(1 + Math.max(n, params.length));
    body[0] = code;
    params.copy(body, 1);
    return encodePacket({ address: from, pid: PID.ack, payload: body });
  }

  private onProblem(p: DecodeProblem): void {
    if (p.kind !== 'checksum') return; // noise: a real module drops what it cannot frame
    this.stats.badPackets++;
    const pkt = p.packet;
    if (pkt.address !== this.address) return;
    if (this.download && (pkt.pid === PID.data || pkt.pid === PID.end)) {
      // The data are damaged: the buffer must not end up holding them (nor its old content).
      this.download.corrupt = true;
      if (pkt.pid === PID.end) this.finishDownload();
      return;
    }
    if (pkt.pid === PID.command) {
      this.download = null;
      this.send([this.ack(NAME_OF.get(pkt.payload[0] ?? -1), C.packetError)]);
    }
  }

  private onPacket(p: Packet): void {
    if (p.address !== this.address) return; // not for us: a real module stays silent
    if (this.download) {
      if (p.pid === PID.data || p.pid === PID.end) {
        this.download.parts.push(p.payload);
        if (p.pid === PID.end) this.finishDownload();
        return;
      }
      // A command interrupts an unfinished download; what was received is not kept.
      this.stats.failedDownloads++;
      this.download = null;
    }
    if (p.pid !== PID.command || p.payload.length < 1) return; // a stray data packet is ignored
    this.stats.commands++;
    this.send(this.execute(p.payload[0]!, p.payload.subarray(1)));
  }

  private finishDownload(): void {
    const d = this.download!;
    this.download = null;
    const bytes = Buffer.concat(d.parts);
    this.stats.downloads++;
    if (d.corrupt) this.stats.failedDownloads++;
    if (d.into === 'char') {
      // A character file of the wrong size, or one with a damaged packet, is not a template: the buffer stays empty.
      this.charBuf[d.buffer] = !d.corrupt && bytes.length === this.templateSize ? bytes : null;
    } else if (d.into === 'image') {
      this.image = !d.corrupt && bytes.length === IMAGE_BYTES ? parseImage(bytes) : null;
    }
  }

  private execute(code: number, a: Buffer): Buffer[] {
    const ins = NAME_OF.get(code);
    const reply = (c: number, params?: Buffer) => [this.ack(ins, c, params)];
    if (!ins) return [this.ack(undefined, C.undefinedError)];
    if (!this.passwordOk && ins !== 'VfyPwd') return reply(C.passwordRequired);
    if (a.length < (PARAM_BYTES[ins] ?? 0)) return reply(C.packetError);
    const u16 = (off: number) => a.readUInt16BE(off);
    const bufId = (v: number | undefined): 1 | 2 | null => (v === 1 || v === 2 ? v : null);
    const word = (...vals: number[]) => {
      const b = Buffer.alloc(vals.length * 2);
      vals.forEach((v, i) => b.writeUInt16BE(v, i * 2));
      return b;
    };
    switch (ins) {
      // ---- system ----
      case 'VfyPwd':
        if (a.readUInt32BE(0) !== this.password) return reply(C.wrongPassword);
        this.passwordOk = true;
        return reply(C.ok);
      case 'SetPwd':
        this.password = a.readUInt32BE(0);
        return reply(C.ok);
      case 'SetAdder': {
        // The module answers from its new address.
        this.address = a.readUInt32BE(0);
        return [this.ack(ins, C.ok, Buffer.alloc(0), this.address)];
      }
      case 'SetSysPara': {
        const [reg, value] = [a[0]!, a[1]!];
        if (reg === SYS_REG.baud) {
          if (value < 1 || value > 12) return reply(C.badRegisterConfig);
          this.baudMultiplier = value;
        } else if (reg === SYS_REG.securityLevel) {
          if (value < 1 || value > 5) return reply(C.badRegisterConfig);
          this.securityLevel = value;
        } else if (reg === SYS_REG.packetSize) {
          if (value > 3) return reply(C.badRegisterConfig);
          this.packetSize = PACKET_SIZES[value]!;
        } else return reply(C.invalidRegister);
        return reply(C.ok);
      }
      case 'ReadSysPara': {
        const status = (this.image ? 8 : 0) | (this.passwordOk && this.password !== 0 ? 4 : 0) | (this.lastPass ? 2 : 0);
        const b = this.sysParams();
        b.writeUInt16BE(status, 0); // status register: ImgBufStat, PWD, Pass, Busy (never busy between commands)
        return reply(C.ok, b);
      }
      case 'TempleteNum':
        return reply(C.ok, word(this.library.size));
      case 'ReadIndexTable': {
        const t = a[0]!;
        if (t > 3) return reply(C.packetError);
        const r = Buffer.alloc(32);
        for (const pid of this.library.keys()) {
          const rel = pid - t * 256;
          if (rel >= 0 && rel < 256) r[rel >> 3]! |= 1 << (rel & 7);
        }
        return reply(C.ok, r);
      }
      case 'GetRandomCode':
        return reply(C.ok, randomBytes(4));
      case 'ReadInfPage': {
        const page = Buffer.alloc(INFO_PAGE_BYTES);
        this.sysParams().copy(page, 0);
        Buffer.from('HADIR emulator R30x/AS608/R503', 'ascii').copy(page, 32);
        return [this.ack(ins, C.ok), ...dataPackets(this.address, page, this.packetSize)];
      }
      case 'WriteNotepad': {
        const page = a[0]!;
        if (page >= NOTEPAD_PAGES) return reply(C.badNotepadPage);
        a.subarray(1, 1 + NOTEPAD_PAGE_BYTES).copy(this.notepad[page]!);
        return reply(C.ok);
      }
      case 'ReadNotepad': {
        const page = a[0]!;
        if (page >= NOTEPAD_PAGES) return reply(C.badNotepadPage);
        return reply(C.ok, this.notepad[page]);
      }
      case 'Control':
        // R30x/AS608 port control (0 off, 1 on); sent bare it is the handshake some manuals list at 0x17.
        if (a.length === 0) return reply(C.ok);
        if (a[0]! > 1) return reply(C.portFail);
        this.portEnabled = a[0] === 1;
        return reply(C.ok);
      case 'HandShake':
      case 'CheckSensor':
      case 'Cancel':
        return reply(C.ok);
      case 'SoftRst':
        // Acknowledge, reset, then the power-on handshake byte 0x55 (R503).
        this.reset();
        return [this.ack(ins, C.ok), Buffer.from([0x55])];
      case 'GetAlgVer':
        return reply(C.ok, ascii('HADIR-EMU-ALG-1', 32));
      case 'GetFwVer':
        return reply(C.ok, ascii('HADIR-EMU-FW-1', 32));
      case 'ReadProdInfo': {
        const b = Buffer.alloc(46);
        ascii('HADIR-EMU-R30X', 16).copy(b, 0); // module type
        ascii('0001', 4).copy(b, 16); // batch
        ascii('00000001', 8).copy(b, 20); // serial
        b.writeUInt16BE(0x0100, 28); // hardware 1.0
        ascii('EMU', 8).copy(b, 30); // sensor model
        b.writeUInt16BE(256, 38); // sensor width
        b.writeUInt16BE(288, 40); // sensor height
        b.writeUInt16BE(this.templateSize, 42);
        b.writeUInt16BE(this.capacity, 44);
        return reply(C.ok, b);
      }
      case 'LedOn':
        this.leds.on = true;
        return reply(C.ok);
      case 'LedOff':
        this.leds.on = false;
        return reply(C.ok);
      case 'AuraLedConfig': {
        const [mode, speed, color, count] = [a[0]!, a[1]!, a[2]!, a[3]!];
        if (mode < 1 || mode > 6 || color < 1 || color > 7) return reply(C.packetError);
        this.leds.aura = { mode, speed, color, count };
        return reply(C.ok);
      }
      case 'UserGPIO': {
        const [pin, level] = [a[0]!, a[1]!];
        if (pin > 1 || level > 1) return reply(C.packetError);
        this.gpio[pin] = level;
        return reply(C.ok, Buffer.from([level]));
      }
      case 'BurnCode':
        // Firmware upgrade: accept and discard the data packets (the emulator's firmware is itself).
        if (a[0]! > 1) return reply(C.packetError);
        this.download = { into: 'firmware', parts: [], corrupt: false };
        return reply(C.ok);

      // ---- images ----
      case 'GenImg':
      case 'GetImageEx': {
        if (!this.finger) {
          this.stats.emptyPolls++;
          return reply(C.noFinger);
        }
        if (this.finger.quality === 'fail') return reply(C.imageFail);
        if (ins === 'GetImageEx' && this.finger.quality === 'poor') return reply(C.featureFail);
        this.capture();
        return reply(C.ok);
      }
      case 'UpImage':
        if (!this.image) return reply(C.uploadImageFail);
        return [this.ack(ins, C.ok), ...dataPackets(this.address, renderImage(this.image), this.packetSize)];
      case 'DownImage':
        this.image = null;
        this.download = { into: 'image', parts: [], corrupt: false };
        return reply(C.ok);
      case 'GenBinImage':
        if (a[0]! > 2) return reply(C.packetError);
        return reply(this.image ? C.ok : C.invalidImage);

      // ---- character files and library ----
      case 'Img2Tz': {
        const b = bufId(a[0]);
        if (!b) return reply(C.packetError);
        const c = this.extract();
        if (typeof c === 'number') return reply(c);
        this.charBuf[b] = c;
        return reply(C.ok);
      }
      case 'Match': {
        const [, c1, c2] = this.charBuf;
        const score = c1 && c2 ? similarityScore(c1, c2) : 0;
        this.lastPass = score >= THRESHOLDS[this.securityLevel]!;
        return reply(this.lastPass ? C.ok : C.noMatch, word(score));
      }
      case 'Search':
      case 'HiSpeedSearch': {
        const b = bufId(a[0]);
        if (!b) return reply(C.packetError);
        const hit = this.search(this.charBuf[b], u16(1), u16(3));
        this.lastPass = !!hit;
        return hit ? reply(C.ok, word(hit.page, hit.score)) : reply(C.notFound);
      }
      case 'RegModel': {
        const [, c1, c2] = this.charBuf;
        if (!c1 || !c2 || similarityScore(c1, c2) < THRESHOLDS[this.securityLevel]!) return reply(C.enrollMismatch);
        // Combine: where the captures disagree keep the first (a model is the consensus).
        this.charBuf[1] = Buffer.from(c1);
        this.charBuf[2] = Buffer.from(c1);
        return reply(C.ok);
      }
      case 'Store': {
        const b = bufId(a[0]);
        const page = u16(1);
        if (!b) return reply(C.packetError);
        if (page >= this.capacity) return reply(C.badLocation);
        const c = this.charBuf[b];
        if (!c) return reply(C.templateEmpty);
        this.library.set(page, Buffer.from(c));
        return reply(C.ok);
      }
      case 'LoadChar': {
        const b = bufId(a[0]);
        const page = u16(1);
        if (!b) return reply(C.packetError);
        if (page >= this.capacity) return reply(C.badLocation);
        const t = this.library.get(page);
        if (!t) return reply(C.dbReadFail);
        this.charBuf[b] = Buffer.from(t);
        return reply(C.ok);
      }
      case 'UpChar': {
        const b = bufId(a[0]);
        if (!b) return reply(C.packetError);
        const c = this.charBuf[b];
        if (!c) return reply(C.uploadFeatureFail);
        return [this.ack(ins, C.ok), ...dataPackets(this.address, c, this.packetSize)];
      }
      case 'DownChar': {
        const b = bufId(a[0]);
        if (!b) return reply(C.packetError);
        // The old content is gone as soon as new data are announced: a failed download leaves the buffer empty.
        this.charBuf[b] = null;
        this.download = { into: 'char', buffer: b, parts: [], corrupt: false };
        return reply(C.ok);
      }
      case 'DeletChar': {
        const start = u16(0);
        const n = u16(2);
        if (start >= this.capacity || start + n > this.capacity) return reply(C.deleteFail);
        for (let i = start; i < start + n; i++) this.library.delete(i);
        return reply(C.ok);
      }
      case 'Empty':
        this.library.clear();
        return reply(C.ok);

      // ---- one-command enrol/identify (AS608 Enroll/Identify, R503 AutoEnroll/AutoIdentify) ----
      case 'Enroll': {
        const r = this.autoEnroll(null, true);
        return reply(r.code, word(r.page));
      }
      case 'Identify': {
        const r = this.autoIdentify(0, this.capacity);
        return reply(r.code, word(r.page, r.score));
      }
      case 'AutoEnroll': {
        // ID (1 byte as most R503 firmware reads it, 2 bytes when the host sends 6), then cover ID,
        // allow duplicates, report key steps, finger must leave. ID ≥ min(0xC8, capacity): first free page.
        const wide = a.length >= 6;
        const id = wide ? u16(0) : a[0]!;
        const [overwrite, duplicates, steps] = (wide ? [a[2], a[3], a[4]] : [a[1], a[2], a[3]]).map((v) => v === 1) as [boolean, boolean, boolean];
        const wanted = id >= Math.min(0xc8, this.capacity) ? null : id;
        const tail = (step: number, page: number) => Buffer.from([step, page >> 8, page & 0xff]);
        if (wanted === null && id < 0xc8) return reply(C.badLocation, tail(0, id));
        if (wanted !== null && this.library.has(wanted) && !overwrite) return reply(C.badLocation, tail(0, id));
        const r = this.autoEnroll(wanted, duplicates);
        if (r.code !== C.ok) return reply(r.code, tail(r.step, r.page));
        // With "report key steps": one ack per step (6 captures and features, duplicate check, merge, store).
        const seq = steps ? [0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x10, 0x11, 0x12, 0x0d, 0x0e, 0x0f] : [0x0f];
        return seq.map((step) => this.ack(ins, C.ok, tail(step, r.page)));
      }
      case 'AutoIdentify': {
        const [grade, start, count, steps] = [a[0]!, a[1]!, a[2]!, a[3] === 1];
        if (grade < 1 || grade > 5) return reply(C.packetError);
        const r = this.autoIdentify(start, count, grade);
        const tail = (step: number) => Buffer.from([step, r.page >> 8, r.page & 0xff, r.score >> 8, r.score & 0xff]);
        if (r.code !== C.ok) return reply(r.code, tail(r.code === C.noFinger || r.code === C.timeout ? 0x01 : 0x03));
        return (steps ? [1, 2, 3] : [3]).map((step) => this.ack(ins, C.ok, tail(step)));
      }
    }
    return reply(C.undefinedError);
  }

  /** The 16 bytes of ReadSysPara after the status register. */
  private sysParams(): Buffer {
    const b = Buffer.alloc(16);
    b.writeUInt16BE(0x0009, 2); // system identifier code
    b.writeUInt16BE(this.capacity, 4);
    b.writeUInt16BE(this.securityLevel, 6);
    b.writeUInt32BE(this.address >>> 0, 8);
    b.writeUInt16BE((PACKET_SIZES as readonly number[]).indexOf(this.packetSize), 12);
    b.writeUInt16BE(this.baudMultiplier, 14);
    return b;
  }

  /** GenImg: the finger on the glass into the image buffer (a fresh, slightly different capture). */
  private capture(): void {
    this.captures++;
    this.stats.captures++;
    this.image = this.finger!.quality === 'poor' ? { kind: 'poor' } : { kind: 'finger', template: this.noisy(this.finger!.template) };
  }

  /** Img2Tz on the image buffer: a character file, or the confirmation code saying why not. */
  private extract(): Buffer | number {
    if (!this.image) return C.invalidImage;
    if (this.image.kind === 'poor') return C.featureFail; // too few feature points
    if (this.image.kind === 'unreadable') return C.imageMessy;
    return Buffer.from(this.image.template);
  }

  private search(probe: Buffer | null, start: number, count: number, level = this.securityLevel): { page: number; score: number } | null {
    if (!probe) return null;
    let best: { page: number; score: number } | null = null;
    for (const [pid, tpl] of this.library) {
      if (pid < start || pid >= start + count) continue;
      const score = similarityScore(probe, tpl);
      if (score >= THRESHOLDS[level]! && (!best || score > best.score)) best = { page: pid, score };
    }
    return best;
  }

  /** Capture + extract + (duplicate check) + store, as the one-command enrolments do. */
  private autoEnroll(page: number | null, duplicates: boolean): { code: number; page: number; step: number } {
    if (!this.finger) return { code: C.timeout, page: 0, step: 0x01 };
    if (this.finger.quality === 'fail') return { code: C.imageFail, page: 0, step: 0x01 };
    this.capture();
    const c = this.extract();
    if (typeof c === 'number') return { code: c, page: 0, step: 0x02 };
    if (!duplicates && this.search(c, 0, this.capacity)) return { code: C.alreadyExists, page: 0, step: 0x0d };
    let target = page;
    if (target === null) for (let p = 0; p < this.capacity && target === null; p++) if (!this.library.has(p)) target = p;
    if (target === null) return { code: C.libraryFull, page: 0, step: 0x0f };
    this.charBuf[1] = Buffer.from(c);
    this.charBuf[2] = Buffer.from(c);
    this.library.set(target, Buffer.from(c));
    return { code: C.ok, page: target, step: 0x0f };
  }

  private autoIdentify(start: number, count: number, level = this.securityLevel): { code: number; page: number; score: number } {
    if (this.library.size === 0) return { code: C.libraryEmpty, page: 0, score: 0 };
    if (!this.finger) return { code: C.timeout, page: 0, score: 0 };
    if (this.finger.quality === 'fail') return { code: C.imageFail, page: 0, score: 0 };
    this.capture();
    const c = this.extract();
    if (typeof c === 'number') return { code: c, page: 0, score: 0 };
    this.charBuf[1] = c;
    const hit = this.search(c, start, count, level);
    this.lastPass = !!hit;
    return hit ? { code: C.ok, page: hit.page, score: hit.score } : { code: C.notFound, page: 0, score: 0 };
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

function ascii(text: string, size: number): Buffer {
  const b = Buffer.alloc(size);
  b.write(text.slice(0, size), 'ascii');
  return b;
}
