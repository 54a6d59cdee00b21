import { createServer, createConnection, type Server } from 'node:net';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { UserError, isErrno } from '../../lib/errors.js';
import type { Logger } from '../../lib/logger.js';
import { SensorEmulator, type EmulatorOptions } from './emulator.js';
import { fingerSeed } from '../../finger/synthetic.js';
import { createPtyPair, serveEmulator, type PtyPair } from './transport.js';

/**
 * `hadir kiosk --simulate`: the emulated module on the sensor end of a socat pty pair, so the kiosk
 * opens the other end through the real serialport stack exactly as it opens /dev/serial0.
 * A test or the demo puts fingers on the glass in-process (`simulatedSensors.get(deviceId)`), or
 * from another process through the control socket (`hadir finger sim …`).
 */

/** Finger seed used by the simulator for a person's finger; the demo enrols with the same seed. */
export const controlRequestSchema = z.discriminatedUnion('op', [
  z.object({ op: z.literal('place'), nip: z.string().min(1), finger: z.number().int().min(0).max(10).default(1), quality: z.enum(['good', 'poor']).default('good') }),
  z.object({ op: z.literal('place-unknown') }),
  z.object({ op: z.literal('lift') }),
  z.object({ op: z.literal('fault'), kind: z.enum(['checksum', 'truncate', 'silence', 'wrong-address', 'garbage']), count: z.number().int().min(1).optional() }),
  z.object({ op: z.literal('clear') }),
  z.object({ op: z.literal('swap') }),
  z.object({ op: z.literal('status') }),
]);
export type ControlRequest = z.input<typeof controlRequestSchema>;

export class SimulatedSensor {
  private served: { close(): Promise<void> } | null = null;
  private server: Server | null = null;
  readonly socketPath: string | null;

  private constructor(
    readonly emulator: SensorEmulator,
    private readonly pty: PtyPair,
    socketPath: string | null,
  ) {
    this.socketPath = socketPath;
  }

  /** The path the kiosk opens (host end of the pty pair). */
  get path(): string {
    return this.pty.hostPath;
  }

  static async start(opts: EmulatorOptions & { baudRate: number; controlSocket?: string; log?: Logger }): Promise<SimulatedSensor> {
    const emulator = new SensorEmulator(opts);
    const pty = await createPtyPair();
    const sim = new SimulatedSensor(emulator, pty, opts.controlSocket ?? null);
    try {
      sim.served = await serveEmulator(emulator, pty.devicePath, opts.baudRate);
      if (opts.controlSocket) await sim.listen(opts.controlSocket, opts.log);
    } catch (e) {
      await sim.close();
      throw e;
    }
    return sim;
  }

  /** Executes one control request (socket or in-process). */
  control(req: ControlRequest): Record<string, unknown> {
    const r = controlRequestSchema.parse(req);
    const e = this.emulator;
    switch (r.op) {
      case 'place':
        e.place(fingerSeed(r.nip, r.finger), r.quality);
        break;
      case 'place-unknown':
        e.place(`unknown-${Date.now()}-${Math.random()}`);
        break;
      case 'lift':
        e.lift();
        break;
      case 'fault':
        e.injectFault(r.kind, r.count ?? Infinity);
        break;
      case 'clear':
        e.clearFault();
        break;
      case 'swap':
        e.swap();
        break;
      case 'status':
        break;
    }
    return { ok: true, fingerOnGlass: e.fingerOnGlass, templates: e.library.size, capacity: e.capacity, commands: e.stats.commands };
  }

  private async listen(path: string, log?: Logger): Promise<void> {
    rmSync(path, { force: true });
    this.server = createServer((sock) => {
      let buf = '';
      sock.on('data', (d) => {
        buf += d.toString();
        let i: number;
        while ((i = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 1);
          let reply: Record<string, unknown>;
          try {
            reply = this.control(JSON.parse(line) as ControlRequest);
          } catch (e) {
            reply = { ok: false, error: (e as Error).message.slice(0, 300) };
          }
          sock.write(JSON.stringify(reply) + '\n');
        }
      });
      sock.on('error', () => {});
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(path, () => resolve());
    });
    log?.info({ socket: path }, 'simulated fingerprint sensor: control socket ready');
  }

