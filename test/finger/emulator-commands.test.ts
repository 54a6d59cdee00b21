import { describe, expect, it } from 'vitest';
import { SensorEmulator } from '../../kiosk/finger/emulator.js';
import { syntheticTemplate } from '../../finger/synthetic.js';
import { IMAGE_BYTES } from '../../kiosk/finger/emulator-image.js';
import { INS, PID, PacketDecoder, dataPackets, encodePacket, type InstructionName, type Packet } from '../../kiosk/finger/packet.js';

/**
 * Every instruction of the R30x / AS608 / R503 datasheets against the emulator, byte for byte, with
 * a raw client (no driver): the answer's confirmation code, its parameter bytes and its length.
 */
const ADDR = 0xffffffff;

function rig(opts: ConstructorParameters<typeof SensorEmulator>[0] = {}) {
  const emu = new SensorEmulator({ capacity: 1000, ...opts });
  const got: Packet[] = [];
  const raw: Buffer[] = [];
  const dec = new PacketDecoder(
    (p) => got.push(p),
    (p) => {
      // a lone 0x55 (the handshake byte after SoftRst) is the only non-packet byte a module sends
      if (p.kind !== 'garbage') throw new Error(`emulator sent a bad frame: ${p.kind}`);
    },
  );
  emu.onOutput = (b) => {
    raw.push(b);
    dec.push(b);
  };
  /** Sends one command; returns every packet the module answered (unpaced: synchronous). */
  const cmd = (ins: InstructionName | number, ...params: number[]) => {
    got.length = 0;
    const code = typeof ins === 'number' ? ins : INS[ins];
    emu.receive(encodePacket({ address: emu.address, pid: PID.command, payload: Buffer.from([code, ...params]) }));
    return [...got];
  };
  /** Confirmation code + parameter bytes of the single ack. */
  const ack = (ins: InstructionName | number, ...params: number[]) => {
    const r = cmd(ins, ...params);
    expect(r).toHaveLength(1);
    expect(r[0]!.pid).toBe(PID.ack);
    return r[0]!.payload;
  };
  const sendData = (data: Buffer, size = 128) => {
    for (const f of dataPackets(emu.address, data, size)) emu.receive(f);
  };
  const be16 = (n: number) => [n >> 8, n & 0xff];
  return { emu, cmd, ack, sendData, be16, raw };
}

