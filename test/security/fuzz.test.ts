import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { rmSync } from 'node:fs';
import { GENESIS_HASH, Topics, generateDeviceKeys, loadPrivateKey, newId, signPunch, type UnsignedPunch } from '../../protocol/index.js';
import { precheckPunchMessage, type RejectCode } from '../../hub/ingest/validate.js';
import { implausibleTime } from '../../hub/ingest/plausibility.js';
import { parseCsv } from '../../hub/org/csv.js';
import { formatLineError } from '../../hub/org/line-error.js';
import { ORG_COLUMNS, STAFF_COLUMNS, importOrg, importStaff } from '../../hub/org/import.js';
import { HOLIDAY_COLUMNS, KINERJA_COLUMNS, PUNCH_COLUMNS, importHolidays, importKinerja, importPunches } from '../../hub/attendance/admin.js';
import { openSqlite, type SqliteDb } from '../../hub/store/sqlite.js';
import { isUserError } from '../../lib/errors.js';
import type { DeviceRecord } from '../../hub/store/core-store.js';
import { seedOrg, tmpDir } from '../hub/helpers.js';
import { join } from 'node:path';

/**
 * Property-based fuzzing (fast-check), time-bounded so it runs in every CI pass: the punch decoder
 * and the CSV importers get random and mutated input. No crash (only the documented refusal),
 * no hang (each input handled in bounded time), every bad input a clear one-line error.
 */
const BUDGET_MS = 2_500; // per property; fast-check stops generating after it (runs so far must all pass)
const SLOW_MS = 250; // any single input taking longer counts as a hang

const topics = new Topics('hadir/v1');
const keys = generateDeviceKeys();
const key = loadPrivateKey(keys.privateKeyPem);
const device: DeviceRecord = {
  id: 'kiosk-fuzz', siteCode: 'PKM-01-A', publicKeyPem: keys.publicKeyPem, mqttSecretHash: 'x', brokerPasswordHash: null, createdAt: '', enrolledAt: '',
  disabledAt: null, lastSeenAt: null, online: true, statusAt: null, contiguousSeq: 0, maxSeq: 0, backlog: null, backlogOldestAt: null,
};
const lookup = async (id: string) => (id === device.id ? device : null);
const CODES: RejectCode[] = ['malformed_json', 'schema', 'oversized', 'wrong_topic', 'unknown_device', 'not_enrolled', 'disabled', 'bad_signature'];

const base = (): UnsignedPunch => ({
  id: newId(), deviceId: device.id, seq: 1, nip: '198503122010011002', method: 'face', capturedAt: new Date().toISOString(),
  clock: { synced: true, source: 'chrony', offsetMs: 0.2, bootId: 'b', monoMs: 1 }, match: { score: 0.8, liveness: 0.9 }, prevHash: GENESIS_HASH,
});

/** Values that have broken parsers before: huge/odd numbers, control characters, prototypes, deep nesting. */
const nasty = fc.oneof(
  fc.anything({ maxDepth: 3 }),
  fc.constantFrom(Number.MAX_SAFE_INTEGER, -1, 0, 1e308, -0, 2 ** 53 + 1, '', '\u0000', '\n', '__proto__', 'constructor', '9'.repeat(400), '=cmd|calc', '0001-01-01T00:00:00.000Z', '2099-01-01T00:00:00.000Z'),
  fc.string({ unit: 'binary', maxLength: 80 }),
);

function checkDecoded(c: Awaited<ReturnType<typeof precheckPunchMessage>>, ms: number) {
  expect(ms).toBeLessThan(SLOW_MS);
  if (c.ok) return;
  expect(CODES).toContain(c.code);
  expect(typeof c.reason).toBe('string');
  expect(c.reason.length).toBeGreaterThan(0);
  expect(c.reason.length).toBeLessThan(4000);
}

