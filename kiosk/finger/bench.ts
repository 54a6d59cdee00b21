import { FingerSensor } from './driver.js';
import { SensorEmulator, syntheticTemplate } from './emulator.js';
import { createPtyPair, openSerial, serveEmulator } from './transport.js';

export interface FingerBenchResult {
  seconds: number;
  baud: number;
  paced: boolean;
  commands: number;
  identifications: number;
  bytes_per_command: number;
  commands_per_s: number;
  identifications_per_s: number;
  line_limit_per_s: number;
  ratio: number;
}

/**
 * Commands/s through the emulator on a socat pty pair and the real serialport stack, against the
 * line's own limit: a request/response protocol cannot beyond (baud / 10 bits per byte) / (bytes
 * of command + answer). The emulator keeps to the line rate (paced), so the ratio shows what the
 * driver, queue and event loop cost on top of the wire. It does not include the module's own
 * capture/search time (a real R307 spends 0.2–0.5 s in GenImg+Search).
 */
export async function benchFinger(o: { seconds: number; baud: number; paced: boolean; libraryTemplates?: number }): Promise<FingerBenchResult> {
  const pty = await createPtyPair();
  const emu = new SensorEmulator({ capacity: 1000, lineBaud: o.paced ? o.baud : undefined });
  const served = await serveEmulator(emu, pty.devicePath, o.baud);
  const sensor = new FingerSensor(await openSerial(pty.hostPath, o.baud), { timeoutMs: 2000 });
  try {
    for (let p = 0; p < (o.libraryTemplates ?? 200); p++) emu.library.set(p, syntheticTemplate(`bench-${p}`));
    emu.place('bench-123');
    await sensor.verifyPassword();
    await sensor.readSysParams();
    const c0 = sensor.commands;
    const b0 = sensor.bytesIn + sensor.bytesOut;
    let identifications = 0;
    const t0 = performance.now();
    const end = t0 + o.seconds * 1000;
    // One kiosk scan cycle (GenImg → Img2Tz → Search) plus the idle poll the kiosk also sends.
    while (performance.now() < end) {
      await sensor.captureImage();
      await sensor.imageToTemplate(1);
      const hit = await sensor.search(1, 0, 1000);
      if (hit?.pageId === 123) identifications++;
      await sensor.templateCount();
    }
    const secs = (performance.now() - t0) / 1000;
    const commands = sensor.commands - c0;
    const bytes = sensor.bytesIn + sensor.bytesOut - b0;
    const perCmd = bytes / commands;
    const commandsPerS = commands / secs;
    const lineLimit = o.baud / 10 / perCmd;
    return {
      seconds: round(secs, 2),
      baud: o.baud,
      paced: o.paced,
      commands,
      identifications,
      bytes_per_command: round(perCmd, 1),
      commands_per_s: round(commandsPerS, 1),
      identifications_per_s: round(identifications / secs, 1),
      line_limit_per_s: round(lineLimit, 1),
      ratio: round(commandsPerS / lineLimit, 3),
    };
  } finally {
    await sensor.close();
    await served.close();
    await pty.close();
  }
}

const round = (x: number, d: number) => Math.round(x * 10 ** d) / 10 ** d;
