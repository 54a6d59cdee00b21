import type { SqliteDb } from '../store/sqlite.js';
import { asyncOver } from '../store/async.js';
import { UserError } from '../../lib/errors.js';
import { loadBiometricKey, open, seal, type BiometricKey } from './face-crypto.js';
import type { FaceEngine } from '../../face/engine.js';
import { decodeImage, encodeJpeg, type RgbImage } from '../../face/image.js';
import { encodeVector } from '../../face/vector.js';
import { MAX_ENROL, MIN_ENROL } from '../../protocol/index.js';
import { iso, type Clock } from '../../lib/clock.js';

interface CropRow {
  id: number;
  nip: string;
  key_id: string;
  iv: Buffer;
  tag: Buffer;
  ciphertext: Buffer;
}

/** A stored crop, still sealed (face-crypto.ts). */
export interface SealedCropRow {
  id: number;
  nip: string;
  keyId: string;
  iv: Buffer;
  tag: Buffer;
  ciphertext: Buffer;
}
export interface FaceEnrolmentSummary {
  nip: string;
  name: string;
  opd: string;
  crops: number;
  models: string;
  source: string;
  enrolledAt: string;
}
export interface StaffRef {
  nip: string;
  name: string;
  opd_code: string;
  active: number;
}

/** Storage of face enrolments (crops sealed, templates per model). Async: SQLite below, PostgreSQL alike. */
export interface FaceRepository {
  staff(nip: string): Promise<StaffRef | undefined>;
  /** Replaces the person's crops and templates with these, in one transaction. */
  replaceEnrolment(nip: string, items: { sealed: Sealed; templates: { modelId: string; vector: Buffer }[] }[], meta: { source: string; by: string | null; at: string }): Promise<void>;
  sealedCrops(nip?: string): Promise<SealedCropRow[]>;
  /** Inserts or replaces templates (crop id × model), in one transaction. */
  upsertTemplates(rows: { id: number; modelId: string; vector: Buffer }[], at: string): Promise<void>;
  /** Templates of the active staff of a site, grouped by NIP, vectors base64 (roster contribution). */
  templatesForSite(siteCode: string): Promise<Map<string, { modelId: string; vector: string }[]>>;
  list(opd?: string | null, nip?: string | null): Promise<FaceEnrolmentSummary[]>;
  /** Deletes the person's crops and templates; the number of crops deleted. */
  remove(nip: string): Promise<number>;
}
type Sealed = ReturnType<typeof seal>;

/** Template rows (ordered by NIP) grouped by NIP, vectors base64: the roster's shape. */
export function templatesByNip(rows: { nip: string; model_id: string; vector: Buffer }[]): Map<string, { modelId: string; vector: string }[]> {
  const out = new Map<string, { modelId: string; vector: string }[]>();
  for (const r of rows) {
    let l = out.get(r.nip);
    if (!l) out.set(r.nip, (l = []));
    l.push({ modelId: r.model_id, vector: r.vector.toString('base64') });
  }
  return out;
}

/** FaceRepository on SQLite (migration 300_face.sql); synchronous, exposed through asyncOver. */
export class SqliteFaceRepository {
  constructor(private readonly db: SqliteDb) {}

  staff(nip: string): StaffRef | undefined {
    return this.db.prepare<[string], StaffRef>('SELECT nip, name, opd_code, active FROM staff WHERE nip = ?').get(nip);
  }

  replaceEnrolment(nip: string, items: { sealed: Sealed; templates: { modelId: string; vector: Buffer }[] }[], meta: { source: string; by: string | null; at: string }): void {
    const insCrop = this.db.prepare('INSERT INTO face_crops (nip, key_id, iv, tag, ciphertext, source, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
    const insTpl = this.db.prepare('INSERT INTO face_templates (crop_id, model_id, vector, created_at) VALUES (?, ?, ?, ?)');
    this.db.transaction(() => {
      this.remove(nip);
      for (const it of items) {
        const id = Number(insCrop.run(nip, it.sealed.keyId, it.sealed.iv, it.sealed.tag, it.sealed.ciphertext, meta.source, meta.at, meta.by).lastInsertRowid);
        for (const t of it.templates) insTpl.run(id, t.modelId, t.vector, meta.at);
      }
    })();
  }

  sealedCrops(nip?: string): SealedCropRow[] {
    const rows = (nip ? this.db.prepare<[string], CropRow>('SELECT * FROM face_crops WHERE nip = ? ORDER BY id').all(nip) : this.db.prepare<[], CropRow>('SELECT * FROM face_crops ORDER BY nip, id').all()) as CropRow[];
    return rows.map((r) => ({ id: r.id, nip: r.nip, keyId: r.key_id, iv: r.iv, tag: r.tag, ciphertext: r.ciphertext }));
  }

  upsertTemplates(rows: { id: number; modelId: string; vector: Buffer }[], at: string): void {
    const up = this.db.prepare('INSERT INTO face_templates (crop_id, model_id, vector, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (crop_id, model_id) DO UPDATE SET vector = excluded.vector, created_at = excluded.created_at');
    this.db.transaction(() => {
      for (const r of rows) up.run(r.id, r.modelId, r.vector, at);
    })();
  }

  templatesForSite(siteCode: string): Map<string, { modelId: string; vector: string }[]> {
    const rows = this.db
      .prepare<[string], { nip: string; model_id: string; vector: Buffer }>(
        `SELECT c.nip, t.model_id, t.vector FROM face_templates t JOIN face_crops c ON c.id = t.crop_id
           JOIN staff s ON s.nip = c.nip JOIN sites si ON si.unit_code = s.unit_code
          WHERE si.code = ? AND s.active = 1 ORDER BY c.nip, c.id, t.model_id`,
      )
      .all(siteCode);
    return templatesByNip(rows);
  }

  list(opd?: string | null, nip?: string | null): FaceEnrolmentSummary[] {
    return this.db
      .prepare(
        `SELECT c.nip, s.name, s.opd_code AS opd, count(DISTINCT c.id) AS crops, group_concat(DISTINCT t.model_id) AS models,
                max(c.source) AS source, max(c.created_at) AS enrolledAt
           FROM face_crops c JOIN staff s ON s.nip = c.nip LEFT JOIN face_templates t ON t.crop_id = c.id
          WHERE (@opd IS NULL OR s.opd_code = @opd) AND (@nip IS NULL OR c.nip = @nip)
          GROUP BY c.nip ORDER BY c.nip`,
      )
      .all({ opd: opd ?? null, nip: nip ?? null }) as never;
  }

  remove(nip: string): number {
    return this.db.transaction(() => {
      this.db.prepare('DELETE FROM face_templates WHERE crop_id IN (SELECT id FROM face_crops WHERE nip = ?)').run(nip);
      return this.db.prepare('DELETE FROM face_crops WHERE nip = ?').run(nip).changes;
    })();
  }
}

/**
 * The hub's face enrolments: encrypted aligned crops per person and the templates computed from
 * them, one per crop and model. Templates are always computed from the stored (decoded) JPEG, so a
 * re-computation gives exactly what enrolment gave. Storage is a FaceRepository (a SQLite handle
 * is accepted for the command line and is wrapped).
 */
export class FaceStore {
  private keyCache: BiometricKey | null = null;
  private readonly repo: FaceRepository;

