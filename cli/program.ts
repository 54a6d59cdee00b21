import { Command } from 'commander';

/**
 * Command groups shared between areas. Each area (hub, kiosk, face, finger, attendance, ops)
 * adds its own subcommands in `cli/<area>.ts`; actions import their heavy modules lazily so
 * `hadir kiosk journal` does not load onnxruntime.
 */
export interface Groups {
  program: Command;
  device: Command;
  report: Command;
  bench: Command;
  eval: Command;
  import: Command;
  rules: Command;
  enroll: Command;
  models: Command;
}

export function createProgram(): Groups {
  const program = new Command('hadir')
    .description('Hadir — presensi ASN: kiosk, hub, laporan TPP / attendance kiosks, hub and TPP reports')
    .showHelpAfterError('(jalankan dengan --help untuk bantuan / run with --help for usage)')
    .configureOutput({ outputError: (str, write) => write(str) });
  const group = (name: string, description: string) => program.command(name).description(description);
  return {
    program,
    device: group('device', 'Kelola perangkat kiosk / manage kiosk devices'),
    report: group('report', 'Laporan / reports (json, csv, xlsx, pdf)'),
    bench: group('bench', 'Benchmark; last line of output is one JSON object'),
    eval: group('eval', 'Evaluasi akurasi / accuracy evaluation; last line is one JSON object'),
    import: group('import', 'Impor data CSV / import CSV master data'),
    rules: group('rules', 'Aturan TPP (Perbup) / TPP rule files'),
    enroll: group('enroll', 'Pendaftaran biometrik / biometric enrolment'),
    models: group('models', 'Model wajah ONNX / face models'),
  };
}
