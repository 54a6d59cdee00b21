import type { Logger } from '../../lib/logger.js';
import { ACK_PARAM_BYTES, DEFAULT_ADDRESS, INS, PACKET_SIZES, PID, PacketDecoder, SYS_REG, dataPackets, encodePacket, type DecodeProblem, type Packet } from './packet.js';
import {
  FingerAddressError,
  FingerChecksumError,
  FingerConfirmationError,
  FingerGarbageError,
  FingerPortError,
  FingerProtocolError,
  FingerTimeoutError,
  FingerTruncatedError,
  isConfirmation,
  isLinkError,
  type FingerError,
} from './errors.js';

/**
 * Driver for R30x / R503 / AS608 / ZFM-20 fingerprint modules over a serial port.
 *
 * Hand-written: the npm packages for this protocol (`zfm20`, `fprint-r303t`, …) are unmaintained,
 * callback-era, do not check checksums or addresses and have no timeouts, so a bad cable hangs them.
 *
 * One command is on the wire at a time (a promise queue); each has its own timeout; every failure is
 * a named FingerError. Nothing here blocks the event loop: bytes arrive as 'data' events.
 *
 * Against a slow, bursty or noisy line: packets are framed from the byte stream whatever its
 * chunking; noise between packets is skipped (a damaged frame that is not the answer due — wrong
 * address or package id — counts as noise); a damaged answer fails the command at once with a named
 * error; after any line error the next command first waits for the line to go quiet and throws away
 * what arrives meanwhile (the rest of the damaged answer, a late answer to a timed-out command), and
 * an acknowledgement whose length does not fit the command is refused rather than misread.
 */

const ignoreLateError = (): void => {};

/** The part of a serialport stream the driver needs (SerialPort, SerialPortMock, any binding). */
export interface SerialLike {
  readonly isOpen: boolean;
  write(data: Buffer, cb?: (err: Error | null | undefined) => void): boolean;
  on(event: 'data', fn: (chunk: Buffer) => void): unknown;
  on(event: 'close' | 'error', fn: (err?: Error) => void): unknown;
  removeListener(event: string, fn: (...args: never[]) => void): unknown;
  close(cb?: (err?: Error | null) => void): void;
}

export interface SysParams {
  statusRegister: number;
  systemId: number;
  /** Template library capacity (pages). */
  librarySize: number;
  securityLevel: number;
  address: number;
  /** Data packet payload size in bytes (32/64/128/256). */
  packetSize: number;
  baudRate: number;
}

export interface SearchHit {
  pageId: number;
  score: number;
}

export type AuraMode = 'breathing' | 'flashing' | 'on' | 'off' | 'fade-in' | 'fade-out';
export type AuraColor = 'red' | 'blue' | 'purple' | 'green' | 'yellow' | 'cyan' | 'white';
const AURA_MODES: Record<AuraMode, number> = { breathing: 1, flashing: 2, on: 3, off: 4, 'fade-in': 5, 'fade-out': 6 };
const AURA_COLORS: Record<AuraColor, number> = { red: 1, blue: 2, purple: 3, green: 4, yellow: 5, cyan: 6, white: 7 };

export interface DriverOptions {
  address?: number;
  password?: number;
  /** Default per-command timeout (ms); slow commands get a multiple of it. */
  timeoutMs?: number;
  /** After a line error: how long the line must stay silent before the next command (ms). */
  quietMs?: number;
  log?: Logger;
}

interface Pending {
  name: string;
  /** Collect data packets after the ack until an end packet (UpChar). */
  expectData: boolean;
  ack?: Buffer;
  data: Buffer[];
  garbage: number;
  /** A damaged frame that was not clearly ours: reported if nothing valid follows. */
  damaged: { expected: number; got: number } | null;
  resolve(r: { ack: Buffer; data: Buffer }): void;
  reject(e: FingerError): void;
}

/** Per-command timeout multipliers: capture and search take the sensor real time. */
const SLOW: Partial<Record<keyof typeof INS, number>> = { GenImg: 2, Search: 3, HiSpeedSearch: 3, Empty: 3, UpChar: 3, DownChar: 3, RegModel: 2, Store: 2, UpImage: 5 };

