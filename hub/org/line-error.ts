import type { LineError } from './csv.js';

/**
 * One refused import row as ONE printed line. Reasons quote the offending cell, and a quoted CSV
 * cell may hold line breaks or control characters: printed raw they would split the report or
 * forge extra "line N" lines (found by test/security/fuzz.test.ts). They are shown escaped.
 */
export function formatLineError(e: LineError): string {
  const reason = e.reason.replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, (ch) => (ch === '\n' ? '\\n' : ch === '\r' ? '\\r' : ch === '\t' ? '\\t' : `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`));
  return `baris/line ${e.line}: ${reason}`;
}
