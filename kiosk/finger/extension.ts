import { KIOSK_API, fingerUploadReplySchema, type ComponentState, type FingerUpload } from '../../protocol/index.js';
import type { KioskContext, KioskEvents, KioskExtension } from '../extension-api.js';
import { FingerSource } from './source.js';
import { SimulatedSensor, controlSocketPath, simulatedSensors } from './simulator.js';
import { openSerial } from './transport.js';

/**
 * The fingerprint feature: a FingerSource on the configured serial port (or, with --simulate, on a
 * socat pty served by the byte-accurate emulator), template sync on roster updates, enrolment on
 * `enrol:request` with method 'finger'.
 */
export class FingerExtension implements KioskExtension {
  readonly name = 'finger';
  source: FingerSource | null = null;
  simulator: SimulatedSensor | null = null;
  private readonly onRoster = () => this.source?.requestSync();
  private readonly onEnrol = (req: KioskEvents['enrol:request'][0]) => {
    if (req.method !== 'finger') return;
    if (!this.source) {
      this.ctx.bus.emit('enrol:result', { requestId: req.requestId, ok: false, detail: 'sensor sidik jari tidak aktif / fingerprint sensor disabled' });
      return;
    }
    this.source.enrol({ requestId: req.requestId, nip: req.nip, finger: req.finger ?? 1 });
  };

  constructor(private readonly ctx: KioskContext) {}

  async start(): Promise<void> {
    const { ctx } = this;
    const config = ctx.config.finger;
    const log = ctx.log.child({ part: 'finger' });
    if (!config.enabled) {
      ctx.health.register({ component: 'finger', state: (): ComponentState => ({ state: 'disabled' }) });
      return;
    }
    let path = config.port;
    if (ctx.simulate) {
      const sim = config.simulator;
      this.simulator = await SimulatedSensor.start({
        address: config.address,
        password: config.password,
        capacity: sim.capacity,
        packetSize: sim.packetSize,
        lineBaud: sim.paced ? config.baudRate : undefined,
        baudRate: config.baudRate,
        controlSocket: sim.controlSocket ? controlSocketPath(ctx.dataDir) : undefined,
        log,
      });
      simulatedSensors.set(ctx.deviceId, this.simulator);
      path = this.simulator.path;
      log.info({ path, capacity: sim.capacity }, 'simulated fingerprint sensor on a pty pair');
    }
    this.source = new FingerSource({
      config,
      open: () => openSerial(path, config.baudRate),
      roster: ctx.roster,
      bus: ctx.bus,
      log,
      dataDir: ctx.dataDir,
      now: ctx.now,
      upload: async (t) => void (await ctx.hub.post(KIOSK_API.fingerTemplates, t satisfies FingerUpload, fingerUploadReplySchema)),
    });
    ctx.bus.on('roster:updated', this.onRoster);
    ctx.bus.on('enrol:request', this.onEnrol);
    ctx.addSource(this.source);
  }

  async stop(): Promise<void> {
    this.ctx.bus.off('roster:updated', this.onRoster);
    this.ctx.bus.off('enrol:request', this.onEnrol);
    // The core stops sources before extensions; stopping again is harmless.
    await this.source?.stop();
    if (this.simulator) {
      simulatedSensors.delete(this.ctx.deviceId);
      await this.simulator.close();
    }
  }
}

export function createFingerExtension(ctx: KioskContext): KioskExtension {
  return new FingerExtension(ctx);
}
