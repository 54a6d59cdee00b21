import type pg from 'pg';
import { inTransaction, numbered } from '../store/pg.js';
import { hashPassword, sha256Hex } from '../secrets.js';
import {
  CODE_DAYS, checkActivation, checkStaffPassword, codePeopleSql, newActivationCode, newStaffToken, noPeople, normaliseCode, staffSessionIdle, type IssuedCode,
} from './auth.js';
import type { StaffPortalRepository } from './store.js';

type Q = Pick<pg.PoolClient, 'query'>;
type Row = Record<string, unknown>;

/**
 * The staff page's storage on PostgreSQL (pg-migrations/500_staff_portal.sql): SqliteStaffPortalStore's
 * queries; the rules of codes, passwords and sessions are auth.ts's, shared by both stores.
 */
export class PgStaffPortalStore implements StaffPortalRepository {
  constructor(private readonly pool: pg.Pool) {}
  private async rows<T = Row>(sql: string, args: unknown[] = [], q: Q = this.pool): Promise<T[]> {
    return (await q.query(sql, args)).rows as T[];
  }

  async issueCodes(o: { opd?: string; nip?: string; by: string; now: Date }): Promise<IssuedCode[]> {
    const { sql, args } = codePeopleSql(o);
    const people = await this.rows<{ nip: string; name: string; opd: string; unit: string | null }>(numbered(sql.replace('ORDER BY unit_code, name', 'ORDER BY unit_code COLLATE "C", name COLLATE "C"')), args);
    if (!people.length) throw noPeople(o);
    const expiresAt = new Date(o.now.getTime() + CODE_DAYS * 86_400_000).toISOString();
    const out: IssuedCode[] = [];
    await inTransaction(this.pool, async (t) => {
      for (const p of people) {
        const code = newActivationCode();
        await t.query('DELETE FROM staff_activation WHERE nip = $1 AND used_at IS NULL', [p.nip]);
        await t.query('INSERT INTO staff_activation (code_hash, nip, created_at, created_by, expires_at) VALUES ($1, $2, $3, $4, $5)', [sha256Hex(code), p.nip, o.now.toISOString(), o.by, expiresAt]);
        out.push({ ...p, code, expiresAt });
      }
    });
    return out;
  }
  private async newSession(nip: string, now: Date, q: Q = this.pool): Promise<string> {
    const token = newStaffToken();
    await q.query('INSERT INTO staff_sessions (token_hash, nip, created_at, last_used_at) VALUES ($1, $2, $3, $3)', [sha256Hex(token), nip, now.toISOString()]);
    return token;
  }
  async activate(o: { nip: string; code: string; password: string; now: Date }): Promise<string> {
    const codeHash = sha256Hex(normaliseCode(o.code));
    const at = o.now.toISOString();
    const sql = 'SELECT nip, expires_at, used_at FROM staff_activation WHERE code_hash = $1';
    checkActivation(o, (await this.rows<{ nip: string; expires_at: string; used_at: string | null }>(sql, [codeHash]))[0]);
    const hash = hashPassword(o.password); // scrypt: only for a code that can be used
    return inTransaction(this.pool, async (t) => {
      // checked again with the code's row locked: two phones activating with one code at once cannot both succeed
      const [row] = await this.rows<{ nip: string; expires_at: string; used_at: string | null }>(`${sql} FOR UPDATE`, [codeHash], t);
      const { nip } = checkActivation(o, row);
      await t.query('UPDATE staff_activation SET used_at = $1 WHERE code_hash = $2', [at, codeHash]);
      await t.query('INSERT INTO staff_login (nip, password_hash, activated_at) VALUES ($1, $2, $3) ON CONFLICT (nip) DO UPDATE SET password_hash = excluded.password_hash, activated_at = excluded.activated_at', [nip, hash, at]);
      await t.query('DELETE FROM staff_sessions WHERE nip = $1', [nip]); // a new code signs out every old phone
      return this.newSession(nip, o.now, t);
    });
  }
  async login(o: { nip: string; password: string; now: Date }): Promise<string> {
    const [row] = await this.rows<{ password_hash: string }>('SELECT l.password_hash FROM staff_login l JOIN staff s ON s.nip = l.nip WHERE l.nip = $1 AND s.active = 1', [o.nip.trim()]);
    await checkStaffPassword(o.password, row);
    return this.newSession(o.nip.trim(), o.now);
  }
  async staffOfToken(token: string, now: Date): Promise<string | null> {
    if (!token.startsWith('st_')) return null;
    const h = sha256Hex(token);
    const [row] = await this.rows<{ nip: string; last_used_at: string }>('SELECT ss.nip, ss.last_used_at FROM staff_sessions ss JOIN staff s ON s.nip = ss.nip WHERE ss.token_hash = $1 AND s.active = 1', [h]);
    if (!row) return null;
    if (staffSessionIdle(row.last_used_at, now)) {
      await this.pool.query('DELETE FROM staff_sessions WHERE token_hash = $1', [h]);
      return null;
    }
    await this.pool.query('UPDATE staff_sessions SET last_used_at = $1 WHERE token_hash = $2', [now.toISOString(), h]);
    return row.nip;
  }
  async logout(token: string): Promise<void> {
    await this.pool.query('DELETE FROM staff_sessions WHERE token_hash = $1', [sha256Hex(token)]);
  }