describe('security: fuzzing (fast-check, time-bounded)', () => {
  it('punch decoder: arbitrary bytes never crash and are refused with a code and a reason', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 4096 }), async (bytes) => {
        const t0 = performance.now();
        const c = await precheckPunchMessage(topics, topics.punch(device.id), Buffer.from(bytes), lookup);
        checkDecoded(c, performance.now() - t0);
      }),
      { numRuns: 3000, interruptAfterTimeLimit: BUDGET_MS },
    );
  });

  it('punch decoder: mutated valid punches (a field replaced, dropped or added) are refused clearly or still valid', async () => {
    const fields = Object.keys({ ...base(), sig: '' });
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...fields), fc.constantFrom('replace', 'drop', 'add', 'nest'), nasty, async (field, how, value) => {
        const p: Record<string, unknown> = { ...signPunch(base(), key) };
        if (how === 'replace') p[field] = value;
        else if (how === 'drop') delete p[field];
        else if (how === 'add') p[`x_${field}`] = value;
        else p.clock = { ...(p.clock as object), [field]: value };
        let text: string;
        try {
          text = JSON.stringify(p);
        } catch {
          return; // not representable as a message (BigInt): nothing to send
        }
        const t0 = performance.now();
        const c = await precheckPunchMessage(topics, topics.punch(device.id), Buffer.from(text ?? 'null'), lookup);
        checkDecoded(c, performance.now() - t0);
        if (c.ok) expect(() => implausibleTime(c.punch, Date.now())).not.toThrow();
      }),
      { numRuns: 3000, interruptAfterTimeLimit: BUDGET_MS },
    );
  });

  describe('CSV importers', () => {
    let dir: string;
    let db: SqliteDb;
    beforeAll(() => {
      dir = tmpDir('fuzz');
      db = openSqlite(join(dir, 'hub.db'));
      seedOrg(db);
    });
    afterAll(() => {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    });

    const cell = fc.oneof(
      fc.string({ maxLength: 30 }),
      fc.string({ unit: 'grapheme', maxLength: 20 }),
      fc.constantFrom('', '"', '""', ';', ',', '\n', '\r\n', '=HYPERLINK("http://x","klik")', '-2+3+cmd', '198503122010011002', 'DINKES', 'PKM-01', 'PKM-01-A', 'ASN', 'HONORER',
        'KANTOR5', '2026-10-05T07:41:00+07:00', '2026-13-45T99:99:00+07:00', '2026-10', '101', '-5', '1e9', 'manual', 'legacy', 'nasional', 'WIB', '\uFEFF', '\u0000'),
    );
    const csvText = (columns: readonly string[]) =>
      fc.tuple(fc.constantFrom(',', ';'), fc.shuffledSubarray([...columns], { minLength: Math.max(1, columns.length - 1) }), fc.array(fc.array(cell, { maxLength: columns.length + 2 }), { maxLength: 12 }), fc.boolean())
        .map(([sep, header, rows, quote]) => {
          const q = (s: string) => (quote || /[",;\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
          return [header.join(sep), ...rows.map((r) => r.map(q).join(sep))].join('\n');
        });
    const raw = fc.oneof(fc.string({ maxLength: 400 }), fc.string({ unit: 'binary', maxLength: 400 }));

    const importers: [string, readonly string[], (rows: ReturnType<typeof parseCsv>) => { errors: { line: number; reason: string }[] }][] = [
      ['org', ORG_COLUMNS, (rows) => importOrg(db, rows)],
      ['staff', STAFF_COLUMNS, (rows) => importStaff(db, rows, { by: 'fuzz', now: new Date().toISOString(), effective: '2026-10-01' })],
      ['punches', PUNCH_COLUMNS, (rows) => importPunches(db, rows, { by: 'fuzz', now: new Date().toISOString() })],
      ['kinerja', KINERJA_COLUMNS, (rows) => importKinerja(db, rows, { by: 'fuzz', now: new Date().toISOString() })],
      ['holidays', HOLIDAY_COLUMNS, (rows) => importHolidays(db, rows)],
    ];
    for (const [name, columns, run] of importers) {
      it(`import ${name}: random and CSV-shaped input → rows imported or refused per line / as a whole, never a crash`, () => {
        fc.assert(
          fc.property(fc.oneof(csvText(columns), raw), (text) => {
            const t0 = performance.now();
            let rows;
            try {
              rows = parseCsv(text, `${name}.csv`, columns);
            } catch (e) {
              expect(isUserError(e), String(e)).toBe(true); // a whole-file refusal: one clear message
              expect((e as Error).message).toMatch(new RegExp(`^${name}\\.csv`));
              expect((e as Error).message, 'one line').not.toMatch(/[\r\n]/);
              return;
            }
            let res;
            try {
              res = run(rows);
            } catch (e) {
              expect(isUserError(e), `import ${name} threw ${String(e)} for ${JSON.stringify(text)}`).toBe(true);
              return;
            }
            expect(performance.now() - t0).toBeLessThan(SLOW_MS * 4);
            for (const err of res.errors) {
              expect(Number.isInteger(err.line) && err.line >= 1).toBe(true);
              expect(err.reason.length).toBeGreaterThan(0);
              expect(formatLineError(err), 'a line error must print as one line').not.toMatch(/[\r\n\u2028\u2029]/);
              expect(formatLineError(err)).toMatch(new RegExp(`^baris/line ${err.line}: `));
            }
          }),
          { numRuns: 2000, interruptAfterTimeLimit: BUDGET_MS },
        );
      });
    }
  });
});