export class FingerSensor {
  readonly address: number;
  private readonly password: number;
  private readonly timeoutMs: number;
  private readonly quietMs: number;
  /** Set by a line error: the next command waits for silence first. */
  private dirty = false;
  private lastByteAt = 0;
  private errorAt = 0;
  private readonly decoder: PacketDecoder;
  private pending: Pending | null = null;
  private tail: Promise<unknown> = Promise.resolve();
  private closedReason: string | null = null;
  private readonly log: Logger | undefined;
  /** Data packet size; learnt from ReadSysPara (128 is the factory default). */
  packetSize = 128;
  /** Commands completed (any outcome from the sensor) — for the bench and health. */
  commands = 0;
  bytesOut = 0;
  bytesIn = 0;

  constructor(
    private readonly port: SerialLike,
    opts: DriverOptions = {},
  ) {
    this.address = opts.address ?? DEFAULT_ADDRESS;
    this.password = opts.password ?? 0;
    this.timeoutMs = opts.timeoutMs ?? 1000;
    this.quietMs = opts.quietMs ?? 30;
    this.log = opts.log;
    this.decoder = new PacketDecoder(
      (p) => this.onPacket(p),
      (p) => this.onProblem(p),
    );
    port.on('data', this.onData);
    port.on('close', this.onClose);
    port.on('error', this.onError);
  }

  // ---- commands -------------------------------------------------------------------------------

  async verifyPassword(password = this.password): Promise<void> {
    const p = Buffer.alloc(4);
    p.writeUInt32BE(password >>> 0);
    await this.command('VfyPwd', p);
  }

  async readSysParams(): Promise<SysParams> {
    const r = await this.command('ReadSysPara');
    if (r.length < 17) throw new FingerProtocolError(`ReadSysPara: answer has ${r.length - 1} parameter bytes, expected 16`);
    const sizeCode = r.readUInt16BE(13);
    const params: SysParams = {
      statusRegister: r.readUInt16BE(1),
      systemId: r.readUInt16BE(3),
      librarySize: r.readUInt16BE(5),
      securityLevel: r.readUInt16BE(7),
      address: r.readUInt32BE(9),
      packetSize: PACKET_SIZES[sizeCode] ?? 128,
      baudRate: r.readUInt16BE(15) * 9600,
    };
    this.packetSize = params.packetSize;
    return params;
  }

  /** Capture an image; false when no finger is on the glass (the normal idle answer). */
  async captureImage(): Promise<boolean> {
    try {
      await this.command('GenImg');
      return true;
    } catch (e) {
      if (isConfirmation(e, 'NO_FINGER')) return false;
      throw e;
    }
  }

  /** Image → character file in buffer 1 or 2. */
  async imageToTemplate(buffer: 1 | 2): Promise<void> {
    await this.command('Img2Tz', Buffer.from([buffer]));
  }

  /** 1:N search of a character buffer over pages [start, start+count); null when nobody matches. */
  async search(buffer: 1 | 2, start: number, count: number): Promise<SearchHit | null> {
    return this.searchWith('Search', buffer, start, count);
  }

  /** Search or HiSpeedSearch: same parameters, same answer. */
  private async searchWith(instr: 'Search' | 'HiSpeedSearch', buffer: 1 | 2, start: number, count: number): Promise<SearchHit | null> {
    const p = Buffer.alloc(5);
    p.writeUInt8(buffer, 0);
    p.writeUInt16BE(start, 1);
    p.writeUInt16BE(count, 3);
    try {
      const r = await this.command(instr, p);
      if (r.length < 5) throw new FingerProtocolError(`${instr}: answer too short (${r.length} bytes)`);
      return { pageId: r.readUInt16BE(1), score: r.readUInt16BE(3) };
    } catch (e) {
      if (isConfirmation(e, 'NOT_FOUND')) return null;
      throw e;
    }
  }

  /** Combine buffers 1 and 2 into a model (in both buffers). */
  async createModel(): Promise<void> {
    await this.command('RegModel');
  }

  async store(buffer: 1 | 2, pageId: number): Promise<void> {
    await this.command('Store', pageArgs(buffer, pageId));
  }

  async loadTemplate(buffer: 1 | 2, pageId: number): Promise<void> {
    await this.command('LoadChar', pageArgs(buffer, pageId));
  }

