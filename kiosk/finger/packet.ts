/**
 * Packet codec of the R30x / R503 / AS608 / ZFM-20 family (UART, default 57600 8N1):
 *
 *   EF 01 | address (4, BE) | package id (1) | length (2, BE) | payload | checksum (2, BE)
 *
 * `length` counts payload + checksum; `checksum` is the low 16 bits of the byte sum of package id,
 * both length bytes and the payload. Pure data in, data out: no I/O here, so the driver and the
 * emulator share exactly the same framing rules.
 */
export const HEADER = 0xef01;
export const DEFAULT_ADDRESS = 0xffffffff;

/** Package identifiers. */
export const PID = { command: 0x01, data: 0x02, ack: 0x07, end: 0x08 } as const;
export type Pid = (typeof PID)[keyof typeof PID];

/**
 * Instruction codes (first payload byte of a command packet): the R30x/ZFM table, the AS608 additions
 * (Enroll, Identify, BurnCode, GenBinImage, UserGPIO), the R503 additions (0x28…0x40) and the
 * LED on/off pair of the Adafruit-sold modules. Names follow the datasheets (TempleteNum, DeletChar).
 */
export const INS = {
  GenImg: 0x01,
  Img2Tz: 0x02,
  Match: 0x03,
  Search: 0x04,
  RegModel: 0x05,
  Store: 0x06,
  LoadChar: 0x07,
  UpChar: 0x08,
  DownChar: 0x09,
  UpImage: 0x0a,
  DownImage: 0x0b,
  DeletChar: 0x0c,
  Empty: 0x0d,
  SetSysPara: 0x0e,
  ReadSysPara: 0x0f,
  Enroll: 0x10,
  Identify: 0x11,
  SetPwd: 0x12,
  VfyPwd: 0x13,
  GetRandomCode: 0x14,
  SetAdder: 0x15,
  ReadInfPage: 0x16,
  /** Port control on R30x/AS608 (one parameter byte); without a parameter, answered as a handshake. */
  Control: 0x17,
  WriteNotepad: 0x18,
  ReadNotepad: 0x19,
  BurnCode: 0x1a,
  HiSpeedSearch: 0x1b,
  GenBinImage: 0x1c,
  TempleteNum: 0x1d,
  UserGPIO: 0x1e,
  ReadIndexTable: 0x1f,
  GetImageEx: 0x28,
  Cancel: 0x30,
  AutoEnroll: 0x31,
  AutoIdentify: 0x32,
  AuraLedConfig: 0x35,
  CheckSensor: 0x36,
  GetAlgVer: 0x39,
  GetFwVer: 0x3a,
  ReadProdInfo: 0x3c,
  SoftRst: 0x3d,
  HandShake: 0x40,
  LedOn: 0x50,
  LedOff: 0x51,
} as const;
export type InstructionName = keyof typeof INS;

/** SetSysPara register numbers. */
export const SYS_REG = { baud: 4, securityLevel: 5, packetSize: 6 } as const;

/** Bytes after the confirmation code in an instruction's acknowledgement; the module sends them even when the code is an error (zeros). */
export const ACK_PARAM_BYTES: Partial<Record<InstructionName, number>> = {
  Match: 2,
  Search: 4,
  HiSpeedSearch: 4,
  ReadSysPara: 16,
  Enroll: 2,
  Identify: 4,
  GetRandomCode: 4,
  ReadNotepad: 32,
  TempleteNum: 2,
  UserGPIO: 1,
  ReadIndexTable: 32,
  AutoEnroll: 3,
  AutoIdentify: 5,
  GetAlgVer: 32,
  GetFwVer: 32,
  ReadProdInfo: 46,
};

/** Largest data payload any module uses (packet size code 3 = 256 bytes); anything longer is noise. */
export const MAX_PAYLOAD = 256;
/** Bytes around the payload: header 2 + address 4 + pid 1 + length 2 + checksum 2. */
export const FRAME_OVERHEAD = 11;

export interface Packet {
  address: number;
  pid: number;
  payload: Buffer;
}

export function checksum(pid: number, length: number, payload: Uint8Array): number {
  let sum = pid + (length >> 8) + (length & 0xff);
  for (const b of payload) sum += b;
  return sum & 0xffff;
}

