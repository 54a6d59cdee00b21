import type pg from 'pg';
import { inTransaction } from '../store/pg.js';
import { UPLOAD_GRACE_MS, toSession, type EnrolArgs, type EnrolSession, type EnrolSessionRepository, type SessionRow } from './enrol-sessions.js';
import { templatesByNip, type FaceEnrolmentSummary, type FaceRepository, type SealedCropRow, type StaffRef } from './face-store.js';
import type { FingerRepository, FingerTemplateMeta, FingerTemplateRow } from './finger-store.js';

/** Biometric storage on PostgreSQL (pg-migrations/300_biometrics.sql): the same repositories as SQLite's. */

const staffOf = async (q: Pick<pg.Pool, 'query'>, nip: string): Promise<StaffRef | undefined> =>
  (await q.query('SELECT nip, name, opd_code, active FROM staff WHERE nip = $1', [nip])).rows[0] as StaffRef | undefined;

type Q = Pick<pg.PoolClient, 'query'>;
const OPEN = `SELECT * FROM enrol_sessions WHERE device_id = $1 AND nip = $2 AND method = $3 AND used_at IS NULL AND expires_at > $5
  AND (finger IS NULL OR $4::int IS NULL OR finger = $4::int) ORDER BY started_at LIMIT 1`;

/** Claims the open session in the caller's transaction (row locked: two uploads race, one wins). */
async function claimIn(c: Q, q: { deviceId: string; nip: string; method: 'face' | 'finger'; finger?: number; now: Date; usedFor: string }): Promise<EnrolSession | null> {
  const r = (await c.query(`${OPEN} FOR UPDATE`, [q.deviceId, q.nip, q.method, q.finger ?? null, q.now.toISOString()])).rows[0] as SessionRow | undefined;
  if (!r) return null;
  const at = q.now.toISOString();
  if ((await c.query('UPDATE enrol_sessions SET used_at = $1, used_for = $2 WHERE id = $3 AND used_at IS NULL', [at, q.usedFor, r.id])).rowCount !== 1) return null;
  return { ...toSession(r), usedAt: at, usedFor: q.usedFor };
}

export class PgEnrolSessions implements EnrolSessionRepository {
  constructor(private readonly pool: pg.Pool) {}
  staff(nip: string) {
    return staffOf(this.pool, nip).then((s) => s ?? null);
  }
  async start(o: { id: string; deviceId: string; args: EnrolArgs; opdCode: string | null; by: string; now: Date }): Promise<EnrolSession> {
    const row = {
      id: o.id, deviceId: o.deviceId, nip: o.args.nip, method: o.args.method, finger: o.args.finger ?? null, opdCode: o.opdCode, startedBy: o.by,
      startedAt: o.now.toISOString(), expiresAt: new Date(o.now.getTime() + o.args.timeoutS * 1000 + UPLOAD_GRACE_MS).toISOString(),
    };
    await this.pool.query(
      'INSERT INTO enrol_sessions (id, device_id, nip, method, finger, opd_code, started_by, started_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)',
      [row.id, row.deviceId, row.nip, row.method, row.finger, row.opdCode, row.startedBy, row.startedAt, row.expiresAt],
    );
    return { ...row, usedAt: null, usedFor: null };
  }
  async peek(q: { deviceId: string; nip: string; method: 'face' | 'finger'; finger?: number; now: Date }): Promise<EnrolSession | null> {
    const r = (await this.pool.query(OPEN, [q.deviceId, q.nip, q.method, q.finger ?? null, q.now.toISOString()])).rows[0] as SessionRow | undefined;
    return r ? toSession(r) : null;
  }
  claim(q: { deviceId: string; nip: string; method: 'face' | 'finger'; finger?: number; now: Date; usedFor: string }): Promise<EnrolSession | null> {
    return inTransaction(this.pool, (c) => claimIn(c, q));
  }
  async list(f: { opdCode: string | null; deviceId?: string; open?: boolean; now: Date; limit: number }): Promise<(EnrolSession & { state: 'open' | 'used' | 'expired' })[]> {
    const now = f.now.toISOString();
    const rows = (
      await this.pool.query(
        `SELECT * FROM enrol_sessions WHERE ($1::text IS NULL OR opd_code = $1) AND ($2::text IS NULL OR device_id = $2)
           AND (NOT $3 OR (used_at IS NULL AND expires_at > $4)) ORDER BY started_at DESC LIMIT $5`,
        [f.opdCode, f.deviceId ?? null, !!f.open, now, f.limit],
      )
    ).rows as SessionRow[];
    return rows.map((r) => ({ ...toSession(r), state: r.used_at ? 'used' : r.expires_at > now ? 'open' : 'expired' }));
  }
}

