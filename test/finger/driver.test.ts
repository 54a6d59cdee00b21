import { afterEach, describe, expect, it } from 'vitest';
import { FingerSensor, type SerialLike } from '../../kiosk/finger/driver.js';
import { SensorEmulator } from '../../kiosk/finger/emulator.js';
import { syntheticTemplate } from '../../finger/synthetic.js';
import { openEmulatedMockPort } from '../../kiosk/finger/transport.js';
import {
  FingerAddressError,
  FingerChecksumError,
  FingerConfirmationError,
  FingerGarbageError,
  FingerPortError,
  FingerTimeoutError,
  FingerTruncatedError,
} from '../../kiosk/finger/errors.js';
import { PacketDecoder, encodePacket, checksum, PID } from '../../kiosk/finger/packet.js';

const open: FingerSensor[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
});

async function setup(opts: ConstructorParameters<typeof SensorEmulator>[0] = {}, timeoutMs = 200) {
  const emu = new SensorEmulator({ capacity: 300, ...opts });
  const port = await openEmulatedMockPort(emu);
  const sensor = new FingerSensor(port, { timeoutMs, password: opts.password });
  open.push(sensor);
  return { emu, sensor, port };
}

describe('packet codec', () => {
  it('encodes the datasheet GenImg frame byte for byte', () => {
    const f = encodePacket({ address: 0xffffffff, pid: PID.command, payload: Buffer.from([0x01]) });
    expect(f.toString('hex')).toBe('ef01ffffffff010003010005');
    expect(checksum(1, 3, Buffer.from([1]))).toBe(5);
  });
  it('decodes across arbitrary chunking, skips garbage and reports bad checksums', () => {
    const got: string[] = [];
    const problems: string[] = [];
    const d = new PacketDecoder((p) => got.push(p.payload.toString('hex')), (p) => problems.push(p.kind));
    const a = encodePacket({ address: 1, pid: PID.ack, payload: Buffer.from([0, 1, 2]) });
    const b = encodePacket({ address: 1, pid: PID.ack, payload: Buffer.from([9]) });
    const bad = Buffer.from(b);
    bad[bad.length - 1] = bad[bad.length - 1]! ^ 1;
    const stream = Buffer.concat([Buffer.from([0x11, 0x22]), a, bad, b]);
    for (let i = 0; i < stream.length; i += 3) d.push(stream.subarray(i, i + 3));
    expect(got).toEqual(['000102', '09']);
    // after a bad checksum the decoder rescans from just past that header: the rest of the bad frame is garbage
    expect(problems).toEqual(['garbage', 'checksum', 'garbage']);
  });
});

