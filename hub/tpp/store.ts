import type { SqliteDb } from '../store/sqlite.js';
import { UserError } from '../../lib/errors.js';
import { parseDocument } from '../../lib/config-file.js';
import { tppRuleSchema, type TppRule } from './rules.js';
import { derivedMonthsFrom, markDirty } from '../attendance/recompute.js';

/** Validates a rule file's text (JSON or YAML by file name); throws one UserError listing every problem. */
export function checkRule(text: string, source: string): TppRule {
  return parseDocument(tppRuleSchema, text, source, 'fix the listed fields (format: docs/attendance.md "Aturan TPP / TPP rules")');
}

/**
 * Installs a Perbup version. A version is immutable once added (months were paid under it): the
 * same id with other content is refused; a new Perbup gets a new id. Months from its effective
 * date on are re-derived.
 */
export function addRule(db: SqliteDb, rule: TppRule, by: string, now: string): 'added' | 'unchanged' {
  const def = JSON.stringify(rule);
  const same = db.prepare('SELECT id, definition FROM tpp_rules WHERE id = ? OR effective_from = ?').all(rule.id, rule.effectiveFrom) as { id: string; definition: string }[];
  for (const r of same) {
    if (r.id === rule.id && r.definition === def) return 'unchanged';
    if (r.id === rule.id) throw new UserError(`rule ${rule.id} is already installed with different content (aturan sudah ada dengan isi berbeda)`, 'give the new Perbup version its own id');
    throw new UserError(`rule ${r.id} already takes effect on ${rule.effectiveFrom} (tanggal berlaku sama)`, 'each version needs its own effectiveFrom date');
  }
  db.transaction(() => {
    db.prepare('INSERT INTO tpp_rules (id, effective_from, definition, added_at, added_by) VALUES (?, ?, ?, ?, ?)').run(rule.id, rule.effectiveFrom, def, now, by);
    markDirty(db, '*', derivedMonthsFrom(db, rule.effectiveFrom.slice(0, 7)));
  })();
  return 'added';
}

export function listRules(db: SqliteDb): { id: string; effective_from: string; added_at: string; added_by: string | null }[] {
  return db.prepare('SELECT id, effective_from, added_at, added_by FROM tpp_rules ORDER BY effective_from').all() as { id: string; effective_from: string; added_at: string; added_by: string | null }[];
}