describe('emulator: system instructions', () => {
  it('VfyPwd / SetPwd: wrong password 0x13, everything else 0x21 until verified, short packet 0x01', () => {
    const { emu, ack } = rig({ password: 0x01020304 });
    expect(ack('TempleteNum')[0]).toBe(0x21);
    expect(ack('TempleteNum')).toHaveLength(3); // the answer keeps its length, zeros after the code
    expect(ack('VfyPwd', 9, 9, 9, 9)[0]).toBe(0x13);
    expect(ack('VfyPwd', 1, 2)[0]).toBe(0x01);
    expect(ack('VfyPwd', 1, 2, 3, 4)[0]).toBe(0x00);
    expect(ack('ReadSysPara').readUInt16BE(1) & 4).toBe(4); // status register PWD bit
    expect(ack('SetPwd', 0, 0, 0, 7)[0]).toBe(0x00);
    emu.swap(); // power cycle with the new password
    expect(ack('GenImg')[0]).toBe(0x21);
    expect(ack('VfyPwd', 1, 2, 3, 4)[0]).toBe(0x13);
    expect(ack('VfyPwd', 0, 0, 0, 7)[0]).toBe(0x00);
  });

  it('SetSysPara: security level and packet size take effect, baud is stored; bad register 0x1A, bad value 0x1B', () => {
    const { emu, ack, cmd } = rig();
    expect(ack('SetSysPara', 5, 5)[0]).toBe(0);
    expect(ack('SetSysPara', 6, 0)[0]).toBe(0);
    expect(ack('SetSysPara', 4, 12)[0]).toBe(0);
    const p = ack('ReadSysPara');
    expect(p).toHaveLength(17);
    expect({ level: p.readUInt16BE(7), size: p.readUInt16BE(13), baud: p.readUInt16BE(15) * 9600 }).toEqual({ level: 5, size: 0, baud: 115200 });
    expect(ack('SetSysPara', 7, 1)[0]).toBe(0x1a);
    expect(ack('SetSysPara', 5, 6)[0]).toBe(0x1b);
    expect(ack('SetSysPara', 6, 4)[0]).toBe(0x1b);
    expect(ack('SetSysPara', 4, 0)[0]).toBe(0x1b);
    expect(ack('SetSysPara', 5)[0]).toBe(0x01);
    // packet size 32 now splits a 512-byte character file into 16 data packets
    emu.library.set(1, syntheticTemplate('p'));
    ack('LoadChar', 1, 0, 1);
    const up = cmd('UpChar', 1);
    expect(up.slice(1).map((x) => x.payload.length)).toEqual(Array(16).fill(32));
    expect(up.at(-1)!.pid).toBe(PID.end);
  });

  it('SetAdder answers from the new address and listens only there', () => {
    const { emu, ack, cmd } = rig();
    const r = cmd('SetAdder', 0x12, 0x34, 0x56, 0x78);
    expect(r[0]!.address).toBe(0x12345678);
    expect(r[0]!.payload[0]).toBe(0);
    expect(emu.address).toBe(0x12345678);
    expect(ack('TempleteNum')[0]).toBe(0); // rig's cmd follows emu.address
    emu.receive(encodePacket({ address: ADDR, pid: PID.command, payload: Buffer.from([INS.TempleteNum]) }));
    expect(emu.stats.commands).toBe(2); // the packet for 0xFFFFFFFF was ignored
  });

  it('GetRandomCode, TempleteNum, ReadIndexTable (page > 3 is 0x01)', () => {
    const { emu, ack } = rig();
    const a = ack('GetRandomCode');
    const b = ack('GetRandomCode');
    expect(a).toHaveLength(5);
    expect(a.equals(b)).toBe(false);
    for (const p of [0, 7, 300]) emu.library.set(p, syntheticTemplate(String(p)));
    expect(ack('TempleteNum').readUInt16BE(1)).toBe(3);
    const t1 = ack('ReadIndexTable', 1);
    expect(t1).toHaveLength(33);
    expect(t1[1 + (44 >> 3)]).toBe(1 << (44 & 7)); // page 300 = table 1, bit 44
    expect(ack('ReadIndexTable', 4)[0]).toBe(0x01);
  });

  it('WriteNotepad / ReadNotepad: 16 pages of 32 bytes; page 16 is 0x1C', () => {
    const { ack } = rig();
    const data = Array.from({ length: 32 }, (_, i) => i * 3);
    expect(ack('WriteNotepad', 15, ...data)[0]).toBe(0);
    const r = ack('ReadNotepad', 15);
    expect([...r.subarray(1)]).toEqual(data);
    expect(ack('ReadNotepad', 16)).toEqual(Buffer.concat([Buffer.from([0x1c]), Buffer.alloc(32)]));
    expect(ack('WriteNotepad', 16, ...data)[0]).toBe(0x1c);
    expect(ack('WriteNotepad', 1, 1, 2)[0]).toBe(0x01);
  });

  it('ReadInfPage sends a 512-byte page in data packets; HandShake, Control, CheckSensor, Cancel, versions, product info', () => {
    const { ack, cmd } = rig();
    const page = cmd('ReadInfPage');
    expect(page[0]!.payload[0]).toBe(0);
    expect(Buffer.concat(page.slice(1).map((p) => p.payload))).toHaveLength(512);
    for (const ins of ['HandShake', 'CheckSensor', 'Cancel'] as const) expect(ack(ins)).toEqual(Buffer.from([0]));
    expect(ack('Control')).toEqual(Buffer.from([0])); // bare 0x17: handshake
    expect(ack('Control', 1)[0]).toBe(0);
    expect(ack('Control', 2)[0]).toBe(0x1d);
    expect(ack('GetFwVer')).toHaveLength(33);
    expect(ack('GetAlgVer').subarray(1).toString('ascii')).toMatch(/^HADIR-EMU-ALG/);
    const info = ack('ReadProdInfo');
    expect(info).toHaveLength(47);
    expect({ w: info.readUInt16BE(1 + 38), h: info.readUInt16BE(1 + 40), tpl: info.readUInt16BE(1 + 42), cap: info.readUInt16BE(1 + 44) }).toEqual({ w: 256, h: 288, tpl: 512, cap: 1000 });
  });

  it('SoftRst acknowledges, clears the buffers and sends the 0x55 handshake byte', () => {
    const { emu, ack, raw, cmd } = rig();
    emu.place('a#1');
    ack('GenImg');
    ack('Img2Tz', 1);
    raw.length = 0;
    cmd('SoftRst');
    expect(Buffer.concat(raw).at(-1)).toBe(0x55);
    expect(emu.charBuffer(1)).toBeNull();
    expect(ack('UpImage')[0]).toBe(0x0f);
  });

  it('LED on/off (0x50/0x51), AuraLedConfig (bad mode or colour 0x01), AS608 UserGPIO, unknown instruction 0x19', () => {
    const { emu, ack } = rig();
    expect(ack('LedOn')[0]).toBe(0);
    expect(emu.leds.on).toBe(true);
    expect(ack('LedOff')[0]).toBe(0);
    expect(emu.leds.on).toBe(false);
    expect(ack('AuraLedConfig', 1, 100, 2, 0)[0]).toBe(0);
    expect(emu.leds.aura).toEqual({ mode: 1, speed: 100, color: 2, count: 0 });
    expect(ack('AuraLedConfig', 7, 100, 2, 0)[0]).toBe(0x01);
    expect(ack('AuraLedConfig', 1, 100, 9, 0)[0]).toBe(0x01);
    expect(ack('UserGPIO', 1, 1)).toEqual(Buffer.from([0, 1]));
    expect(ack('UserGPIO', 2, 1)[0]).toBe(0x01);
    expect(ack(0x7e)).toEqual(Buffer.from([0x19]));
  });
});

