import type { SqliteDb } from '../store/sqlite.js';
import type { ArgsAfterDb as Args, Async } from '../store/async.js';
import { activate, issueCodes, staffLogin, staffLogout, staffOfToken } from './auth.js';


/** The staff page's storage on SQLite: sign-in (auth.ts), the person's own data, and keberatan (migration 500_staff_portal.sql). */
export class SqliteStaffPortalStore {
  constructor(private readonly db: SqliteDb) {}

  /** One-time activation codes (`hadir staff codes`). */
  issueCodes(...a: Args<typeof issueCodes>) {
    return issueCodes(this.db, ...a);
  }
  activate(...a: Args<typeof activate>) {
    return activate(this.db, ...a);
  }
  login(...a: Args<typeof staffLogin>) {
    return staffLogin(this.db, ...a);
  }
  staffOfToken(...a: Args<typeof staffOfToken>) {
    return staffOfToken(this.db, ...a);
  }
  logout(...a: Args<typeof staffLogout>) {
    return staffLogout(this.db, ...a);
  }

  profile(nip: string): Record<string, unknown> | undefined {
    return this.db
      .prepare(`SELECT s.nip, s.name, s.opd_code AS opd, o.name AS opdName, u.name AS unitName, s.employment, s.schedule_code AS schedule
        FROM staff s LEFT JOIN opd o ON o.code = s.opd_code LEFT JOIN units u ON u.code = s.unit_code WHERE s.nip = ?`)
      .get(nip) as Record<string, unknown> | undefined;
  }

  /** The person's punches captured in [from, to), with their site and whether a photo is kept. */
  punches(nip: string, from: string, to: string): (Record<string, unknown> & { hasPhoto: boolean })[] {
    const rows = this.db
      .prepare(`SELECT p.id, p.captured_at AS capturedAt, p.method, p.device_id AS deviceId, p.site_code AS site, si.name AS siteName, p.clock_source AS clockSource,
          p.review_status AS reviewStatus, p.corrected_at AS correctedAt, p.has_photo AS hasPhoto
        FROM punches p LEFT JOIN sites si ON si.code = p.site_code
        WHERE p.nip = ? AND p.captured_at >= ? AND p.captured_at < ? ORDER BY p.captured_at`)
      .all(nip, from, to) as { hasPhoto: number }[];
    return rows.map((p) => ({ ...p, hasPhoto: p.hasPhoto === 1 }));
  }

  /** The photo of one of the person's punches (null: not theirs, or none kept). */
  photo(punchId: string, nip: string): Buffer | null {
    const row = this.db.prepare('SELECT ph.jpeg FROM punch_photos ph JOIN punches p ON p.id = ph.punch_id WHERE ph.punch_id = ? AND p.nip = ?').get(punchId, nip) as { jpeg: Buffer } | undefined;
    return row?.jpeg ?? null;
  }

  // keberatan (correction requests)
  myObjections(nip: string): Record<string, unknown>[] {
    return this.db.prepare('SELECT id, date, reason, status, created_at AS createdAt, decided_by AS decidedBy, decided_at AS decidedAt, note FROM keberatan WHERE nip = ? ORDER BY id DESC').all(nip) as Record<string, unknown>[];
  }
  fileObjection(nip: string, date: string, reason: string, at: string): number {
    return Number(this.db.prepare('INSERT INTO keberatan (nip, date, reason, created_at) VALUES (?, ?, ?, ?)').run(nip, date, reason, at).lastInsertRowid);
  }
  listObjections(f: { status?: string; opd?: string | null }): Record<string, unknown>[] {
    return this.db
      .prepare(`SELECT k.id, k.nip, s.name, s.opd_code AS opd, k.date, k.reason, k.status, k.created_at AS createdAt, k.decided_by AS decidedBy, k.decided_at AS decidedAt, k.note
        FROM keberatan k JOIN staff s ON s.nip = k.nip WHERE 1 = 1 ${f.status ? 'AND k.status = ?' : ''} ${f.opd ? 'AND s.opd_code = ?' : ''} ORDER BY k.created_at`)
      .all(...[f.status, f.opd].filter((x): x is string => !!x)) as Record<string, unknown>[];
  }
  objection(id: number): { status: string; opd: string } | null {
    return (this.db.prepare('SELECT k.status, s.opd_code AS opd FROM keberatan k JOIN staff s ON s.nip = k.nip WHERE k.id = ?').get(id) as { status: string; opd: string } | undefined) ?? null;
  }
  decideObjection(id: number, d: { status: 'approved' | 'rejected'; by: string; at: string; note: string | null }): void {
    this.db.prepare('UPDATE keberatan SET status = ?, decided_by = ?, decided_at = ?, note = ? WHERE id = ?').run(d.status, d.by, d.at, d.note, id);
  }
}

/** The staff page's storage, async (SQLite: SqliteStaffPortalStore through asyncOver). */
export type StaffPortalRepository = Async<SqliteStaffPortalStore>;
