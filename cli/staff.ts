import type { Groups } from './program.js';
import { UserError } from '../lib/errors.js';

/**
 * `hadir staff codes`: one-time activation codes for the staff page (hub/staff/auth.ts), as a CSV
 * the OPD prints (mail merge onto slips) and hands out — no admin types anyone's password.
 */
export function registerStaffCommands(g: Groups): void {
  const staff = g.program.command('staff').description('Halaman pegawai / the staff page');
  staff
    .command('codes')
    .description('Cetak kode aktivasi sekali pakai / one-time activation codes (CSV to print), per OPD or one NIP')
    .option('--opd <code>', 'all active staff of this OPD')
    .option('--nip <nip>', 'one person (a lost slip or a forgotten password)')
    .requiredOption('--out <file>', 'CSV file to write (mode 0600: the codes are secrets until handed out)')
    .option('--data <dir>', 'hub data directory (HADIR_DATA_DIR, default ./data)')
    .option('--by <user>', 'admin recorded as the issuer (default: HADIR_ADMIN or the login name)')
    .action(async (o: { opd?: string; nip?: string; out: string; data?: string; by?: string }) => {
      const { resolveHubConfig } = await import('../hub/config.js');
      const { openSqlite } = await import('../hub/store/sqlite.js');
      const { issueCodes, CODE_DAYS } = await import('../hub/staff/auth.js');
      const { writeFileAtomic } = await import('../lib/write-atomic.js');
      const { userInfo } = await import('node:os');
      if (!o.opd && !o.nip) throw new UserError('say whose codes to print', 'pass --opd CODE or --nip NIP');
      const cfg = resolveHubConfig({ dataDir: o.data });
      const db = openSqlite(cfg.dbPath);
      try {
        const codes = issueCodes(db, { opd: o.opd, nip: o.nip, by: o.by ?? process.env.HADIR_ADMIN ?? userInfo().username, now: new Date() });
        const q = (s: string | null) => `"${(s ?? '').replace(/"/g, '""')}"`;
        const ddmmyyyy = (iso: string) => `${iso.slice(8, 10)}/${iso.slice(5, 7)}/${iso.slice(0, 4)}`;
        const lines = ['nip,nama,opd,unit,kode_aktivasi,berlaku_sampai', ...codes.map((c) => [q(c.nip), q(c.name), q(c.opd), q(c.unit), q(c.code), q(ddmmyyyy(c.expiresAt))].join(','))];
        writeFileAtomic(o.out, '\ufeff' + lines.join('\r\n') + '\r\n', 0o600);
        process.stdout.write(`${codes.length} kode aktivasi ditulis ke ${o.out}, berlaku ${CODE_DAYS} hari, sekali pakai / ${codes.length} one-time codes written, valid ${CODE_DAYS} days\n`);
        process.stdout.write(`Pegawai membuka ${cfg.publicUrl ?? 'http://HUB:8080'}/saya, memasukkan NIP + kode, lalu memilih kata sandi sendiri / staff open /saya, type NIP + code and choose their own password\n`);
      } finally {
        db.close();
      }
    });
}
