import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SerialPort, SerialPortMock } from 'serialport';
import { UserError } from '../../lib/errors.js';
import type { SensorEmulator } from './emulator.js';
import { FingerPortError } from './errors.js';

/**
 * Ways to connect the driver to a sensor: a real serial device (or one end of a pty pair) through
 * serialport's native binding, or the emulator behind @serialport/binding-mock for unit tests.
 */

/** Opens a serial device 8N1 at `baudRate`; a missing or busy device is a FingerPortError. */
export async function openSerial(path: string, baudRate: number): Promise<SerialPort> {
  const port = new SerialPort({ path, baudRate, dataBits: 8, stopBits: 1, parity: 'none', autoOpen: false });
  await new Promise<void>((resolve, reject) =>
    port.open((err) => (err ? reject(new FingerPortError(`cannot open ${path}: ${err.message.replace(/^Error: /, '').replace(/, cannot open .*$/, '')}`)) : resolve())),
  );
  return port;
}

let mockSeq = 0;
// binding-mock's ESM entry has no type declarations; serialport re-exports it typed.
const MockBinding = SerialPortMock.binding;
type MockBindingInterface = typeof SerialPortMock.binding;
type MockPortBinding = Awaited<ReturnType<MockBindingInterface['open']>>;

/**
 * The emulator behind binding-mock: the driver's writes reach `emulator.receive`, the emulator's
 * answers are delivered with `emitData`, all through serialport's real stream class.
 */
export async function openEmulatedMockPort(emulator: SensorEmulator, baudRate = 57600): Promise<SerialPortMock> {
  const path = `/dev/emulated-finger-${process.pid}-${++mockSeq}`;
  MockBinding.createPort(path, { echo: false, record: false });
  const binding: MockBindingInterface = {
    ...MockBinding,
    async open(options) {
      const pb: MockPortBinding = await MockBinding.open(options);
      const write = pb.write.bind(pb);
      pb.write = async (buf: Buffer) => {
        await write(buf);
        emulator.receive(buf);
      };
      emulator.onOutput = (bytes) => {
        if (pb.isOpen) pb.emitData(bytes);
      };
      return pb;
    },
  };
  const port = new SerialPortMock({ path, baudRate, autoOpen: false, binding } as ConstructorParameters<typeof SerialPortMock>[0]);
  await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
  return port;
}

export interface PtyPair {
  /** The end the kiosk opens (like /dev/ttyAMA0). */
  hostPath: string;
  /** The end the emulator serves. */
  devicePath: string;
  close(): Promise<void>;
}

/** A pseudo-terminal pair from socat (`pty,raw,echo=0` both sides), torn down by close(). */
export async function createPtyPair(): Promise<PtyPair> {
  const dir = mkdtempSync(join(tmpdir(), 'hadir-finger-pty-'));
  const hostPath = join(dir, 'host');
  const devicePath = join(dir, 'sensor');
  let child: ChildProcess;
  try {
    child = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${hostPath}`, `pty,raw,echo=0,link=${devicePath}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    throw new UserError(`cannot start socat for the simulated fingerprint sensor: ${(e as Error).message}`, 'install it: sudo apt-get install socat');
  }
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const failed = new Promise<never>((_, reject) =>
    child.once('error', (e: NodeJS.ErrnoException) =>
      reject(e.code === 'ENOENT' ? new UserError('socat is not installed (needed for the simulated fingerprint sensor on a pty)', 'install it: sudo apt-get install socat') : e),
    ),
  );
  const ready = (async () => {
    for (let i = 0; i < 200; i++) {
      if (stderr.includes('starting data transfer loop') && existsSync(hostPath) && existsSync(devicePath)) return;
      if (child.exitCode !== null) throw new Error(`socat exited: ${stderr.trim().split('\n').pop()}`);
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error('socat did not create the pty pair within 5 s');
  })();
  const close = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await Promise.race([ready, failed]);
  } catch (e) {
    await close();
    throw e;
  }
  return { hostPath, devicePath, close };
}

/** Serves the emulator on a serial device path (the sensor end of a pty pair). */
export async function serveEmulator(emulator: SensorEmulator, devicePath: string, baudRate = 57600): Promise<{ close(): Promise<void> }> {
  const port = await openSerial(devicePath, baudRate);
  port.on('data', (chunk: Buffer) => emulator.receive(chunk));
  port.on('error', () => {});
  emulator.onOutput = (bytes) => {
    if (port.isOpen) port.write(bytes);
  };
  return {
    async close() {
      emulator.dispose();
      emulator.onOutput = () => {};
      if (port.isOpen) await new Promise<void>((r) => port.close(() => r()));
    },
  };
}