export class PgFingerStore implements FingerRepository {
  constructor(private readonly pool: pg.Pool) {}
  staff(nip: string) {
    return staffOf(this.pool, nip);
  }
  async templatesForSite(siteCode: string): Promise<FingerTemplateRow[]> {
    return (
      await this.pool.query(
        `SELECT ft.* FROM finger_templates ft JOIN staff s ON s.nip = ft.nip JOIN sites si ON si.unit_code = s.unit_code
          WHERE si.code = $1 AND s.active = 1 ORDER BY ft.nip, ft.finger`,
        [siteCode],
      )
    ).rows as FingerTemplateRow[];
  }
  async meta(nip: string, finger: number): Promise<FingerTemplateMeta | null> {
    return ((await this.pool.query('SELECT sha256, enrolled_device_id AS "enrolledDeviceId", updated_at AS "updatedAt" FROM finger_templates WHERE nip = $1 AND finger = $2', [nip, finger])).rows[0] as FingerTemplateMeta | undefined) ?? null;
  }
  claimAndStore(t: { nip: string; finger: number; template: Buffer; sha256: string; deviceId: string; now: Date }): Promise<EnrolSession | null> {
    return inTransaction(this.pool, async (c) => {
      const s = await claimIn(c, { deviceId: t.deviceId, nip: t.nip, method: 'finger', finger: t.finger, now: t.now, usedFor: `finger ${t.finger} ${t.sha256.slice(0, 16)}` });
      if (s) {
        const at = t.now.toISOString();
        await c.query(
          `INSERT INTO finger_templates (nip, finger, template, sha256, enrolled_device_id, enrolled_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6)
           ON CONFLICT (nip, finger) DO UPDATE SET template = excluded.template, sha256 = excluded.sha256,
             enrolled_device_id = excluded.enrolled_device_id, enrolled_at = excluded.enrolled_at, updated_at = excluded.updated_at`,
          [t.nip, t.finger, t.template, t.sha256, t.deviceId, at],
        );
      }
      return s;
    });
  }
  async list(f: { nip: string | null; opd: string | null }): Promise<Record<string, unknown>[]> {
    return (
      await this.pool.query(
        `SELECT ft.nip, s.name, s.opd_code AS opd, ft.finger, length(ft.template) AS bytes, ft.sha256, ft.enrolled_device_id AS "enrolledDeviceId",
                ft.enrolled_at AS "enrolledAt", ft.updated_at AS "updatedAt"
           FROM finger_templates ft JOIN staff s ON s.nip = ft.nip
          WHERE ($1::text IS NULL OR ft.nip = $1) AND ($2::text IS NULL OR s.opd_code = $2) ORDER BY ft.nip, ft.finger`,
        [f.nip, f.opd],
      )
    ).rows as Record<string, unknown>[];
  }
  async remove(nip: string, finger: number): Promise<boolean> {
    return ((await this.pool.query('DELETE FROM finger_templates WHERE nip = $1 AND finger = $2', [nip, finger])).rowCount ?? 0) > 0;
  }
}

export class PgFaceRepository implements FaceRepository {
  constructor(private readonly pool: pg.Pool) {}
  staff(nip: string) {
    return staffOf(this.pool, nip);
  }
  async replaceEnrolment(nip: string, items: Parameters<FaceRepository['replaceEnrolment']>[1], meta: { source: string; by: string | null; at: string }): Promise<void> {
    await inTransaction(this.pool, async (c) => {
      await c.query('DELETE FROM face_crops WHERE nip = $1', [nip]); // templates go with them (ON DELETE CASCADE)
      for (const it of items) {
        const id = (await c.query('INSERT INTO face_crops (nip, key_id, iv, tag, ciphertext, source, created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id', [nip, it.sealed.keyId, it.sealed.iv, it.sealed.tag, it.sealed.ciphertext, meta.source, meta.at, meta.by])).rows[0].id as number;
        for (const t of it.templates) await c.query('INSERT INTO face_templates (crop_id, model_id, vector, created_at) VALUES ($1, $2, $3, $4)', [id, t.modelId, t.vector, meta.at]);
      }
    });
  }
  async sealedCrops(nip?: string): Promise<SealedCropRow[]> {
    const rows = (nip ? await this.pool.query('SELECT * FROM face_crops WHERE nip = $1 ORDER BY id', [nip]) : await this.pool.query('SELECT * FROM face_crops ORDER BY nip, id')).rows as Record<string, unknown>[];
    return rows.map((r) => ({ id: r.id as number, nip: r.nip as string, keyId: r.key_id as string, iv: r.iv as Buffer, tag: r.tag as Buffer, ciphertext: r.ciphertext as Buffer }));
  }
  async upsertTemplates(rows: { id: number; modelId: string; vector: Buffer }[], at: string): Promise<void> {
    await inTransaction(this.pool, async (c) => {
      for (const r of rows) {
        await c.query('INSERT INTO face_templates (crop_id, model_id, vector, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (crop_id, model_id) DO UPDATE SET vector = excluded.vector, created_at = excluded.created_at', [r.id, r.modelId, r.vector, at]);
      }
    });
  }
  async templatesForSite(siteCode: string): Promise<Map<string, { modelId: string; vector: string }[]>> {
    const rows = (
      await this.pool.query(
        `SELECT c.nip, t.model_id, t.vector FROM face_templates t JOIN face_crops c ON c.id = t.crop_id
           JOIN staff s ON s.nip = c.nip JOIN sites si ON si.unit_code = s.unit_code
          WHERE si.code = $1 AND s.active = 1 ORDER BY c.nip, c.id, t.model_id`,
        [siteCode],
      )
    ).rows as { nip: string; model_id: string; vector: Buffer }[];
    return templatesByNip(rows);
  }
  async list(opd?: string | null, nip?: string | null): Promise<FaceEnrolmentSummary[]> {
    return (
      await this.pool.query(
        `SELECT c.nip, s.name, s.opd_code AS opd, count(DISTINCT c.id)::int AS crops, string_agg(DISTINCT t.model_id, ',') AS models,
                max(c.source) AS source, max(c.created_at) AS "enrolledAt"
           FROM face_crops c JOIN staff s ON s.nip = c.nip LEFT JOIN face_templates t ON t.crop_id = c.id
          WHERE ($1::text IS NULL OR s.opd_code = $1) AND ($2::text IS NULL OR c.nip = $2)
          GROUP BY c.nip, s.name, s.opd_code ORDER BY c.nip`,
        [opd ?? null, nip ?? null],
      )
    ).rows as FaceEnrolmentSummary[];
  }
  async remove(nip: string): Promise<number> {
    return (await this.pool.query('DELETE FROM face_crops WHERE nip = $1', [nip])).rowCount ?? 0;
  }
}