export function encodePacket(p: Packet): Buffer {
  const length = p.payload.length + 2;
  const buf = Buffer.alloc(9 + length);
  buf.writeUInt16BE(HEADER, 0);
  buf.writeUInt32BE(p.address >>> 0, 2);
  buf.writeUInt8(p.pid, 6);
  buf.writeUInt16BE(length, 7);
  p.payload.copy(buf, 9);
  buf.writeUInt16BE(checksum(p.pid, length, p.payload), 9 + p.payload.length);
  return buf;
}

const KNOWN_PIDS = new Set<number>(Object.values(PID));

export type DecodeProblem =
  | { kind: 'checksum'; expected: number; got: number; packet: Packet }
  | { kind: 'garbage'; bytes: number }
  | { kind: 'length'; length: number };

/**
 * Streaming decoder: feed it whatever the serial port delivers (any chunking); it calls `onPacket`
 * for each well-formed packet and `onProblem` for bytes it had to throw away. It resynchronises on
 * the next EF 01 after garbage or a bad length, so one corrupt packet never wedges the line.
 */
export class PacketDecoder {
  private buf: Buffer = Buffer.alloc(0);

  constructor(
    private readonly onPacket: (p: Packet) => void,
    private readonly onProblem: (p: DecodeProblem) => void,
  ) {}

  /** Bytes of an incomplete packet waiting for the rest (0 when idle): tells "truncated" from "silent". */
  get pendingBytes(): number {
    return this.buf.length;
  }

  reset(): void {
    this.buf = Buffer.alloc(0);
  }

  push(chunk: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    for (;;) {
      const start = this.findHeader();
      if (start > 0) {
        this.onProblem({ kind: 'garbage', bytes: start });
        this.buf = this.buf.subarray(start);
      } else if (start < 0) {
        // keep a trailing 0xEF: it may be the first half of a header split across chunks
        const keep = this.buf.length && this.buf[this.buf.length - 1] === 0xef ? 1 : 0;
        if (this.buf.length - keep > 0) this.onProblem({ kind: 'garbage', bytes: this.buf.length - keep });
        this.buf = this.buf.subarray(this.buf.length - keep);
        return;
      }
      if (this.buf.length < 7) return;
      const pid = this.buf.readUInt8(6);
      if (!KNOWN_PIDS.has(pid)) {
        // EF 01 inside noise, not a header: skip it rather than wait for a frame that is not there.
        this.onProblem({ kind: 'garbage', bytes: 2 });
        this.buf = this.buf.subarray(2);
        continue;
      }
      if (this.buf.length < 9) return;
      const length = this.buf.readUInt16BE(7);
      if (length < 2 || length > MAX_PAYLOAD + 2) {
        this.onProblem({ kind: 'length', length });
        this.buf = this.buf.subarray(2); // skip this header, look for the next one
        continue;
      }
      const total = 9 + length;
      if (this.buf.length < total) return;
      const address = this.buf.readUInt32BE(2);
      const payload = Buffer.from(this.buf.subarray(9, total - 2));
      const got = this.buf.readUInt16BE(total - 2);
      const expected = checksum(pid, length, payload);
      if (got !== expected) {
        this.onProblem({ kind: 'checksum', expected, got, packet: { address, pid, payload } });
        // Rescan from just after this header: if it was a false one (noise), the real packet it
        // swallowed is still found; a real corrupt packet almost never hides a valid one.
        this.buf = this.buf.subarray(2);
        continue;
      }
      this.buf = this.buf.subarray(total);
      this.onPacket({ address, pid, payload });
    }
  }

  private findHeader(): number {
    for (let i = 0; i + 1 < this.buf.length; i++) if (this.buf[i] === 0xef && this.buf[i + 1] === 0x01) return i;
    return -1;
  }
}

/** Splits a template (character file) into data packets of the module's packet size; the last is an end packet. */
export function dataPackets(address: number, data: Buffer, packetSize: number): Buffer[] {
  const out: Buffer[] = [];
  for (let off = 0; off < data.length; off += packetSize) {
    const end = off + packetSize >= data.length;
    out.push(encodePacket({ address, pid: end ? PID.end : PID.data, payload: data.subarray(off, off + packetSize) }));
  }
  return out;
}

/** Packet sizes by the code in ReadSysPara / SetSysPara. */
export const PACKET_SIZES = [32, 64, 128, 256] as const;
