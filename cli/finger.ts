import type { Groups } from './program.js';
import { UserError } from '../lib/errors.js';

/**
 * Commands of the finger area: `hadir bench finger`, `hadir finger probe` (technician check of a
 * real module), `hadir finger sim …` (put fingers on the simulated sensor of `hadir kiosk --simulate`).
 */
export function registerFingerCommands(g: Groups): void {
  g.bench
    .command('finger')
    .description('Perintah/detik sensor sidik jari (emulator, pty, 57600 baud) vs batas jalur / fingerprint commands/s over a pty vs the line limit')
    .option('--seconds <n>', 'duration', '5')
    .option('--baud <n>', 'line rate the emulator keeps to', '57600')
    .option('--unpaced', 'let the emulator answer as fast as the pty allows (stack cost only)', false)
    .option('--in-process', 'run the emulator in this process (default: its own process, like a real module)', false)
    .action(async (o: { seconds: string; baud: string; unpaced: boolean; inProcess: boolean }) => {
      const seconds = positive(o.seconds, '--seconds');
      const baud = positive(o.baud, '--baud');
      const { benchFinger } = await import('../kiosk/finger/bench.js');
      const r = await benchFinger({ seconds, baud, paced: !o.unpaced, separateProcess: !o.inProcess });
      const out = (l: string) => process.stdout.write(`${l}\n`);
      out(`Sensor sidik jari (emulator di pty, serialport asli) / fingerprint sensor over a socat pty, ${baud} baud${r.paced ? ', emulator paced to the line' : ', unpaced'}, emulator ${r.emulator_process ? 'in its own process' : 'in this process'}`);
      out(`  ${r.commands} commands in ${r.seconds} s (GenImg, Img2Tz, Search over 200 templates, TempleteNum), ${r.bytes_per_command} bytes per command (request + answer)`);
      out(`  commands/s        ${r.commands_per_s}`);
      out(`  identifications/s ${r.identifications_per_s} (line + driver only; a real module adds its capture/search time)`);
      out(`  line limit        ${r.line_limit_per_s} commands/s (${baud}/10 bytes/s ÷ bytes per command)`);
      out(`  ratio             ${r.ratio}`);
      out(JSON.stringify(r));
    });

  const finger = g.program.command('finger').description('Sensor sidik jari / fingerprint sensor tools');

  finger
    .command('probe')
    .description('Periksa modul sidik jari di port serial / check a real fingerprint module: handshake, parameters, templates')
    .option('--port <path>', 'serial device', '/dev/serial0')
    .option('--baud <n>', 'baud rate', '57600')
    .option('--address <n>', 'module address', String(0xffffffff))
    .option('--password <n>', 'module password', '0')
    .action(async (o: { port: string; baud: string; address: string; password: string }) => {
      const { openSerial } = await import('../kiosk/finger/transport.js');
      const { FingerSensor } = await import('../kiosk/finger/driver.js');
      const { FingerError } = await import('../kiosk/finger/errors.js');
      let sensor;
      try {
        sensor = new FingerSensor(await openSerial(o.port, positive(o.baud, '--baud')), { address: Number(o.address), password: Number(o.password), timeoutMs: 1000 });
        await sensor.verifyPassword();
        const p = await sensor.readSysParams();
        const n = await sensor.templateCount();
        const out = (l: string) => process.stdout.write(`${l}\n`);
        out(`Modul sidik jari OK / fingerprint module OK on ${o.port}`);
        out(`  capacity ${p.librarySize}, templates ${n}, security level ${p.securityLevel}, packet ${p.packetSize} B, ${p.baudRate} baud, address 0x${p.address.toString(16)}`);
        out(JSON.stringify({ port: o.port, ...p, templates: n }));
      } catch (e) {
        if (e instanceof FingerError) throw new UserError(`sensor sidik jari / fingerprint sensor on ${o.port}: ${e.message}`, 'check wiring (TX↔RX, 3.3 V), enable_uart=1 and no serial console on the port, baud rate and address');
        throw e;
      } finally {
        await sensor?.close();
      }
    });

  finger
    .command('emulate')
    .description('Jalankan emulator modul di pasangan pty / run the module emulator on a socat pty pair (for `finger.port`, benches, development)')
    .option('--capacity <n>', 'library capacity', '1000')
    .option('--baud <n>', 'line rate the emulator keeps to', '57600')
    .option('--unpaced', 'answer as fast as the pty allows', false)
    .option('--socket <path>', 'control socket for `hadir finger sim --socket`')
    .option('--library <n>', 'preload N synthetic templates (person "bench-<i>", finger 1) on pages 0..N-1', '0')
    .option('--address <n>', 'module address (e.g. 0xFFFFFFFF)', '0xFFFFFFFF')
    .option('--password <n>', 'module password; commands answer 0x21 until VfyPwd', '0')
    .option('--packet-size <n>', 'data packet size: 32, 64, 128 or 256', '128')
    .action(async (o: { capacity: string; baud: string; unpaced: boolean; socket?: string; library: string; address: string; password: string; packetSize: string }) => {
      const { SimulatedSensor } = await import('../kiosk/finger/simulator.js');
      const { fingerSeed, syntheticTemplate } = await import('../finger/synthetic.js');
      const { PACKET_SIZES } = await import('../kiosk/finger/packet.js');
      const baud = positive(o.baud, '--baud');
      const packetSize = Number(o.packetSize);
      if (!(PACKET_SIZES as readonly number[]).includes(packetSize)) throw new UserError(`--packet-size must be one of ${PACKET_SIZES.join(', ')}, got ${JSON.stringify(o.packetSize)}`, 'e.g. --packet-size 128 (the factory setting)');
      const sim = await SimulatedSensor.start({
        capacity: positive(o.capacity, '--capacity'),
        baudRate: baud,
        lineBaud: o.unpaced ? undefined : baud,
        controlSocket: o.socket,
        address: uint32(o.address, '--address'),
        password: uint32(o.password, '--password'),
        packetSize,
      });
      const n = Math.min(Number(o.library) || 0, sim.emulator.capacity);
      for (let p = 0; p < n; p++) sim.emulator.library.set(p, syntheticTemplate(fingerSeed(`bench-${p}`, 1)));
      // First stdout line: where to connect (machine-readable for scripts and the bench).
      process.stdout.write(`${JSON.stringify({ port: sim.path, socket: o.socket ?? null, capacity: sim.emulator.capacity, templates: n })}\n`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', () => resolve());
        process.once('SIGTERM', () => resolve());
      });
      await sim.close();
    });

  finger
    .command('sim')
    .description('Kendalikan sensor simulasi `hadir kiosk --simulate` / control the simulated sensor: place|unknown|lift|fault|clear|swap|status')
    .argument('<op>', 'place | unknown | lift | fault | clear | swap | status')
    .option('--config <file>', 'kiosk config (its dataDir holds the control socket)', process.env.HADIR_KIOSK_CONFIG)
    .option('--socket <path>', 'control socket path (instead of --config)')
    .option('--nip <nip>', 'whose finger (place)')
    .option('--finger <n>', 'finger 1–10 (place)', '1')
    .option('--poor', 'a smudged, unreadable image (place)', false)
    .option('--kind <kind>', 'checksum | truncate | silence | wrong-address | garbage (fault)')
    .option('--count <n>', 'how many answers the fault hits (default: until clear)')
    .action(async (op: string, o: { config?: string; socket?: string; nip?: string; finger: string; poor: boolean; kind?: string; count?: string }) => {
      const { sendControl, controlSocketPath, controlRequestSchema } = await import('../kiosk/finger/simulator.js');
      let socket = o.socket;
      if (!socket) {
        if (!o.config) throw new UserError('which kiosk? give --config FILE (or HADIR_KIOSK_CONFIG) or --socket PATH', 'e.g. hadir finger sim place --nip 198503122010011002 --config kiosk.json');
        const { loadKioskConfig } = await import('../kiosk/config.js');
        socket = controlSocketPath(loadKioskConfig(o.config).dataDir);
      }
      const req =
        op === 'place'
          ? { op, nip: o.nip, finger: Number(o.finger), quality: o.poor ? 'poor' : 'good' }
          : op === 'unknown'
            ? { op: 'place-unknown' }
            : op === 'fault'
              ? { op, kind: o.kind, count: o.count === undefined ? undefined : Number(o.count) }
              : { op };
      const parsed = controlRequestSchema.safeParse(req);
      if (!parsed.success) throw new UserError(`hadir finger sim ${op}: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'op'}: ${i.message}`).join('; ')}`, 'see `hadir finger sim --help`');
      const reply = await sendControl(socket, parsed.data);
      process.stdout.write(`${JSON.stringify(reply)}\n`);
    });
}

function uint32(v: string, flag: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new UserError(`${flag} must be a 32-bit number, got ${JSON.stringify(v)}`, `e.g. ${flag} 0xFFFFFFFF`);
  return n;
}

function positive(v: string, flag: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new UserError(`${flag} must be a positive number, got ${JSON.stringify(v)}`, `e.g. ${flag} 5`);
  return n;
}