describe('driver ↔ emulator through binding-mock', () => {
  it('handshake and system parameters', async () => {
    const { sensor } = await setup({ capacity: 1000, packetSize: 64 });
    await sensor.verifyPassword();
    const p = await sensor.readSysParams();
    expect(p).toMatchObject({ librarySize: 1000, packetSize: 64, baudRate: 57600, address: 0xffffffff, securityLevel: 3 });
  });

  it('wrong password is WRONG_PASSWORD; a protected sensor refuses commands until verified', async () => {
    const { sensor } = await setup({ password: 0x1234 });
    await expect(sensor.templateCount()).rejects.toMatchObject({ code: 'PASSWORD_REQUIRED' });
    await expect(sensor.verifyPassword(0x9999)).rejects.toMatchObject({ code: 'WRONG_PASSWORD', confirmation: 0x13 });
    await sensor.verifyPassword(0x1234);
    expect(await sensor.templateCount()).toBe(0);
  });

  it('enrol (GenImg, Img2Tz ×2, RegModel, Store) then identify (Search) with a score', async () => {
    const { emu, sensor } = await setup();
    expect(await sensor.captureImage()).toBe(false); // nobody on the glass
    emu.place('nip-1#1');
    expect(await sensor.captureImage()).toBe(true);
    await sensor.imageToTemplate(1);
    expect(await sensor.captureImage()).toBe(true);
    await sensor.imageToTemplate(2);
    await sensor.createModel();
    await sensor.store(1, 7);
    expect(await sensor.templateCount()).toBe(1);
    expect(await sensor.occupiedPages(300)).toEqual(new Set([7]));

    emu.place('nip-2#1');
    await sensor.captureImage();
    await sensor.imageToTemplate(1);
    expect(await sensor.search(1, 0, 300)).toBeNull();

    emu.place('nip-1#1');
    await sensor.captureImage();
    await sensor.imageToTemplate(1);
    const hit = await sensor.search(1, 0, 300);
    expect(hit?.pageId).toBe(7);
    expect(hit!.score).toBeGreaterThan(150);
  });

  it('RegModel of two different fingers is ENROLL_MISMATCH; poor image is FEATURE_FAIL', async () => {
    const { emu, sensor } = await setup();
    emu.place('a#1');
    await sensor.captureImage();
    await sensor.imageToTemplate(1);
    emu.place('b#1');
    await sensor.captureImage();
    await sensor.imageToTemplate(2);
    await expect(sensor.createModel()).rejects.toMatchObject({ code: 'ENROLL_MISMATCH' });
    emu.place('a#1', 'poor');
    await sensor.captureImage();
    await expect(sensor.imageToTemplate(1)).rejects.toBeInstanceOf(FingerConfirmationError);
    await expect(sensor.imageToTemplate(1)).rejects.toMatchObject({ code: 'FEATURE_FAIL' });
  });

  it('UpChar and DownChar move the exact template bytes through data packets', async () => {
    const { emu, sensor } = await setup({ packetSize: 32 });
    await sensor.readSysParams();
    const tpl = syntheticTemplate('x#2');
    await sensor.downloadTemplate(2, tpl);
    await sensor.store(2, 250);
    expect(emu.library.get(250)).toEqual(tpl);
    await sensor.loadTemplate(1, 250);
    expect(await sensor.uploadTemplate(1)).toEqual(tpl);
    await expect(sensor.loadTemplate(1, 251)).rejects.toMatchObject({ code: 'DB_READ_FAIL' });
    await expect(sensor.store(1, 300)).rejects.toMatchObject({ code: 'BAD_LOCATION' });
  });

  it('ReadIndexTable across table pages, DeletChar, Empty, AuraLedConfig', async () => {
    const { emu, sensor } = await setup({ capacity: 1000 });
    for (const p of [0, 9, 255, 256, 700, 999]) emu.library.set(p, syntheticTemplate(String(p)));
    expect([...(await sensor.occupiedPages(1000))].sort((a, b) => a - b)).toEqual([0, 9, 255, 256, 700, 999]);
    expect(await sensor.readIndexTable(1)).toEqual([256]);
    await sensor.deleteTemplates(255, 2);
    expect(await sensor.templateCount()).toBe(4);
    await sensor.emptyLibrary();
    expect(await sensor.templateCount()).toBe(0);
    await sensor.auraLed('breathing', 'blue');
  });

  it('Match, HiSpeedSearch, SetSysPara, SetPwd, GetRandomCode, notepad, UpImage, LED through the driver', async () => {
    const { emu, sensor } = await setup({ capacity: 200 });
    emu.library.set(163, syntheticTemplate('f#1'));
    emu.place('f#1');
    await sensor.captureImage();
    await sensor.imageToTemplate(1);
    await sensor.captureImage();
    await sensor.imageToTemplate(2);
    expect(await sensor.match()).toBeGreaterThan(200);
    expect((await sensor.fastSearch(1, 0, 0xa3 + 1))?.pageId).toBe(163);
    expect(await sensor.fastSearch(1, 0, 163)).toBeNull();
    emu.place('g#1');
    await sensor.captureImage();
    await sensor.imageToTemplate(2);
    expect(await sensor.match()).toBeNull();
    await sensor.setSecurityLevel(5);
    await sensor.setPacketSize(64);
    expect(await sensor.readSysParams()).toMatchObject({ securityLevel: 5, packetSize: 64 });
    await sensor.loadTemplate(1, 163);
    expect(await sensor.uploadTemplate(1)).toEqual(syntheticTemplate('f#1'));
    const [a, b] = [await sensor.randomNumber(), await sensor.randomNumber()];
    expect(a).not.toBe(b);
    await sensor.writeNotepad(3, Buffer.from('NIP 1985', 'ascii'));
    expect((await sensor.readNotepad(3)).subarray(0, 8).toString('ascii')).toBe('NIP 1985');
    await expect(sensor.readNotepad(16)).rejects.toMatchObject({ code: 'BAD_NOTEPAD_PAGE' });
    expect(await sensor.uploadImage()).toHaveLength(36_864);
    await sensor.led(true);
    expect(emu.leds.on).toBe(true);
    await sensor.setPassword(42);
    emu.swap();
    await expect(sensor.templateCount()).rejects.toMatchObject({ code: 'PASSWORD_REQUIRED' });
    await sensor.verifyPassword(42);
  });

  it('one command on the wire at a time: concurrent calls are queued, answers never cross', async () => {
    const { emu, sensor } = await setup();
    emu.library.set(3, syntheticTemplate('q'));
    const results = await Promise.all([sensor.templateCount(), sensor.readSysParams(), sensor.readIndexTable(0), sensor.templateCount()]);
    expect(results[0]).toBe(1);
    expect(results[1].librarySize).toBe(300);
    expect(results[2]).toEqual([3]);
    expect(emu.stats.commands).toBe(4);
  });
});

describe('fault injection → named errors, never a hang', () => {
  const cases = [
    ['checksum', FingerChecksumError, 'CHECKSUM'],
    ['truncate', FingerTruncatedError, 'TRUNCATED'],
    ['silence', FingerTimeoutError, 'TIMEOUT'],
    ['wrong-address', FingerAddressError, 'WRONG_ADDRESS'],
    ['garbage', FingerGarbageError, 'GARBAGE'],
  ] as const;
  for (const [kind, cls, code] of cases) {
    it(`${kind} → ${cls.name}, and the next command works again`, async () => {
      const { emu, sensor } = await setup({}, 150);
      emu.injectFault(kind);
      const t0 = Date.now();
      const err = await sensor.templateCount().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(cls);
      expect((err as { code: string }).code).toBe(code);
      expect(Date.now() - t0).toBeLessThan(1000);
      expect(await sensor.templateCount()).toBe(0);
    });
  }

  it('a closed port fails pending and later commands with FingerPortError', async () => {
    const { emu, sensor, port } = await setup({}, 500);
    emu.injectFault('silence');
    const pending = sensor.templateCount();
    await new Promise<void>((r) => port.close(() => r()));
    await expect(pending).rejects.toBeInstanceOf(FingerPortError);
    await expect(sensor.templateCount()).rejects.toBeInstanceOf(FingerPortError);
  });
});

describe('a closed driver and its port', () => {
  it('an error from the port after close (a queued write failing with EIO) is not an uncaught exception', async () => {
    const { EventEmitter } = await import('node:events');
    // A bare port: emitting 'error' with no listener throws, as a stream's late write error would crash the process.
    const port = Object.assign(new EventEmitter(), {
      isOpen: false,
      write: () => true,
      close: (cb?: () => void) => cb?.(),
    });
    const sensor = new FingerSensor(port as unknown as SerialLike, { timeoutMs: 100 });
    await sensor.close();
    expect(() => port.emit('error', Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' }))).not.toThrow();
  });
});