  /** Upload a character buffer to the host (the template bytes, through data packets). */
  async uploadTemplate(buffer: 1 | 2): Promise<Buffer> {
    const { data } = await this.transact('UpChar', Buffer.from([buffer]), { expectData: true });
    if (data.length === 0) throw new FingerProtocolError('UpChar: the sensor sent no template data');
    return data;
  }

  /** Download template bytes from the host into a character buffer. */
  async downloadTemplate(buffer: 1 | 2, template: Buffer): Promise<void> {
    await this.transact('DownChar', Buffer.from([buffer]), { sendData: template });
  }

  async deleteTemplates(pageId: number, count = 1): Promise<void> {
    const p = Buffer.alloc(4);
    p.writeUInt16BE(pageId, 0);
    p.writeUInt16BE(count, 2);
    await this.command('DeletChar', p);
  }

  async emptyLibrary(): Promise<void> {
    await this.command('Empty');
  }

  async templateCount(): Promise<number> {
    const r = await this.command('TempleteNum');
    if (r.length < 3) throw new FingerProtocolError('TempleteNum: answer too short');
    return r.readUInt16BE(1);
  }

  /** Occupied pages of one index table page (each covers 256 templates). */
  async readIndexTable(tablePage: number): Promise<number[]> {
    const r = await this.command('ReadIndexTable', Buffer.from([tablePage]));
    if (r.length < 33) throw new FingerProtocolError(`ReadIndexTable: answer has ${r.length - 1} bytes, expected 32`);
    const out: number[] = [];
    for (let i = 0; i < 32; i++) for (let bit = 0; bit < 8; bit++) if (r[1 + i]! & (1 << bit)) out.push(tablePage * 256 + i * 8 + bit);
    return out;
  }

  /** All occupied pages below `capacity`. */
  async occupiedPages(capacity: number): Promise<Set<number>> {
    const out = new Set<number>();
    for (let t = 0; t * 256 < capacity; t++) for (const p of await this.readIndexTable(t)) if (p < capacity) out.add(p);
    return out;
  }

  /** 1:1 match of character buffers 1 and 2: the score, or null when they are not the same finger. */
  async match(): Promise<number | null> {
    try {
      return (await this.command('Match')).readUInt16BE(1);
    } catch (e) {
      if (isConfirmation(e, 'NO_MATCH')) return null;
      throw e;
    }
  }

  /** HiSpeedSearch (0x1B): as search(), the instruction Adafruit's fingerFastSearch() sends. */
  async fastSearch(buffer: 1 | 2, start: number, count: number): Promise<SearchHit | null> {
    return this.searchWith('HiSpeedSearch', buffer, start, count);
  }

  /** SetSysPara security level 1 (lenient) … 5 (strict). */
  async setSecurityLevel(level: 1 | 2 | 3 | 4 | 5): Promise<void> {
    await this.command('SetSysPara', Buffer.from([SYS_REG.securityLevel, level]));
  }

  /** SetSysPara data packet size; later transfers use it. */
  async setPacketSize(size: (typeof PACKET_SIZES)[number]): Promise<void> {
    await this.command('SetSysPara', Buffer.from([SYS_REG.packetSize, PACKET_SIZES.indexOf(size)]));
    this.packetSize = size;
  }

  /** SetPwd: the module asks for it (VfyPwd) after its next power-on. */
  async setPassword(password: number): Promise<void> {
    const p = Buffer.alloc(4);
    p.writeUInt32BE(password >>> 0);
    await this.command('SetPwd', p);
  }

  /** GetRandomCode: 32 bits from the module's hardware generator. */
  async randomNumber(): Promise<number> {
    return (await this.command('GetRandomCode')).readUInt32BE(1);
  }

  /** Notepad: 16 pages of 32 bytes kept in the module's flash. */
  async readNotepad(page: number): Promise<Buffer> {
    return Buffer.from((await this.command('ReadNotepad', Buffer.from([page]))).subarray(1));
  }

  async writeNotepad(page: number, data: Buffer): Promise<void> {
    if (data.length > 32) throw new RangeError('a notepad page holds 32 bytes');
    const p = Buffer.alloc(33);
    p[0] = page;
    data.copy(p, 1);
    await this.command('WriteNotepad', p);
  }

  /** UpImage: the image buffer as 4-bit pixels, two per byte (R30x: 256 × 288). */
  async uploadImage(): Promise<Buffer> {
    const { data } = await this.transact('UpImage', Buffer.alloc(0), { expectData: true });
    return data;
  }

