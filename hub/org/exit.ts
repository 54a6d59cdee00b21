import { z } from 'zod';
import type { SqliteDb } from '../store/sqlite.js';
import { UserError } from '../../lib/errors.js';
import { derivedMonthsFrom, markDirty } from '../attendance/recompute.js';
import { localToday } from '../attendance/clock.js';
import { dateSchema, isDate } from '../attendance/time.js';

/**
 * End of service (pensiun, berhenti, meninggal, mutasi keluar) and reinstatement. An exit is a
 * period out of service from its date (the first day no longer in service) until a reinstatement;
 * rows are never deleted (migration 103). Days out of service derive as not_employed, months wholly
 * after the exit are not derived, the exit month's TPP is paid pro rata (hub/tpp/compute.ts).
 * `staff.active` keeps meaning "in service today": it follows the exits once their date is reached
 * (syncServiceStatus, run by these functions and by the hub's periodic sweep).
 */

export const EXIT_REASONS = ['pensiun', 'berhenti', 'meninggal', 'mutasi_keluar'] as const;
export type ExitReason = (typeof EXIT_REASONS)[number];

/** HTTP bodies (POST /api/v1/staff/{nip}/end and /reinstate), also used for the OpenAPI document. */
export const endServiceBody = z.strictObject({
  from: dateSchema.describe('first day no longer in service'),
  reason: z.enum(EXIT_REASONS),
  note: z.string().max(500).optional().describe('SK number, letter, remark'),
});
export const reinstateBody = z.strictObject({ from: dateSchema.describe('first day in service again (the exit date cancels the exit)') });

export interface ExitRow {
  id: number;
  nip: string;
  from_date: string;
  reason: ExitReason;
  note: string | null;
  ended_by: string;
  ended_at: string;
  reinstated_from: string | null;
  reinstated_by: string | null;
  reinstated_at: string | null;
}

function requireDate(d: string, flag: string): void {
  if (!isDate(d)) throw new UserError(`date "${d}" is not YYYY-MM-DD (format tanggal salah)`, `write e.g. ${flag} 2026-10-16`);
}

function requireStaff(db: SqliteDb, nip: string): void {
  if (!db.prepare('SELECT 1 FROM staff WHERE nip = ?').pluck().get(nip)) throw unknownStaff(nip);
}

function openExit(db: SqliteDb, nip: string): ExitRow | undefined {
  return db.prepare('SELECT * FROM staff_exits WHERE nip = ? AND reinstated_from IS NULL').get(nip) as ExitRow | undefined;
}

/** Queues the re-derivation of this employee's months from `from` on. */
function queue(db: SqliteDb, nip: string, from: string): void {
  const month = from.slice(0, 7);
  markDirty(db, nip, [month, ...derivedMonthsFrom(db, month)]);
}

/**
 * Ends an employee's service from `from` (the first day no longer in service). The days before
 * count as usual; from `from` on the employee is not employed. A future date is allowed: the
 * employee stays active (and on the kiosks' roster) until then.
 */
