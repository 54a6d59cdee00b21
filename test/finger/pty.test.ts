import { describe, expect, it } from 'vitest';
import { FingerSensor } from '../../kiosk/finger/driver.js';
import { SensorEmulator } from '../../kiosk/finger/emulator.js';
import { syntheticTemplate } from '../../finger/synthetic.js';
import { createPtyPair, openSerial, serveEmulator } from '../../kiosk/finger/transport.js';
import { FingerTimeoutError } from '../../kiosk/finger/errors.js';

describe('real serial stack over a socat pty pair', () => {
  it('speaks the protocol through serialport native bindings at 57600 8N1, paced to the line rate', async () => {
    const pty = await createPtyPair();
    const emu = new SensorEmulator({ capacity: 1000, lineBaud: 57600 });
    const served = await serveEmulator(emu, pty.devicePath);
    const sensor = new FingerSensor(await openSerial(pty.hostPath, 57600), { timeoutMs: 500 });
    try {
      await sensor.verifyPassword();
      expect((await sensor.readSysParams()).librarySize).toBe(1000);
      const tpl = syntheticTemplate('199001012020011001#1');
      await sensor.downloadTemplate(1, tpl);
      await sensor.store(1, 42);
      emu.place('199001012020011001#1');
      expect(await sensor.captureImage()).toBe(true);
      await sensor.imageToTemplate(1);
      expect((await sensor.search(1, 0, 1000))?.pageId).toBe(42);
      // UpChar of 512 bytes + framing at 57600 baud takes ≥ 100 ms of line time.
      await sensor.loadTemplate(2, 42);
      const t0 = performance.now();
      expect(await sensor.uploadTemplate(2)).toEqual(tpl);
      expect(performance.now() - t0).toBeGreaterThan(90);
      // Silence on a real pty is still a bounded, named fault.
      emu.injectFault('silence');
      await expect(sensor.templateCount()).rejects.toBeInstanceOf(FingerTimeoutError);
      expect(await sensor.templateCount()).toBe(1);
    } finally {
      await sensor.close();
      await served.close();
      await pty.close();
    }
  });
});