  /** Backlight of the modules with an on/off LED (LedOn 0x50 / LedOff 0x51). */
  async led(on: boolean): Promise<void> {
    await this.command(on ? 'LedOn' : 'LedOff');
  }

  /** R503 LED ring; other modules answer an error code, which callers may ignore. */
  async auraLed(mode: AuraMode, color: AuraColor = 'blue', speed = 100, count = 0): Promise<void> {
    await this.command('AuraLedConfig', Buffer.from([AURA_MODES[mode], speed & 0xff, AURA_COLORS[color], count & 0xff]));
  }

  async close(): Promise<void> {
    this.shutdown('closed by the kiosk');
    if (!this.port.isOpen) return;
    await new Promise<void>((resolve) => this.port.close(() => resolve()));
  }

  // ---- transport ------------------------------------------------------------------------------

  /** Sends one command; resolves with the ack payload (confirmation code first) when it is 0x00. */
  private async command(name: keyof typeof INS, params: Buffer = Buffer.alloc(0)): Promise<Buffer> {
    return (await this.transact(name, params, {})).ack;
  }

  private transact(name: keyof typeof INS, params: Buffer, opts: { expectData?: boolean; sendData?: Buffer }): Promise<{ ack: Buffer; data: Buffer }> {
    const run = () => this.runOne(name, params, opts);
    const result = this.tail.then(run, run);
    this.tail = result.catch(() => undefined);
    return result;
  }

  private async runOne(name: keyof typeof INS, params: Buffer, opts: { expectData?: boolean; sendData?: Buffer }): Promise<{ ack: Buffer; data: Buffer }> {
    if (this.dirty) await this.waitForQuiet();
    if (this.closedReason || !this.port.isOpen) throw new FingerPortError(`${name}: serial port is not open (${this.closedReason ?? 'closed'})`);
    const timeout = this.timeoutMs * (SLOW[name] ?? 1);
    return new Promise<{ ack: Buffer; data: Buffer }>((resolve, reject) => {
      // Whatever is half-framed now belongs to no command of ours.
      this.decoder.reset();
      let timer: NodeJS.Timeout | undefined;
      const done = () => {
        clearTimeout(timer);
        this.pending = null;
        this.commands++;
      };
      this.pending = {
        name,
        expectData: !!opts.expectData,
        data: [],
        garbage: 0,
        damaged: null,
        resolve: (r) => {
          done();
          resolve(r);
        },
        reject: (e) => {
          done();
          if (isLinkError(e)) {
            this.dirty = true;
            this.errorAt = performance.now();
          }
          reject(e);
        },
      };
      timer = setTimeout(() => {
        const p = this.pending;
        if (!p) return;
        if (p.damaged) p.reject(new FingerChecksumError(name, p.damaged.expected, p.damaged.got));
        else if (this.decoder.pendingBytes > 0) p.reject(new FingerTruncatedError(name, this.decoder.pendingBytes));
        else if (p.garbage > 0) p.reject(new FingerGarbageError(name, `${p.garbage} stray bytes`));
        else p.reject(new FingerTimeoutError(name, timeout));
      }, timeout);
      const frame = encodePacket({ address: this.address, pid: PID.command, payload: Buffer.concat([Buffer.from([INS[name]]), params]) });
      this.write(frame);
      if (opts.sendData) {
        // DownChar: the module acks the command, then takes the data packets without further acks.
        const data = opts.sendData;
        const p = this.pending;
        p.expectData = false;
        const origResolve = p.resolve;
        p.resolve = (r) => {
          for (const pkt of dataPackets(this.address, data, this.packetSize)) this.write(pkt);
          origResolve({ ack: r.ack, data: Buffer.alloc(0) });
        };
      }
    });
  }