describe('emulator: fingerprint instructions', () => {
  it('GenImg / GetImageEx / Img2Tz codes: no finger 0x02, failed image 0x03, poor 0x07, no image 0x15, bad buffer 0x01', () => {
    const { emu, ack } = rig();
    expect(ack('Img2Tz', 1)[0]).toBe(0x15);
    expect(ack('GenImg')[0]).toBe(0x02);
    expect(ack('GetImageEx')[0]).toBe(0x02);
    emu.place('x#1', 'fail');
    expect(ack('GenImg')[0]).toBe(0x03);
    emu.place('x#1', 'poor');
    expect(ack('GenImg')[0]).toBe(0x00); // GenImg takes a poor image…
    expect(ack('Img2Tz', 1)[0]).toBe(0x07); // …which has too few features
    expect(ack('GetImageEx')[0]).toBe(0x07); // GetImageEx says so at once
    emu.place('x#1');
    expect(ack('GenImg')[0]).toBe(0);
    expect(ack('Img2Tz', 3)[0]).toBe(0x01);
    expect(ack('Img2Tz', 2)[0]).toBe(0);
    expect(ack('GenBinImage', 2)[0]).toBe(0);
    expect(ack('GenBinImage', 3)[0]).toBe(0x01);
  });

  it('Match: same finger 0x00 with a score, different fingers 0x08 (score kept), empty buffers 0x08', () => {
    const { emu, ack } = rig();
    expect(ack('Match')).toEqual(Buffer.from([0x08, 0, 0]));
    emu.place('a#1');
    ack('GenImg');
    ack('Img2Tz', 1);
    ack('GenImg');
    ack('Img2Tz', 2);
    const m = ack('Match');
    expect(m[0]).toBe(0);
    expect(m.readUInt16BE(1)).toBeGreaterThan(200);
    emu.place('b#1');
    ack('GenImg');
    ack('Img2Tz', 2);
    const n = ack('Match');
    expect(n[0]).toBe(0x08);
    expect(n.readUInt16BE(1)).toBeLessThan(20);
  });

  it('Search and HiSpeedSearch: found page and score; not found 0x09 with zeros; bad buffer 0x01', () => {
    const { emu, ack, be16 } = rig();
    emu.library.set(163, syntheticTemplate('a#1'));
    emu.library.set(5, syntheticTemplate('b#1'));
    emu.place('a#1');
    ack('GenImg');
    ack('Img2Tz', 1);
    for (const ins of ['Search', 'HiSpeedSearch'] as const) {
      const r = ack(ins, 1, ...be16(0), ...be16(0xa3 + 1));
      expect(r[0]).toBe(0);
      expect(r.readUInt16BE(1)).toBe(163);
      expect(ack(ins, 1, ...be16(0), ...be16(163))).toEqual(Buffer.from([0x09, 0, 0, 0, 0])); // 163 is outside [0, 163)
      expect(ack(ins, 3, 0, 0, 0, 10)[0]).toBe(0x01);
      expect(ack(ins, 1, 0)[0]).toBe(0x01);
    }
    expect(ack('ReadSysPara').readUInt16BE(1) & 2).toBe(0); // Pass bit follows the last search
  });

  it('RegModel 0x0A for different fingers; Store: page ≥ capacity 0x0B, empty buffer 0x22; LoadChar: empty page 0x0C', () => {
    const { emu, ack, be16 } = rig({ capacity: 200 });
    expect(ack('Store', 1, ...be16(3))[0]).toBe(0x22);
    emu.place('a#1');
    ack('GenImg');
    ack('Img2Tz', 1);
    emu.place('b#1');
    ack('GenImg');
    ack('Img2Tz', 2);
    expect(ack('RegModel')[0]).toBe(0x0a);
    emu.place('b#1');
    ack('GenImg');
    ack('Img2Tz', 1);
    expect(ack('RegModel')[0]).toBe(0);
    expect(ack('Store', 1, ...be16(200))[0]).toBe(0x0b);
    expect(ack('Store', 9, ...be16(2))[0]).toBe(0x01);
    expect(ack('Store', 1, ...be16(199))[0]).toBe(0);
    expect(ack('LoadChar', 2, ...be16(198))[0]).toBe(0x0c);
    expect(ack('LoadChar', 2, ...be16(200))[0]).toBe(0x0b);
    expect(ack('LoadChar', 2, ...be16(199))[0]).toBe(0);
  });

  it('UpChar / DownChar round trip; empty buffer 0x0D; a damaged or short download leaves the buffer empty, not stale', () => {
    const { emu, ack, cmd, sendData, raw } = rig();
    expect(ack('UpChar', 1)[0]).toBe(0x0d);
    const tpl = syntheticTemplate('t#1');
    expect(ack('DownChar', 2)[0]).toBe(0);
    sendData(tpl);
    const up = cmd('UpChar', 2);
    expect(Buffer.concat(up.slice(1).map((p) => p.payload))).toEqual(tpl);
    // a damaged data packet (bad checksum): the old template must not come back
    expect(ack('DownChar', 2)[0]).toBe(0);
    const frames = dataPackets(emu.address, syntheticTemplate('u#1'), 128);
    frames[1] = Buffer.from(frames[1]!);
    frames[1][20] = frames[1][20]! ^ 0xff;
    for (const f of frames) emu.receive(f);
    expect(ack('UpChar', 2)[0]).toBe(0x0d);
    expect(emu.stats.badPackets).toBe(1);
    // too short (the host stops after two packets and sends a command): the buffer is empty
    expect(ack('DownChar', 1)[0]).toBe(0);
    for (const f of dataPackets(emu.address, tpl, 128).slice(0, 2)) emu.receive(f);
    expect(ack('UpChar', 1)[0]).toBe(0x0d);
    expect(ack('DownChar', 3)[0]).toBe(0x01);
    expect(raw.length).toBeGreaterThan(0);
  });

  it('a command packet with a bad checksum is answered 0x01 (receive error), not ignored', () => {
    const { emu, cmd } = rig();
    cmd('TempleteNum');
    const f = encodePacket({ address: ADDR, pid: PID.command, payload: Buffer.from([INS.TempleteNum]) });
    f[f.length - 1] = f[f.length - 1]! ^ 1;
    const got: Buffer[] = [];
    emu.onOutput = (b) => got.push(b);
    emu.receive(f);
    const d: Packet[] = [];
    new PacketDecoder((p) => d.push(p), () => {}).push(Buffer.concat(got));
    expect(d.map((p) => [...p.payload])).toEqual([[0x01, 0, 0]]);
  });

  it('DeletChar beyond the library 0x10; Empty', () => {
    const { emu, ack, be16 } = rig({ capacity: 300 });
    for (let p = 0; p < 10; p++) emu.library.set(p, syntheticTemplate(String(p)));
    expect(ack('DeletChar', ...be16(299), ...be16(2))[0]).toBe(0x10);
    expect(ack('DeletChar', ...be16(2), ...be16(3))[0]).toBe(0);
    expect(ack('TempleteNum').readUInt16BE(1)).toBe(7);
    expect(ack('Empty')[0]).toBe(0);
    expect(emu.library.size).toBe(0);
  });

  it('UpImage sends 256×288 4-bit pixels; DownImage of that image gives the same character file; foreign pixels are 0x06', () => {
    const { emu, ack, cmd, sendData } = rig();
    expect(ack('UpImage')[0]).toBe(0x0f);
    emu.place('img#1');
    ack('GenImg');
    const up = cmd('UpImage');
    expect(up[0]!.payload[0]).toBe(0);
    const pixels = Buffer.concat(up.slice(1).map((p) => p.payload));
    expect(pixels).toHaveLength(IMAGE_BYTES);
    expect(up.at(-1)!.pid).toBe(PID.end);
    ack('Img2Tz', 1);
    const direct = Buffer.from(emu.charBuffer(1)!);
    emu.swap();
    expect(ack('DownImage')[0]).toBe(0);
    sendData(pixels);
    expect(ack('Img2Tz', 2)[0]).toBe(0);
    expect(emu.charBuffer(2)).toEqual(direct);
    expect(ack('DownImage')[0]).toBe(0);
    sendData(Buffer.alloc(IMAGE_BYTES, 0x77));
    expect(ack('Img2Tz', 1)[0]).toBe(0x06);
  });

  it('AS608 Enroll / Identify and R503 AutoEnroll / AutoIdentify, with their step acknowledgements and errors', () => {
    const { emu, ack, cmd } = rig({ capacity: 200 });
    expect(ack('Identify')).toEqual(Buffer.from([0x24, 0, 0, 0, 0])); // library empty
    expect(ack('Enroll')).toEqual(Buffer.from([0x26, 0, 0])); // nobody on the glass: timeout
    emu.place('e#1');
    expect(ack('Enroll')).toEqual(Buffer.from([0, 0, 0]));
    const id = ack('Identify');
    expect([id[0], id.readUInt16BE(1)]).toEqual([0, 0]);
    // AutoEnroll: page 0xC8 = first free; duplicates refused (0x27) unless allowed
    expect(ack('AutoEnroll', 0xc8, 0, 0, 0, 1)[0]).toBe(0x27);
    emu.place('f#1');
    const steps = cmd('AutoEnroll', 0xc8, 0, 0, 1, 1);
    expect(steps.map((p) => p.payload[1])).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 0x10, 0x11, 0x12, 0x0d, 0x0e, 0x0f]);
    expect(steps.every((p) => p.payload[0] === 0 && p.payload[3] === 1)).toBe(true); // stored on page 1
    expect(ack('AutoEnroll', 0, 0, 1, 0, 1)[0]).toBe(0x0b); // page 0 taken, overwrite not allowed
    expect(ack('AutoEnroll', 0, 1, 1, 0, 1)).toEqual(Buffer.from([0, 0x0f, 0, 0]));
    emu.place('g#1');
    expect(ack('AutoEnroll', 0, 150, 0, 0, 0, 1)).toEqual(Buffer.from([0, 0x0f, 0, 150])); // 2-byte ID form
    emu.place('f#1');
    const ai = cmd('AutoIdentify', 3, 0, 200, 1, 1);
    expect(ai.map((p) => p.payload[1])).toEqual([1, 2, 3]);
    expect(ai.at(-1)!.payload[3]).toBe(0); // f#1 is now on page 0 (overwritten) and page 1
    expect(ack('AutoIdentify', 6, 0, 200, 0, 1)[0]).toBe(0x01);
    emu.place('nobody#1');
    expect(ack('AutoIdentify', 3, 0, 200, 0, 1)[0]).toBe(0x09);
  });

  it('BurnCode takes its data packets and the line carries on', () => {
    const { ack, sendData } = rig();
    expect(ack('BurnCode', 0)[0]).toBe(0);
    sendData(Buffer.alloc(1000, 1));
    expect(ack('TempleteNum')[0]).toBe(0);
    expect(ack('BurnCode', 2)[0]).toBe(0x01);
  });
});