export function endService(db: SqliteDb, e: { nip: string; from: string; reason: string; note?: string | null; by: string; now: string }): ExitRow {
  requireStaff(db, e.nip);
  checkExitInput(e);
  checkExitHistory(e, {
    open: openExit(db, e.nip),
    first: db.prepare('SELECT min(from_date) FROM staff_assignments WHERE nip = ?').pluck().get(e.nip) as string | null,
    back: db.prepare('SELECT max(reinstated_from) FROM staff_exits WHERE nip = ?').pluck().get(e.nip) as string | null,
  });
  const id = db.transaction(() => {
    const r = db
      .prepare('INSERT INTO staff_exits (nip, from_date, reason, note, ended_by, ended_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(e.nip, e.from, e.reason, e.note ?? null, e.by, e.now);
    queue(db, e.nip, e.from);
    // months wholly out of service are not derived: drop what was derived for them before
    db.prepare("DELETE FROM att_months WHERE nip = ? AND month || '-01' >= ?").run(e.nip, e.from);
    syncServiceStatus(db, localToday(db, Date.parse(e.now)));
    return Number(r.lastInsertRowid);
  })();
  return db.prepare('SELECT * FROM staff_exits WHERE id = ?').get(id) as ExitRow;
}

/** Pure: an exit's date and reason (both stores). */
export function checkExitInput(e: { from: string; reason: string }): void {
  requireDate(e.from, '--from');
  if (!(EXIT_REASONS as readonly string[]).includes(e.reason))
    throw new UserError(`alasan "${e.reason}" tidak dikenal / unknown reason`, `use one of ${EXIT_REASONS.join(', ')}`);
}
/** Pure: an exit against the employee's history — an open exit, the first assignment, the last reinstatement (both stores). */
export function checkExitHistory(e: { nip: string; from: string }, h: { open: ExitRow | undefined; first: string | null; back: string | null }): void {
  if (h.open)
    throw new UserError(`NIP ${e.nip} sudah berhenti mulai ${h.open.from_date} (${h.open.reason}) / service already ended`, `to change it: hadir staff reinstate --nip ${e.nip} --from ${h.open.from_date}, then end it again`, 409);
  const first = h.first ?? '0000-01-01';
  if (e.from <= first)
    throw new UserError(`tanggal berhenti ${e.from} tidak setelah hari pertama bertugas ${first} / exit is not after the first day of service`, 'check --from (the first day no longer in service)');
  if (h.back && e.from < h.back)
    throw new UserError(`NIP ${e.nip} diaktifkan kembali mulai ${h.back}; tanggal berhenti ${e.from} tidak boleh sebelumnya / exit before the reinstatement`, 'check --from');
}
/** Pure: a reinstatement against the open exit (both stores). */
export function checkReinstate(r: { nip: string; from: string }, open: ExitRow | undefined): ExitRow {
  requireDate(r.from, '--from');
  if (!open) throw new UserError(`NIP ${r.nip} masih bertugas / is in service (no open end of service)`, 'see hadir staff exits', 409);
  if (r.from < open.from_date)
    throw new UserError(`tanggal aktif kembali ${r.from} sebelum tanggal berhenti ${open.from_date} / reinstatement before the exit`, `use --from ${open.from_date} or later (${open.from_date} cancels the exit)`);
  return open;
}
/** The refusal for an unknown NIP (both stores). */
export function unknownStaff(nip: string): UserError {
  return new UserError(`NIP ${nip} tidak ditemukan / is not in the staff list`, 'check the NIP (hadir import staff adds staff)', 404);
}

/**
 * Reinstates an employee whose service ended: in service again from `from` (the days between the
 * exit and `from` stay out of service; `from` equal to the exit date cancels the exit). The exit
 * row is kept, closed with the reinstatement.
 */
export function reinstate(db: SqliteDb, r: { nip: string; from: string; by: string; now: string }): ExitRow {
  requireStaff(db, r.nip);
  const open = checkReinstate(r, openExit(db, r.nip));
  db.transaction(() => {
    db.prepare('UPDATE staff_exits SET reinstated_from = ?, reinstated_by = ?, reinstated_at = ? WHERE id = ?').run(r.from, r.by, r.now, open.id);
    queue(db, r.nip, r.from);
    syncServiceStatus(db, localToday(db, Date.parse(r.now)));
  })();
  return db.prepare('SELECT * FROM staff_exits WHERE id = ?').get(open.id) as ExitRow;
}

/**
 * staff.active = "in service today" for every employee with an exit on record: 0 from the exit date
 * on, 1 again from a reinstatement. Returns the NIPs whose flag changed (kiosk rosters follow them).
 */
export function syncServiceStatus(db: SqliteDb, today: string): string[] {
  const rows = db
    .prepare(`SELECT s.nip, s.active, EXISTS (SELECT 1 FROM staff_exits e WHERE e.nip = s.nip AND e.from_date <= @today
        AND (e.reinstated_from IS NULL OR e.reinstated_from > @today)) AS out
      FROM staff s WHERE s.nip IN (SELECT nip FROM staff_exits)`)
    .all({ today }) as { nip: string; active: number; out: number }[];
  const set = db.prepare('UPDATE staff SET active = ? WHERE nip = ?');
  const changed: string[] = [];
  for (const r of rows) {
    const active = r.out ? 0 : 1;
    if (r.active === active) continue;
    set.run(active, r.nip);
    changed.push(r.nip);
  }
  return changed;
}

export interface ExitListRow extends ExitRow {
  name: string;
  opd_code: string;
}

/** Exits on record, newest first; `opd`: one OPD only; `open`: only those not reinstated. */
export function listExits(db: SqliteDb, f: { opd?: string | null; open?: boolean } = {}): ExitListRow[] {
  const where: string[] = [];
  const args: unknown[] = [];
  if (f.opd) (where.push('s.opd_code = ?'), args.push(f.opd));
  if (f.open) where.push('e.reinstated_from IS NULL');
  return db
    .prepare(`SELECT e.*, s.name, s.opd_code FROM staff_exits e JOIN staff s ON s.nip = e.nip ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY e.from_date DESC, e.id DESC`)
    .all(...args) as ExitListRow[];
}
