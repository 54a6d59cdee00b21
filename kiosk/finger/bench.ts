import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FingerSensor } from './driver.js';
import { SensorEmulator } from './emulator.js';
import { fingerSeed, syntheticTemplate } from '../../finger/synthetic.js';
import { createPtyPair, openSerial, serveEmulator } from './transport.js';
import { sendControl } from './simulator.js';

export interface FingerBenchResult {
  seconds: number;
  baud: number;
  paced: boolean;
  emulator_process: boolean;
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
export async function benchFinger(o: { seconds: number; baud: number; paced: boolean; separateProcess?: boolean }): Promise<FingerBenchResult> {
  const target = o.separateProcess ? await emulatorProcess(o) : await emulatorInProcess(o);
  const sensor = new FingerSensor(await openSerial(target.port, o.baud), { timeoutMs: 2000 });
  try {
    await target.place('bench-123');
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
      emulator_process: !!o.separateProcess,
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
    await target.close();
  }
}

interface BenchTarget {
  port: string;
  place(nip: string): Promise<void>;
  close(): Promise<void>;
}

const LIBRARY = 200;

async function emulatorInProcess(o: { baud: number; paced: boolean }): Promise<BenchTarget> {
  const pty = await createPtyPair();
  const emu = new SensorEmulator({ capacity: 1000, lineBaud: o.paced ? o.baud : undefined });
  for (let p = 0; p < LIBRARY; p++) emu.library.set(p, syntheticTemplate(fingerSeed(`bench-${p}`, 1)));
  const served = await serveEmulator(emu, pty.devicePath, o.baud);
  return {
    port: pty.hostPath,
    place: async (nip) => emu.place(fingerSeed(nip, 1)),
    close: async () => {
      await served.close();
      await pty.close();
    },
  };
}

/** `hadir finger emulate` in a child process: the module's work does not share our event loop. */
async function emulatorProcess(o: { baud: number; paced: boolean }): Promise<BenchTarget> {
  const dir = mkdtempSync(join(tmpdir(), 'hadir-finger-bench-'));
  const socket = join(dir, 'ctl.sock');
  const bin = fileURLToPath(new URL('../../bin/hadir.mjs', import.meta.url));
  const args = [bin, 'finger', 'emulate', '--capacity', '1000', '--baud', String(o.baud), '--socket', socket, '--library', String(LIBRARY)];
  if (!o.paced) args.push('--unpaced');
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const first = await new Promise<string>((resolve, reject) => {
    let buf = '';
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      const i = buf.indexOf('\n');
      if (i >= 0) resolve(buf.slice(0, i));
    });
    child.once('exit', (code) => reject(new Error(`hadir finger emulate exited (${code}) before it was ready`)));
  });
  const { port } = JSON.parse(first) as { port: string };
  return {
    port,
    place: async (nip) => void (await sendControl(socket, { op: 'place', nip, finger: 1 })),
    close: async () => {
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const round = (x: number, d: number) => Math.round(x * 10 ** d) / 10 ** d;
