/**
 * A second process appending to a kiosk journal (test/kiosk/journal.test.ts runs two of these on
 * one file at once): `node --import tsx journal-writer.ts <dataDir> <count> <tag> <otherTag>`.
 * Opens the journal, prints "ready", starts appending when a line arrives on stdin, and goes on
 * past `count` until one of its punches follows one of the other writer's (so the two really
 * wrote at the same time, however the machine schedules them; at most 20 s). Prints the number of
 * punches it recorded, or exits non-zero with the error.
 */
import { generateDeviceKeys, loadPrivateKey } from '../../protocol/index.js';
import { Journal } from '../../kiosk/journal.js';
import { buildPunch } from '../../kiosk/punch.js';

const [dataDir, count, tag, otherTag] = process.argv.slice(2) as [string, string, string, string];
const key = loadPrivateKey(generateDeviceKeys().privateKeyPem);
const j = Journal.open(dataDir);
const firstOther = j.db.prepare('SELECT MIN(seq) FROM punches WHERE nip LIKE ?').pluck();
process.stdout.write('ready\n');
await new Promise((r) => process.stdin.once('data', r));
process.stdin.pause();
const deadline = Date.now() + 20_000;
let recorded = 0;
let after = false;
for (let i = 0; (recorded < Number(count) || !after) && Date.now() < deadline; i++) {
  const at = new Date(Date.UTC(2026, 10, 24, 0, 0, 0, 0) + i).toISOString();
  const r = j.append(
    `${tag}${i}`,
    () => null,
    (head) => buildPunch({ deviceId: 'kiosk-a', head, stamp: { capturedAt: at, synced: true, source: 'chrony', offsetMs: 0, bootId: 'b', monoMs: i }, identification: { nip: `${tag}${i}`, method: 'face', score: 0.8 } }, key),
    at,
  );
  if (r.kind !== 'recorded') continue;
  recorded++;
  const other = firstOther.get(`${otherTag}%`) as number | null;
  after ||= other !== null && other < r.punch.seq;
}
j.close();
process.stdout.write(`${recorded}\n`);