  async close(): Promise<void> {
    if (this.server) {
      await new Promise<void>((r) => this.server!.close(() => r()));
      if (this.socketPath) rmSync(this.socketPath, { force: true });
    }
    await this.served?.close();
    await this.pty.close();
  }
}

/** Simulated sensors of kiosks running in this process, by deviceId (demo, tests). */
export const simulatedSensors = new Map<string, SimulatedSensor>();

export const controlSocketPath = (dataDir: string) => join(dataDir, 'finger-sim.sock');

/** Client side of the control socket (`hadir finger sim …`). */
export async function sendControl(socketPath: string, req: ControlRequest, timeoutMs = 3000): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const sock = createConnection(socketPath);
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new UserError(`no answer from the simulated sensor at ${socketPath}`, 'is `hadir kiosk --simulate` running with this config?'));
    }, timeoutMs);
    let buf = '';
    sock.on('connect', () => sock.write(JSON.stringify(req) + '\n'));
    sock.on('data', (d) => {
      buf += d.toString();
      const i = buf.indexOf('\n');
      if (i < 0) return;
      clearTimeout(timer);
      sock.end();
      const reply = JSON.parse(buf.slice(0, i)) as Record<string, unknown>;
      if (reply.ok === false) reject(new UserError(`simulated sensor refused: ${String(reply.error)}`, 'check the command arguments'));
      else resolve(reply);
    });
    sock.on('error', (e) => {
      clearTimeout(timer);
      reject(
        isErrno(e, 'ENOENT') || isErrno(e, 'ECONNREFUSED')
          ? new UserError(`no simulated fingerprint sensor at ${socketPath}`, 'start the kiosk with `hadir kiosk --simulate --config FILE` first')
          : e,
      );
    });
  });
}

/**
 * In-process "touch": put `nip`'s finger on the simulated sensor of kiosk `deviceId` for `holdMs`,
 * then lift it (the demo's finger punches). False when that kiosk has no simulated sensor.
 */
export async function simulatedTouch(deviceId: string, nip: string, finger = 1, holdMs = 400): Promise<boolean> {
  const sim = simulatedSensors.get(deviceId);
  if (!sim) return false;
  sim.control({ op: 'place', nip, finger });
  await new Promise((r) => setTimeout(r, holdMs));
  sim.control({ op: 'lift' });
  return true;
}

/**
 * The enrolment gesture on a simulated sensor, reacting to the kiosk like a person following the
 * prompts, after the enrolment request was emitted: place → (captured) → lift → (kiosk saw the empty glass) → place again → (captured).
 * `second` puts a different finger down the second time (mismatch tests).
 */
export async function simulatedEnrolTouch(sim: SimulatedSensor, nip: string, finger = 1, second?: { nip: string; finger: number }, timeoutMs = 10_000): Promise<void> {
  const e = sim.emulator;
  const waitFor = async (cond: () => boolean) => {
    const end = Date.now() + timeoutMs;
    while (!cond()) {
      if (Date.now() > end) throw new Error('simulated enrolment touch: the kiosk did not poll the sensor in time');
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  // Two empty polls after the request: the scan loop has handed over to the enrolment (at most
  // one poll of a scan step was still in flight), so the first capture is the enrolment's.
  const polls = e.stats.emptyPolls;
  await waitFor(() => e.stats.emptyPolls >= polls + 2);
  let c = e.stats.captures;
  sim.control({ op: 'place', nip, finger });
  await waitFor(() => e.stats.captures > c);
  const empty = e.stats.emptyPolls;
  sim.control({ op: 'lift' });
  await waitFor(() => e.stats.emptyPolls > empty);
  c = e.stats.captures;
  sim.control({ op: 'place', nip: second?.nip ?? nip, finger: second?.finger ?? finger });
  await waitFor(() => e.stats.captures > c);
}
