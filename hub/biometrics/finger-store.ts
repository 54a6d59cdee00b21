import type { SqliteDb } from '../store/sqlite.js';
import type { Async } from '../store/async.js';
import { EnrolSessions, type EnrolSession } from './enrol-sessions.js';
import type { StaffRef } from './face-store.js';

export interface FingerTemplateRow {
  nip: string;
  finger: number;
  template: Buffer;
  sha256: string;
  enrolled_device_id: string | null;
  enrolled_at: string;
  updated_at: string;
}
export interface FingerTemplateMeta {
  sha256: string;
  enrolledDeviceId: string | null;
  updatedAt: string;
}

/** Fingerprint templates on SQLite (migration 310); the module reaches them through FingerRepository. */
export class SqliteFingerStore {
  private readonly sessions: EnrolSessions;
  constructor(private readonly db: SqliteDb) {
    this.sessions = new EnrolSessions(db);
  }

  staff(nip: string): StaffRef | undefined {
    return this.db.prepare<[string], StaffRef>('SELECT nip, name, opd_code, active FROM staff WHERE nip = ?').get(nip);
  }

  /** Templates of the active staff of a site (roster contribution). */
  templatesForSite(siteCode: string): FingerTemplateRow[] {
    return this.db
      .prepare<[string], FingerTemplateRow>(
        `SELECT ft.* FROM finger_templates ft JOIN staff s ON s.nip = ft.nip JOIN sites si ON si.unit_code = s.unit_code
          WHERE si.code = ? AND s.active = 1 ORDER BY ft.nip, ft.finger`,
      )
      .all(siteCode);
  }

  meta(nip: string, finger: number): FingerTemplateMeta | null {
    return (
      this.db
        .prepare<[string, number], FingerTemplateMeta>('SELECT sha256, enrolled_device_id AS enrolledDeviceId, updated_at AS updatedAt FROM finger_templates WHERE nip = ? AND finger = ?')
        .get(nip, finger) ?? null
    );
  }

  /**
   * Claims the device's open finger enrolment session for this NIP and finger and stores the
   * template, in one transaction: null (nothing written) when there is no open session.
   */
  claimAndStore(t: { nip: string; finger: number; template: Buffer; sha256: string; deviceId: string; now: Date }): EnrolSession | null {
    return this.db.transaction(() => {
      const s = this.sessions.claim({ deviceId: t.deviceId, nip: t.nip, method: 'finger', finger: t.finger, now: t.now, usedFor: `finger ${t.finger} ${t.sha256.slice(0, 16)}` });
      if (s) {
        this.db
          .prepare(
            `INSERT INTO finger_templates (nip, finger, template, sha256, enrolled_device_id, enrolled_at, updated_at)
             VALUES (@nip, @finger, @template, @sha256, @device, @now, @now)
             ON CONFLICT (nip, finger) DO UPDATE SET template = excluded.template, sha256 = excluded.sha256,
               enrolled_device_id = excluded.enrolled_device_id, enrolled_at = excluded.enrolled_at, updated_at = excluded.updated_at`,
          )
          .run({ nip: t.nip, finger: t.finger, template: t.template, sha256: t.sha256, device: t.deviceId, now: t.now.toISOString() });
      }
      return s;
    })();
  }

  /** Metadata of the templates (no bytes), optionally of one NIP and/or OPD. */
  list(f: { nip: string | null; opd: string | null }): Record<string, unknown>[] {
    return this.db
      .prepare(
        `SELECT ft.nip, s.name, s.opd_code AS opd, ft.finger, length(ft.template) AS bytes, ft.sha256, ft.enrolled_device_id AS enrolledDeviceId,
                ft.enrolled_at AS enrolledAt, ft.updated_at AS updatedAt
           FROM finger_templates ft JOIN staff s ON s.nip = ft.nip
          WHERE (@nip IS NULL OR ft.nip = @nip) AND (@opd IS NULL OR s.opd_code = @opd) ORDER BY ft.nip, ft.finger`,
      )
      .all(f) as Record<string, unknown>[];
  }

  /** Deletes one template; false when there was none. */
  remove(nip: string, finger: number): boolean {
    return this.db.prepare('DELETE FROM finger_templates WHERE nip = ? AND finger = ?').run(nip, finger).changes > 0;
  }
}

/** Fingerprint template storage, async (SQLite: SqliteFingerStore through asyncOver). */
export type FingerRepository = Async<SqliteFingerStore>;