  async profile(nip: string): Promise<Record<string, unknown> | undefined> {
    const [r] = await this.rows(
      `SELECT s.nip, s.name, s.opd_code AS opd, o.name AS "opdName", u.name AS "unitName", s.employment, s.schedule_code AS schedule
       FROM staff s LEFT JOIN opd o ON o.code = s.opd_code LEFT JOIN units u ON u.code = s.unit_code WHERE s.nip = $1`,
      [nip],
    );
    return r;
  }
  async punches(nip: string, from: string, to: string): Promise<(Record<string, unknown> & { hasPhoto: boolean })[]> {
    const list = await this.rows<{ hasPhoto: number }>(
      `SELECT p.id, p.captured_at AS "capturedAt", p.method, p.device_id AS "deviceId", p.site_code AS site, si.name AS "siteName", p.clock_source AS "clockSource",
          p.review_status AS "reviewStatus", p.corrected_at AS "correctedAt", p.has_photo AS "hasPhoto"
        FROM punches p LEFT JOIN sites si ON si.code = p.site_code
        WHERE p.nip = $1 AND p.captured_at >= $2 AND p.captured_at < $3 ORDER BY p.captured_at, p.id`,
      [nip, from, to],
    );
    return list.map((p) => ({ ...p, hasPhoto: p.hasPhoto === 1 }));
  }
  async photo(punchId: string, nip: string): Promise<Buffer | null> {
    const [r] = await this.rows<{ jpeg: Buffer }>('SELECT ph.jpeg FROM punch_photos ph JOIN punches p ON p.id = ph.punch_id WHERE ph.punch_id = $1 AND p.nip = $2', [punchId, nip]);
    return r?.jpeg ?? null;
  }
  async myObjections(nip: string): Promise<Record<string, unknown>[]> {
    return this.rows('SELECT id, date, reason, status, created_at AS "createdAt", decided_by AS "decidedBy", decided_at AS "decidedAt", note FROM keberatan WHERE nip = $1 ORDER BY id DESC', [nip]);
  }
  async fileObjection(nip: string, date: string, reason: string, at: string): Promise<number> {
    const [r] = await this.rows<{ id: number }>('INSERT INTO keberatan (nip, date, reason, created_at) VALUES ($1, $2, $3, $4) RETURNING id', [nip, date, reason, at]);
    return Number(r!.id);
  }
  async listObjections(f: { status?: string; opd?: string | null }): Promise<Record<string, unknown>[]> {
    return this.rows(
      numbered(`SELECT k.id, k.nip, s.name, s.opd_code AS opd, k.date, k.reason, k.status, k.created_at AS "createdAt", k.decided_by AS "decidedBy", k.decided_at AS "decidedAt", k.note
        FROM keberatan k JOIN staff s ON s.nip = k.nip WHERE 1 = 1 ${f.status ? 'AND k.status = ?' : ''} ${f.opd ? 'AND s.opd_code = ?' : ''} ORDER BY k.created_at, k.id`),
      [f.status, f.opd].filter((x): x is string => !!x),
    );
  }
  async objection(id: number): Promise<{ status: string; opd: string } | null> {
    const [r] = await this.rows<{ status: string; opd: string }>('SELECT k.status, s.opd_code AS opd FROM keberatan k JOIN staff s ON s.nip = k.nip WHERE k.id = $1', [id]);
    return r ?? null;
  }
  async decideObjection(id: number, d: { status: 'approved' | 'rejected'; by: string; at: string; note: string | null }): Promise<void> {
    await this.pool.query('UPDATE keberatan SET status = $1, decided_by = $2, decided_at = $3, note = $4 WHERE id = $5', [d.status, d.by, d.at, d.note, id]);
  }
}
