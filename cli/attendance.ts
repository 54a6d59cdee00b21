import { Option, type Command } from 'commander';
import { userInfo } from 'node:os';
import { readFileSync } from 'node:fs';
import type { Groups } from './program.js';
import { csvDialectOption } from './csv-dialect.js';
import { UserError, isErrno } from '../lib/errors.js';
import { hubDataOptions, withHub, type HubFlags, type OpenHubOptions } from './open-hub.js';
import type { AttendanceRepository } from '../hub/attendance/repository.js';
import { iso, type Clock } from '../lib/clock.js';
import { formatLineError } from '../hub/org/line-error.js';
import type { LineError } from '../hub/org/csv.js';

/**
 * Commands of the attendance area: imports (org, staff, punches, kinerja, holidays, roster),
 * TPP rules, reports, leave/duty with approval, punch review, transfers, schedules, relocation
 * events, and the TPP benchmark. They work on the hub's data directory whether or not the hub runs;
 * every change queues the affected days and is derived before the command returns.
 */

interface DataOpts extends HubFlags {
  by?: string;
}
const byOption = () => new Option('--by <user>', 'admin recorded as the author (default: HADIR_ADMIN or the login name)');

function adminName(o: DataOpts): string {
  return o.by ?? process.env.HADIR_ADMIN ?? userInfo().username;
}

/**
 * The hub's attendance repository for an attendance command (cli/open-hub.ts), on SQLite or
 * PostgreSQL. `create` only for the commands that can stand first on a new hub: the organisation,
 * holidays, schedules, rules and settings.
 */
async function withDb<T>(o: DataOpts, fn: (att: AttendanceRepository, clock: Clock) => Promise<T> | T, opts: OpenHubOptions = {}): Promise<T> {
  return withHub(o, ({ stores, clock }) => fn(stores.attendance, clock), { ...opts, postgres: true });
}

/** Derive what the command changed, so readers (hub, reports) see it at once. */
async function settle(att: AttendanceRepository, clock: Clock): Promise<void> {
  const r = await att.settle(iso(clock));
  if (r.months) process.stdout.write(`Dihitung ulang: ${r.employees} pegawai-bulan dalam ${r.months} bulan, ${r.changed} berubah / re-derived: ${r.employees} employee-months in ${r.months} months, ${r.changed} changed\n`);
}

/**
 * Before a report: one pass of the hub's derivation job (hub/attendance/job.ts, the one place
 * attendance is derived), waited for in full — a command has no job running beside it. The read
 * after it only reads, like the hub's report routes.
 */
async function caughtUp(att: import('../hub/attendance/repository.js').AttendanceRepository, month: string, today: string, clock: Clock): Promise<void> {
  const { attendanceJob } = await import('../hub/attendance/job.js');
  const { childLogger } = await import('../lib/logger.js');
  await attendanceJob(att, childLogger('cli'), clock).caughtUp(month, today, null);
}

function printErrors(errors: LineError[]): void {
  for (const e of errors) process.stdout.write(`  ${formatLineError(e)}\n`);
  if (errors.length) {
    process.stdout.write(`${errors.length} baris ditolak / rows rejected — perbaiki dan impor ulang (re-import is safe)\n`);
    process.exitCode = 1;
  }
}

function summary(what: string, r: object): void {
  const parts = Object.entries(r)
    .filter(([k]) => k !== 'errors')
    .map(([k, v]) => `${k} ${String(v)}`);
  process.stdout.write(`${what}: ${parts.join(', ')}, errors ${((r as { errors?: unknown[] }).errors ?? []).length}\n`);
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    if (isErrno(e, 'ENOENT')) throw new UserError(`file ${path} does not exist (berkas tidak ditemukan)`, 'check the path');
    throw e;
  }
}

function sub(parent: Command, name: string, description: string): Command {
  return hubDataOptions(parent.command(name).description(description)).addOption(byOption());
}