  /**
   * Resync after a line error: wait until nothing has arrived for quietMs since the error and the
   * last byte (a late answer gets that long to show up and be dropped), at most a few timeouts.
   */
  private async waitForQuiet(): Promise<void> {
    const end = performance.now() + Math.max(this.timeoutMs * 3, this.quietMs * 4);
    const silentFor = () => performance.now() - Math.max(this.lastByteAt, this.errorAt);
    for (;;) {
      if (silentFor() >= this.quietMs) {
        // A timer can fire before the I/O that piled up during a stall is read (poll, then a threadpool
        // read, then 'data'): give it a couple of loop turns, then look again.
        await new Promise((r) => setTimeout(r, 2));
        await new Promise((r) => setImmediate(r));
        if (silentFor() >= this.quietMs) break;
      }
      if (performance.now() >= end) break;
      await new Promise((r) => setTimeout(r, Math.max(1, this.quietMs - silentFor())));
    }
    this.decoder.reset();
    this.dirty = false;
  }

  private write(buf: Buffer): void {
    this.bytesOut += buf.length;
    this.port.write(buf, (err) => {
      if (err) this.pending?.reject(new FingerPortError(`${this.pending.name}: write failed: ${err.message}`));
    });
  }

  private readonly onData = (chunk: Buffer) => {
    this.bytesIn += chunk.length;
    this.lastByteAt = performance.now();
    // Between commands (and while resyncing) nothing is expected: drop it rather than frame it.
    if (this.pending) this.decoder.push(chunk);
  };

  private readonly onClose = () => this.shutdown('the serial port closed (sensor unplugged?)');
  private readonly onError = (err?: Error) => this.shutdown(`serial port error: ${err?.message ?? 'unknown'}`);

  private shutdown(reason: string): void {
    if (this.closedReason) return;
    this.closedReason = reason;
    this.port.removeListener('data', this.onData);
    this.port.removeListener('close', this.onClose);
    this.port.removeListener('error', this.onError);
    // A write still queued in the port can fail after this (EIO once the device or pty is gone):
    // with no listener left, that 'error' would be an uncaught exception and take the kiosk down.
    this.port.on('error', ignoreLateError);
    this.pending?.reject(new FingerPortError(`${this.pending.name}: ${reason}`));
  }

  private onPacket(pkt: Packet): void {
    const p = this.pending;
    if (!p) {
      this.log?.debug({ pid: pkt.pid, bytes: pkt.payload.length }, 'unsolicited packet from the sensor ignored');
      return;
    }
    if (pkt.address !== this.address) return p.reject(new FingerAddressError(p.name, this.address, pkt.address));
    if (!p.ack) {
      if (pkt.pid !== PID.ack || pkt.payload.length < 1) return p.reject(new FingerGarbageError(p.name, `package id 0x${pkt.pid.toString(16)} where an acknowledgement was due`));
      const code = pkt.payload[0]!;
      if (code !== 0) return p.reject(new FingerConfirmationError(p.name, code));
      const want = 1 + (ACK_PARAM_BYTES[p.name as keyof typeof ACK_PARAM_BYTES] ?? 0);
      if (pkt.payload.length !== want)
        return p.reject(new FingerProtocolError(`${p.name}: acknowledgement of ${pkt.payload.length} bytes, expected ${want} (a late answer to an earlier command?)`));
      p.ack = pkt.payload;
      if (!p.expectData) return p.resolve({ ack: pkt.payload, data: Buffer.alloc(0) });
      return;
    }
    if (pkt.pid !== PID.data && pkt.pid !== PID.end) return p.reject(new FingerGarbageError(p.name, `package id 0x${pkt.pid.toString(16)} inside a data transfer`));
    p.data.push(pkt.payload);
    if (pkt.pid === PID.end) p.resolve({ ack: p.ack, data: Buffer.concat(p.data) });
  }

  private onProblem(problem: DecodeProblem): void {
    const p = this.pending;
    if (!p) return;
    if (problem.kind === 'checksum') {
      const { address, pid } = problem.packet;
      // A damaged frame from our module of the kind due now is the answer itself: fail at once.
      // Anything else (another address, an unexpected package id) is noise that looked like a header.
      const due = p.ack ? pid === PID.data || pid === PID.end : pid === PID.ack;
      if (address === this.address && due) return p.reject(new FingerChecksumError(p.name, problem.expected, problem.got));
      p.damaged = { expected: problem.expected, got: problem.got };
      return;
    }
    if (problem.kind === 'length') p.garbage += 2;
    else p.garbage += problem.bytes;
  }
}

function pageArgs(buffer: number, pageId: number): Buffer {
  const p = Buffer.alloc(3);
  p.writeUInt8(buffer, 0);
  p.writeUInt16BE(pageId, 1);
  return p;
}
