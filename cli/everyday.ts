import type { Groups } from './program.js';
import { UserError } from '../lib/errors.js';
import { hubDataOptions, withHub, type HubFlags } from './open-hub.js';
import { benchImage, faceBenchCommand } from './face.js';

/**
 * Everyday-use commands: `hadir staff codes` — one-time activation codes for the staff page
 * (hub/staff/auth.ts), as a CSV the OPD prints (mail merge onto slips) and hands out, so no admin
 * types anyone's password; `hadir bench preview` — the kiosk screen's live preview against
 * recognition speed.
 */
export function registerEverydayCommands(g: Groups): void {
  faceBenchCommand(g.bench, 'preview', 'Pratinjau kamera vs pengenalan / live preview cost: recognition frames/s with and without the screen preview', {
    help: 'frames per side (preview off / on)',
    default: '60',
  })
    .option('--fps <n>', 'preview frames per second (screen.previewFps)', '5')
    .option('--width <px>', 'preview width (screen.previewWidth)', '360')
    .action(async (o: { image?: string; frames: string; fps: string; width: string }) => {
      const out = (l: string) => process.stdout.write(`${l}\n`);
      const image = await benchImage(o.image);
      const fps = Number(o.fps);
      const width = Number(o.width);
      const frames = Math.max(10, parseInt(o.frames, 10) || 60);
      if (!(fps > 0 && fps <= 30)) throw new UserError(`--fps ${o.fps} must be 1–30`, 'use e.g. --fps 5');
      const b = await import('../face/bench.js');
      const { faceConfigSchema } = await import('../face/config.js');
      const { OnnxFaceEngine } = await import('../face/onnx-engine.js');
      const { benchPreview } = await import('../kiosk/screen/bench.js');
      const cfg = faceConfigSchema.parse({});
      const engine = await OnnxFaceEngine.create({ threads: cfg.threads, detectMaxSide: cfg.detectMaxSide });
      try {
        const frame = await b.benchFrame(image);
        const r = await benchPreview({ engine, cfg, frame: frame.image, index: b.randomIndex(engine.modelId, engine.dims, 3400 * 3), frames, fps, width });
        out(`recognition (640x480, 1:N over ${3400 * 3} templates, liveness): ${r.recognition_fps_without_preview} frames/s without preview, ${r.recognition_fps_with_preview} with a ${fps} fps preview (${r.slowdown_pct} % slower)`);
        out(`preview: ${r.preview_fps} frames/s delivered, ${r.preview_encode_ms} ms per ${width} px JPEG; CPU per recognised frame ${r.cpu_ms_per_frame_without} ms → ${r.cpu_ms_per_frame_with} ms`);
        out(JSON.stringify({ ...r, preview_target_fps: fps, preview_width: width, threads: cfg.threads }));
      } finally {
        await engine.close();
      }
    });

  // `hadir staff …` exists already (cli/attendance.ts: end of service); the codes join it
  const staff = g.program.commands.find((c) => c.name() === 'staff') ?? g.program.command('staff').description('Pegawai / staff');
  hubDataOptions(
    staff
      .command('codes')
      .description('Cetak kode aktivasi sekali pakai / one-time activation codes (CSV to print), per OPD or one NIP')
      .option('--opd <code>', 'all active staff of this OPD')
      .option('--nip <nip>', 'one person (a lost slip or a forgotten password)')
      .requiredOption('--out <file>', 'CSV file to write (mode 0600: the codes are secrets until handed out)')
      .option('--by <user>', 'admin recorded as the issuer (default: HADIR_ADMIN or the login name)'),
  ).action(async (o: HubFlags & { opd?: string; nip?: string; out: string; by?: string }) => {
    const { CODE_DAYS } = await import('../hub/staff/auth.js');
    const { writeFileAtomic } = await import('../lib/write-atomic.js');
    const { stringify } = await import('csv-stringify/sync');
    const { neutraliseFormula } = await import('../hub/reports/csv.js');
    const { userInfo } = await import('node:os');
    if (!o.opd && !o.nip) throw new UserError('say whose codes to print', 'pass --opd CODE or --nip NIP');
    await withHub(o, async ({ stores, config: cfg, clock }) => {
      const codes = await stores.staffPortal.issueCodes({ opd: o.opd, nip: o.nip, by: o.by ?? process.env.HADIR_ADMIN ?? userInfo().username, now: new Date(clock()) });
      const ddmmyyyy = (iso: string) => `${iso.slice(8, 10)}/${iso.slice(5, 7)}/${iso.slice(0, 4)}`;
      // For mail merge in Excel: BOM, CRLF, every cell quoted and no cell read as a formula (a name is free text).
      const rows = codes.map((c) => [c.nip, c.name, c.opd, c.unit, c.code, ddmmyyyy(c.expiresAt)].map((v) => neutraliseFormula(v ?? '')));
      const body = stringify(rows, { quoted: true, quoted_empty: true, record_delimiter: 'windows' });
      writeFileAtomic(o.out, '\ufeffnip,nama,opd,unit,kode_aktivasi,berlaku_sampai\r\n' + body, 0o600);
      process.stdout.write(`${codes.length} kode aktivasi ditulis ke ${o.out}, berlaku ${CODE_DAYS} hari, sekali pakai / ${codes.length} one-time codes written, valid ${CODE_DAYS} days\n`);
      process.stdout.write(`Pegawai membuka ${cfg.publicUrl ?? 'http://HUB:8080'}/saya, memasukkan NIP + kode, lalu memilih kata sandi sendiri / staff open /saya, type NIP + code and choose their own password\n`);
    }, { postgres: true });
  });
}