  constructor(
    repo: FaceRepository | SqliteDb,
    private readonly dataDir: string,
    private readonly clock: Clock,
  ) {
    this.repo = 'prepare' in repo ? asyncOver(new SqliteFaceRepository(repo)) : repo;
  }

  private key(): BiometricKey {
    return (this.keyCache ??= loadBiometricKey(this.dataDir));
  }

  staff(nip: string): Promise<StaffRef | undefined> {
    return this.repo.staff(nip);
  }

  /** Checks the staff row exists and is active (UserError otherwise). */
  async requireStaff(nip: string): Promise<{ nip: string; name: string; opd_code: string }> {
    const s = await this.staff(nip);
    if (!s) throw new UserError(`NIP ${nip} tidak terdaftar / is not in the staff list`, 'import the staff first (`hadir import staff FILE.csv`)', 2);
    if (!s.active) throw new UserError(`NIP ${nip} tidak aktif / is inactive`, 'activate the staff row before enrolling');
    return s;
  }

  /**
   * Replaces the person's enrolment with these canonical aligned crops and computes their templates
   * with every engine. All or nothing (one transaction).
   */
  async enrol(nip: string, crops: RgbImage[], engines: FaceEngine[], meta: { source: string; by?: string }): Promise<{ crops: number; models: string[] }> {
    await this.requireStaff(nip);
    if (crops.length < MIN_ENROL || crops.length > MAX_ENROL) throw new UserError(`${crops.length} good face images for NIP ${nip}; ${MIN_ENROL}–${MAX_ENROL} are needed`, 'give 3–5 clear, frontal photos of the person');
    const now = iso(this.clock);
    const key = this.key();
    const items: { sealed: Sealed; templates: { modelId: string; vector: Buffer }[] }[] = [];
    for (const c of crops) {
      const jpeg = await encodeJpeg(c, 95);
      const stored = await decodeImage(jpeg);
      const templates = [];
      for (const e of engines) templates.push({ modelId: e.modelId, vector: Buffer.from(encodeVector(await e.embedAligned(stored)), 'base64') });
      items.push({ sealed: seal(key, jpeg, `hadir-face:${nip}`), templates });
    }
    await this.repo.replaceEnrolment(nip, items, { source: meta.source, by: meta.by ?? null, at: now });
    return { crops: items.length, models: engines.map((e) => e.modelId) };
  }

  /** The decrypted crops of one person (or everyone), for re-computation and audits. */
  async crops(nip?: string): Promise<{ id: number; nip: string; image: RgbImage }[]> {
    const rows = await this.repo.sealedCrops(nip);
    const key = this.key();
    const out = [];
    for (const r of rows) out.push({ id: r.id, nip: r.nip, image: await decodeImage(open(key, { keyId: r.keyId, iv: r.iv, tag: r.tag, ciphertext: r.ciphertext }, `hadir-face:${r.nip}`)) });
    return out;
  }

  /** Re-computes the templates of these engines' models from the stored crops (model change). */
  async recompute(engines: FaceEngine[], nip?: string): Promise<{ people: number; crops: number; models: string[] }> {
    const crops = await this.crops(nip);
    const now = iso(this.clock);
    const rows: { id: number; modelId: string; vector: Buffer }[] = [];
    for (const c of crops) for (const e of engines) rows.push({ id: c.id, modelId: e.modelId, vector: Buffer.from(encodeVector(await e.embedAligned(c.image)), 'base64') });
    await this.repo.upsertTemplates(rows, now);
    return { people: new Set(crops.map((c) => c.nip)).size, crops: crops.length, models: engines.map((e) => e.modelId) };
  }

  templatesForSite(siteCode: string): Promise<Map<string, { modelId: string; vector: string }[]>> {
    return this.repo.templatesForSite(siteCode);
  }

  list(opd?: string | null, nip?: string | null): Promise<FaceEnrolmentSummary[]> {
    return this.repo.list(opd, nip);
  }

  remove(nip: string): Promise<number> {
    return this.repo.remove(nip);
  }
}
