import { createHash } from 'node:crypto';
import type { SqliteDb } from '../store/sqlite.js';
import { fingerSeed, syntheticTemplate } from '../../finger/synthetic.js';

/**
 * Demo/test helper: stores, for each NIP, the template the simulated sensor produces for that
 * person's finger, as if they had enrolled at a kiosk. `hadir demo` can then put fingers on the
 * simulated glass (`simulatedTouch`) and get finger punches. Never used with real sensors.
 */
export function seedSimulatedFingerTemplates(db: SqliteDb, nips: readonly string[], finger = 1, now = new Date()): number {
  const upsert = db.prepare(
    `INSERT INTO finger_templates (nip, finger, template, sha256, enrolled_device_id, enrolled_at, updated_at)
     VALUES (?, ?, ?, ?, NULL, ?, ?)
     ON CONFLICT (nip, finger) DO UPDATE SET template = excluded.template, sha256 = excluded.sha256, updated_at = excluded.updated_at`,
  );
  const at = now.toISOString();
  let n = 0;
  db.transaction(() => {
    for (const nip of nips) {
      const t = syntheticTemplate(fingerSeed(nip, finger));
      upsert.run(nip, finger, t, createHash('sha256').update(t).digest('hex'), at, at);
      n++;
    }
  })();
  return n;
}