export function registerAttendanceCommands(g: Groups): void {
  // ---- imports ----------------------------------------------------------------------------
  sub(g.import, 'org', 'Impor OPD/unit/lokasi / import organisation CSV (opd_code,opd_name,unit_code,unit_name,site_code,site_name[,tz])')
    .argument('<file>')
    .action(async (file: string, o: DataOpts) => {
      const { readCsv } = await import('../hub/org/csv.js');
      const { importOrg, ORG_COLUMNS } = await import('../hub/org/import.js');
      await withDb(o, async (att, clock) => {
        const r = await att.importOrg(readCsv(file, ORG_COLUMNS, ['tz']));
        summary('Organisasi / organisation (sites)', r);
        printErrors(r.errors);
      }, { create: true });
    });
  sub(g.import, 'staff', 'Impor pegawai / import staff CSV (nip,name,opd,unit,employment,job_class,tpp_base,schedule)')
    .argument('<file>')
    .option('--effective <date>', 'date a changed unit/schedule takes effect (transfer), default today')
    .action(async (file: string, o: DataOpts & { effective?: string }) => {
      const { readCsv } = await import('../hub/org/csv.js');
      const { STAFF_COLUMNS } = await import('../hub/org/import.js');
      const { isDate } = await import('../hub/attendance/time.js');
      if (o.effective && !isDate(o.effective)) throw new UserError(`--effective "${o.effective}" is not a date YYYY-MM-DD`, 'write e.g. --effective 2026-10-15');
      await withDb(o, async (att, clock) => {
        const rows = readCsv(file, STAFF_COLUMNS);
        const r = await att.importStaff(rows, { by: adminName(o), now: iso(clock), effective: o.effective ?? (await att.today(clock())) });
        summary('Pegawai / staff', r);
        printErrors(r.errors);
        await settle(att, clock);
      });
    });
  sub(g.import, 'punches', 'Impor absen manual/mesin lama / import paper or legacy punches (nip,time,site,method,note)')
    .argument('<file>')
    .action(async (file: string, o: DataOpts) => {
      const { readCsv } = await import('../hub/org/csv.js');
      const { PUNCH_COLUMNS } = await import('../hub/attendance/admin.js');
      await withDb(o, async (att, clock) => {
        const r = await att.importPunches(readCsv(file, PUNCH_COLUMNS), { by: adminName(o), now: iso(clock) });
        summary('Absen / punches', r);
        printErrors(r.errors);
        await settle(att, clock);
      });
    });
  sub(g.import, 'kinerja', 'Impor nilai kinerja / import performance scores (nip,month,score 0–100)')
    .argument('<file>')
    .action(async (file: string, o: DataOpts) => {
      const { readCsv } = await import('../hub/org/csv.js');
      const { KINERJA_COLUMNS } = await import('../hub/attendance/admin.js');
      await withDb(o, async (att, clock) => {
        const r = await att.importKinerja(readCsv(file, KINERJA_COLUMNS), { by: adminName(o), now: iso(clock) });
        summary('Nilai kinerja / scores', r);
        printErrors(r.errors);
      });
    });
  sub(g.import, 'holidays', 'Impor hari libur / import holidays (date,name,kind nasional|cuti_bersama[,except_units U1|U2])')
    .argument('<file>')
    .action(async (file: string, o: DataOpts) => {
      const { readCsv } = await import('../hub/org/csv.js');
      const { HOLIDAY_COLUMNS } = await import('../hub/attendance/admin.js');
      await withDb(o, async (att, clock) => {
        const r = await att.importHolidays(readCsv(file, HOLIDAY_COLUMNS, ['except_units']));
        summary('Hari libur / holidays', r);
        printErrors(r.errors);
        await settle(att, clock);
      }, { create: true });
    });
  sub(g.import, 'roster', 'Impor jadwal shift / import shift roster (nip,date,shift — shift key or OFF)')
    .argument('<file>')
    .action(async (file: string, o: DataOpts) => {
      const { readCsv } = await import('../hub/org/csv.js');
      const { ROSTER_COLUMNS } = await import('../hub/attendance/admin.js');
      await withDb(o, async (att, clock) => {
        const r = await att.importRoster(readCsv(file, ROSTER_COLUMNS));
        summary('Jadwal shift / roster', r);
        printErrors(r.errors);
        await settle(att, clock);
      });
    });

  // ---- TPP rules --------------------------------------------------------------------------
  g.rules
    .command('check')
    .description('Periksa berkas aturan / validate a rule file (JSON or YAML)')
    .argument('<file>')
    .action(async (file: string) => {
      const { checkRule } = await import('../hub/tpp/store.js');
      const r = checkRule(readText(file), file);
      process.stdout.write(`OK: ${r.id} berlaku mulai / effective from ${r.effectiveFrom}; disiplin ${r.weights.disiplin} %, produktivitas ${r.weights.produktivitas} %, batas potongan / cap ${r.monthlyCapPct} %\n`);
    });
  sub(g.rules, 'add', 'Pasang versi Perbup / install a rule version')
    .argument('<file>')
    .action(async (file: string, o: DataOpts) => {
      const { checkRule } = await import('../hub/tpp/store.js');
      const rule = checkRule(readText(file), file);
      await withDb(o, async (att, clock) => {
        const r = await att.addRule(rule, adminName(o), iso(clock));
        process.stdout.write(r === 'added' ? `Aturan ${rule.id} dipasang / installed, effective ${rule.effectiveFrom}\n` : `Aturan ${rule.id} sudah terpasang / already installed (unchanged)\n`);
        await settle(att, clock);
      }, { create: true });
    });
  sub(g.rules, 'list', 'Daftar versi aturan / list installed rule versions').action(async (o: DataOpts) => {
    await withDb(o, async (att, clock) => {
      for (const r of await att.listRules()) process.stdout.write(`${r.effective_from}  ${r.id}  (added ${r.added_at} by ${r.added_by ?? '-'})\n`);
    });
  });

  // ---- reports ----------------------------------------------------------------------------
  const reportCmd = (name: 'attendance' | 'tpp', description: string) =>
    sub(g.report, name, description)
      .option('--month <YYYY-MM>', 'month (default: the current month, counted up to yesterday)')
      .option('--opd <code>', 'only this OPD')
      .addOption(new Option('--format <format>', 'output format').choices(['json', 'csv', 'xlsx', 'pdf']).default('json'))
      .option('--out <file>', 'write to this file (required for xlsx/pdf on a terminal)')
      .addOption(csvDialectOption())
      .action(async (o: DataOpts & { month?: string; opd?: string; format: 'json' | 'csv' | 'xlsx' | 'pdf'; out?: string; csvDialect: 'en' | 'id' }) => {
        const { requireMonth } = await import('../hub/attendance/inputs.js');
        if (o.month) requireMonth(o.month);
        if ((o.format === 'xlsx' || o.format === 'pdf') && !o.out && process.stdout.isTTY) throw new UserError(`${o.format} is binary`, `add --out FILE.${o.format}`);
        const { renderAttendance, renderTpp } = await import('../hub/reports/index.js');
        const { rupiah } = await import('../hub/reports/labels.js');
        await withHub(o, async ({ stores, clock }) => {
          const att = stores.attendance;
          const today = await att.today(clock());
          const month = o.month ?? today.slice(0, 7);
          await caughtUp(att, month, today, clock);
          const q = { month, opd: o.opd ?? null, today, now: iso(clock) };
          let buf: Buffer;
          let note: string;
          if (name === 'tpp') {
            const r = await att.tppReport(q);
            buf = await renderTpp(r, o.format, o.csvDialect);
            note = `TPP ${month}: ${r.rows.length} pegawai, total ${rupiah(r.totals.total)}; sampai/through ${r.meta.through}; nilai kinerja belum ada / missing scores ${r.totals.missing_scores}; absen menunggu verifikasi / pending review ${r.meta.pending_review}; izin menunggu / pending leave ${r.meta.pending_exceptions}`;
          } else {
            const r = await att.attendanceReport(q);
            buf = await renderAttendance(r, o.format, o.csvDialect);
            note = `Kehadiran / attendance ${month}: ${r.rows.length} pegawai; sampai/through ${r.meta.through}; pending review ${r.meta.pending_review}; pending leave ${r.meta.pending_exceptions}`;
          }
          if (o.out) {
            const { writeFileAtomic } = await import('../lib/write-atomic.js');
            writeFileAtomic(o.out, buf);
            process.stdout.write(`${note}\nDitulis ke / written to ${o.out}\n`);
          } else {
            process.stdout.write(buf);
            process.stderr.write(`${note}\n`);
          }
        }, { postgres: true });
      });
  reportCmd('attendance', 'Rekap kehadiran bulanan / monthly attendance recap');
  reportCmd('tpp', 'Rekap TPP bulanan / monthly TPP with per-day deductions');
  sub(g.report, 'late', 'Yang terlambat hari ini / who is late today (per OPD)')
    .option('--date <YYYY-MM-DD>', 'day (default today)')
    .option('--opd <code>', 'only this OPD')
    .option('--json', 'JSON output')
    .action(async (o: DataOpts & { date?: string; opd?: string; json?: boolean }) => {
      const { lateText } = await import('../hub/reports/index.js');
      const { isDate } = await import('../hub/attendance/time.js');
      if (o.date && !isDate(o.date)) throw new UserError(`--date "${o.date}" is not YYYY-MM-DD`, 'e.g. --date 2026-10-05');
      await withHub(o, async ({ stores, clock }) => {
        const att = stores.attendance;
        const date = o.date ?? (await att.today(clock()));
        await caughtUp(att, date.slice(0, 7), date, clock);
        const r = await att.lateToday({ date, opd: o.opd ?? null, now: iso(clock) });
        process.stdout.write(o.json ? JSON.stringify(r) + '\n' : lateText(r));
      }, { postgres: true });
    });

  // ---- leave, dinas luar, tugas belajar ----------------------------------------------------
  const leave = g.program.command('leave').description('Cuti, dinas luar, tugas belajar — dengan persetujuan / leave and duty with approval');
  sub(leave, 'add', 'Ajukan / request (pending until approved)')
    .requiredOption('--nip <nip>')
    .requiredOption('--type <type>', 'cuti_tahunan|cuti_besar|cuti_sakit|cuti_melahirkan|cuti_alasan_penting|cltn|dinas_luar|tugas_belajar')
    .requiredOption('--from <date>')
    .option('--to <date>', 'last day (default = from)')
    .option('--evidence <ref>', 'letter / SPT number or file reference')
    .option('--note <text>')
    .option('--approve', 'approve at once (you are the approving admin)')
    .action(async (o: DataOpts & { nip: string; type: string; from: string; to?: string; evidence?: string; note?: string; approve?: boolean }) => {
      await withDb(o, async (att, clock) => {
        const by = adminName(o);
        let e = await att.addException({ nip: o.nip, type: o.type, from: o.from, to: o.to ?? o.from, evidence: o.evidence, note: o.note, by, now: iso(clock), scope: null });
        if (o.approve) e = await att.decideException({ id: e.id, approve: true, by, now: iso(clock), scope: null });
        process.stdout.write(`#${e.id} ${e.type} ${e.nip} ${e.from_date}..${e.to_date}: ${e.status}\n`);
        await settle(att, clock);
      });
    });
  for (const [name, approve] of [['approve', true], ['reject', false]] as const) {
    sub(leave, name, approve ? 'Setujui / approve' : 'Tolak / reject')
      .argument('<id>')
      .action(async (id: string, o: DataOpts) => {
        await withDb(o, async (att, clock) => {
          const e = await att.decideException({ id: Number(id), approve, by: adminName(o), now: iso(clock), scope: null });
          process.stdout.write(`#${e.id} ${e.type} ${e.nip} ${e.from_date}..${e.to_date}: ${e.status}\n`);
          await settle(att, clock);
        });
      });
  }
  sub(leave, 'list', 'Daftar / list')
    .option('--status <status>', 'pending|approved|rejected')
    .option('--opd <code>')
    .option('--month <YYYY-MM>')
    .action(async (o: DataOpts & { status?: string; opd?: string; month?: string }) => {
      await withDb(o, async (att, clock) => {
        for (const e of await att.listExceptions({ status: o.status, scope: o.opd ?? null, month: o.month }))
          process.stdout.write(`#${e.id}  ${e.status.padEnd(8)} ${e.type.padEnd(20)} ${e.from_date}..${e.to_date}  ${e.nip} ${e.name} (${e.opd_code})  ${e.evidence ?? ''}\n`);
      });
    });

  // ---- holidays, schedules, events, transfers, review, settings -----------------------------
  const holidays = g.program.command('holidays').description('Hari libur / holidays (import: hadir import holidays FILE)');
  sub(holidays, 'list', 'Daftar / list')
    .option('--year <yyyy>')
    .action(async (o: DataOpts & { year?: string }) => {
      await withDb(o, async (att, clock) => {
        const rows = await att.listHolidays(o.year);
        for (const h of rows) process.stdout.write(`${h.date}  ${h.kind.padEnd(12)} ${h.name}${h.ex ? `  (tetap masuk / works: ${h.ex})` : ''}\n`);
      });
    });
  sub(holidays, 'remove', 'Hapus / remove')
    .argument('<date>')
    .action(async (date: string, o: DataOpts) => {
      await withDb(o, async (att, clock) => {
        if (!(await att.removeHoliday(date))) throw new UserError(`no holiday on ${date}`, 'see hadir holidays list');
        process.stdout.write(`Dihapus / removed ${date}\n`);
        await settle(att, clock);
      });
    });

  const schedules = g.program.command('schedules').description('Jadwal kerja / work schedules (data)');
  sub(schedules, 'add', 'Tambah atau ganti / add or replace a schedule (JSON or YAML)')
    .argument('<file>')
    .action(async (file: string, o: DataOpts) => {
      const { parseSchedule } = await import('../hub/attendance/admin.js');
      const s = parseSchedule(readText(file), file);
      await withDb(o, async (att, clock) => {
        await att.addSchedule(s, adminName(o), iso(clock));
        process.stdout.write(`Jadwal / schedule ${s.code} disimpan / saved\n`);
        await settle(att, clock);
      }, { create: true });
    });
  sub(schedules, 'list', 'Daftar / list').action(async (o: DataOpts) => {
    await withDb(o, async (att, clock) => {
      for (const s of (await att.schedules()).values()) process.stdout.write(`${s.code.padEnd(12)} ${s.type.padEnd(7)} ${s.name}${s.type === 'weekly' && s.overrides.length ? `  [+${s.overrides.map((x) => x.name).join(', ')}]` : ''}\n`);
    });
  });
  sub(schedules, 'show', 'Definisi / print a schedule as JSON')
    .argument('<code>')
    .action(async (code: string, o: DataOpts) => {
      await withDb(o, async (att, clock) => {
        const s = (await att.schedules()).get(code.toUpperCase());
        if (!s) throw new UserError(`unknown schedule code "${code}"`, 'see hadir schedules list');
        process.stdout.write(JSON.stringify(s, null, 2) + '\n');
      });
    });

  const event = g.program.command('event').description('Acara di lokasi lain (apel) / relocation events');
  sub(event, 'add', 'Absen di lokasi acara dihitung / punches at the event site count for participants')
    .requiredOption('--date <date>')
    .requiredOption('--site <code>')
    .requiredOption('--name <text>')
    .option('--opd <code>')
    .option('--unit <code>')
    .option('--nip <list>', 'comma-separated NIPs')
    .action(async (o: DataOpts & { date: string; site: string; name: string; opd?: string; unit?: string; nip?: string }) => {
      await withDb(o, async (att, clock) => {
        const id = await att.addEvent({ date: o.date, site: o.site, name: o.name, opd: o.opd, unit: o.unit, nips: o.nip?.split(',').map((s) => s.trim()).filter(Boolean), by: adminName(o), now: iso(clock) });
        process.stdout.write(`Acara / event #${id} ${o.name} ${o.date} @ ${o.site}\n`);
        await settle(att, clock);
      });
    });

  const staff = g.program.command('staff').description('Pegawai / staff');
  sub(staff, 'transfer', 'Mutasi / transfer to another unit from a date')
    .requiredOption('--nip <nip>')
    .requiredOption('--unit <code>')
    .requiredOption('--from <date>')
    .option('--schedule <code>', 'new schedule (default: keep)')
    .action(async (o: DataOpts & { nip: string; unit: string; from: string; schedule?: string }) => {
      await withDb(o, async (att, clock) => {
        const r = await att.transferStaff({ nip: o.nip, unit: o.unit, from: o.from, schedule: o.schedule, by: adminName(o), now: iso(clock) });
        process.stdout.write(`${o.nip} → ${o.unit} (${r.opd}), jadwal ${r.schedule}, mulai / from ${o.from}\n`);
        await settle(att, clock);
      });
    });

  sub(staff, 'end', 'Akhiri masa kerja / end of service (pensiun, berhenti, meninggal, mutasi_keluar) from a date')
    .requiredOption('--nip <nip>')
    .requiredOption('--from <date>', 'hari pertama tidak lagi bertugas / first day no longer in service')
    .requiredOption('--reason <reason>', 'pensiun|berhenti|meninggal|mutasi_keluar')
    .option('--note <text>', 'nomor SK, keterangan / decree number, remark')
    .action(async (o: DataOpts & { nip: string; from: string; reason: string; note?: string }) => {
      await withDb(o, async (att, clock) => {
        const e = await att.endService({ nip: o.nip, from: o.from, reason: o.reason, note: o.note, by: adminName(o), now: iso(clock) });
        process.stdout.write(`${e.nip} berhenti mulai / out of service from ${e.from_date} (${e.reason}); hari sebelumnya dihitung seperti biasa, TPP bulan itu prorata / days before count as usual, that month's TPP pro rata\n`);
        await settle(att, clock);
      });
    });
  sub(staff, 'reinstate', 'Aktifkan kembali / reinstate an employee whose service ended, from a date')
    .requiredOption('--nip <nip>')
    .requiredOption('--from <date>', 'hari pertama bertugas kembali / first day in service again (the exit date cancels the exit)')
    .action(async (o: DataOpts & { nip: string; from: string }) => {
      await withDb(o, async (att, clock) => {
        const e = await att.reinstate({ nip: o.nip, from: o.from, by: adminName(o), now: iso(clock) });
        process.stdout.write(`${e.nip} bertugas kembali mulai / in service again from ${e.reinstated_from} (berhenti / out ${e.from_date}, ${e.reason})\n`);
        await settle(att, clock);
      });
    });
  sub(staff, 'exits', 'Daftar akhir masa kerja / ends of service on record, newest first')
    .option('--opd <code>', 'only this OPD')
    .option('--open', 'only those not reinstated')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'))
    .action(async (o: DataOpts & { opd?: string; open?: boolean; format: 'text' | 'json' }) => {
      await withDb(o, async (att, clock) => {
        const list = await att.listExits({ opd: o.opd ?? null, open: o.open });
        if (o.format === 'json') return void process.stdout.write(JSON.stringify(list, null, 2) + '\n');
        for (const e of list)
          process.stdout.write(`${e.from_date}  ${e.reason.padEnd(13)} ${e.nip} ${e.name} (${e.opd_code})${e.reinstated_from ? `  aktif kembali / reinstated ${e.reinstated_from}` : ''}  oleh / by ${e.ended_by}${e.note ? `  — ${e.note}` : ''}\n`);
        process.stdout.write(`${list.length} catatan / records\n`);
      });
    });

  const review = g.program.command('review').description('Verifikasi absen dengan jam tak terverifikasi / review clock-unverified punches');
  sub(review, 'pending', 'Daftar menunggu / list pending')
    .option('--opd <code>')
    .action(async (o: DataOpts & { opd?: string }) => {
      await withDb(o, async (att, clock) => {
        const list = await att.listPendingPunches(o.opd ?? null);
        for (const p of list) process.stdout.write(`${p.id}  ${p.captured_at}  ${p.nip} ${p.name ?? '?'}  ${p.device_id ?? '-'}@${p.site_code ?? '-'}  clock ${p.clock_source ?? '?'}${p.suggested_at ? `  saran / suggested ${p.suggested_at} (±${Math.round((p.suggested_span_ms ?? 0) / 1000)} s)` : ''}\n`);
        process.stdout.write(`${list.length} menunggu / pending\n`);
      });
    });
  sub(review, 'accept', 'Terima / accept (optionally with the corrected true time)')
    .argument('<punchId>')
    .option('--time <iso>', 'corrected time, ISO-8601 with offset')
    .option('--suggested', 'accept at the true time suggested by terminal health')
    .action(async (id: string, o: DataOpts & { time?: string; suggested?: boolean }) => {
      await withDb(o, async (att, clock) => {
        await att.reviewPunch({ id, action: 'accept', correctedAt: o.time ?? null, useSuggested: o.suggested, by: adminName(o), now: iso(clock), scope: null });
        process.stdout.write(`Diterima / accepted ${id}${o.time ? ` at ${o.time}` : ''}\n`);
        await settle(att, clock);
      });
    });
  sub(review, 'reject', 'Tolak / reject')
    .argument('<punchId>')
    .action(async (id: string, o: DataOpts) => {
      await withDb(o, async (att, clock) => {
        await att.reviewPunch({ id, action: 'reject', by: adminName(o), now: iso(clock), scope: null });
        process.stdout.write(`Ditolak / rejected ${id}\n`);
        await settle(att, clock);
      });
    });

  const att = g.program.command('attendance').description('Pengaturan dan hitung ulang kehadiran / attendance settings and recompute');
  sub(att, 'config', 'Zona waktu kabupaten, kebijakan lokasi / regency time zone, site policy')
    .addOption(new Option('--tz <zone>', 'regency default zone').choices(['WIB', 'WITA', 'WIT']))
    .addOption(new Option('--site-policy <policy>', 'unit: punches count at the unit\'s own sites (and events); any: everywhere').choices(['unit', 'any']))
    .action(async (o: DataOpts & { tz?: 'WIB' | 'WITA' | 'WIT'; sitePolicy?: 'unit' | 'any' }) => {
      const { offsetLabel } = await import('../hub/attendance/time.js');
      await withDb(o, async (att, clock) => {
        const c = await att.setConfig({ tzOffsetMin: o.tz ? { WIB: 420, WITA: 480, WIT: 540 }[o.tz] : undefined, sitePolicy: o.sitePolicy });
        process.stdout.write(`zona / zone ${offsetLabel(c.tzOffsetMin)}, site policy ${c.sitePolicy}\n`);
        await settle(att, clock);
      }, { create: true });
    });
  sub(att, 'recompute', 'Hitung ulang sebulan penuh / re-derive a whole month')
    .requiredOption('--month <YYYY-MM>')
    .action(async (o: DataOpts & { month: string }) => {
      const { requireMonth } = await import('../hub/attendance/inputs.js');
      requireMonth(o.month);
      await withDb(o, async (att, clock) => {
        const t0 = performance.now();
        const r = await att.recomputeMonth(o.month, iso(clock));
        process.stdout.write(`${o.month}: ${r.derived} pegawai, ${r.changed} berubah / changed, ${((performance.now() - t0) / 1000).toFixed(2)} s\n`);
      });
    });

  // ---- benchmark ---------------------------------------------------------------------------
  g.bench
    .command('tpp')
    .description('Hitung ulang sebulan untuk kabupaten sintetis / full-month and one-late-punch recompute on a generated regency')
    .option('--staff <n>', 'number of staff', '3400')
    .option('--sites <n>', 'number of sites (default staff/7, at most 500 for a regency)')
    .option('--month <YYYY-MM>', 'month', '2026-10')
    .option('--keep <dir>', 'keep the generated database in this directory (with --db, the PostgreSQL database is kept too)')
    .option('--threads <n>', 'derivation threads for the full month (default: the cores from 20,000 staff on, else 1)')
    .option('--db <url>', 'postgres://… : the same regency also on PostgreSQL (a database made on that server for the run and dropped after it); the headline figures are PostgreSQL\'s, SQLite\'s beside them')
    .action(async (o: { staff: string; sites?: string; month: string; keep?: string; threads?: string; db?: string }) => {
      const { runTppBench } = await import('../hub/tpp/bench.js');
      const staffN = Number(o.staff);
      if (!Number.isInteger(staffN) || staffN < 1) throw new UserError(`--staff "${o.staff}" is not a positive whole number`, 'e.g. --staff 3400');
      const threads = o.threads === undefined ? undefined : Number(o.threads);
      if (threads !== undefined && (!Number.isInteger(threads) || threads < 1 || threads > 32)) throw new UserError(`--threads "${o.threads}" is not a whole number from 1 to 32`, 'e.g. --threads 2');
      if (o.db !== undefined && !/^postgres(ql)?:\/\//.test(o.db)) throw new UserError(`--db "${o.db}" is not a postgres:// URL`, 'e.g. --db postgres://postgres@127.0.0.1:5432/postgres (leave it out for SQLite only)');
      const r = await runTppBench({ staff: staffN, sites: o.sites ? Number(o.sites) : undefined, month: o.month, keep: o.keep, threads, db: o.db, log: (s) => process.stdout.write(s + '\n') });
      process.stdout.write(JSON.stringify(r) + '\n');
    });
}
