/**
 * A second process appending to a kiosk journal (test/kiosk/journal.test.ts runs two of these on
 * one file at once): `node --import tsx journal-writer.ts <dataDir> <count> <tag>`. Opens the
 * journal, prints "ready", starts appending when a line arrives on stdin (so both writers run at
 * the same time), then prints the number of punches it recorded, or exits non-zero with the error.
 */
import { generateDeviceKeys, loadPrivateKey } from '../../protocol/index.js';
import { Journal } from '../../kiosk/journal.js';
import { buildPunch } from '../../kiosk/punch.js';

const [dataDir, count, tag] = process.argv.slice(2) as [string, string, string];
const key = loadPrivateKey(generateDeviceKeys().privateKeyPem);
const j = Journal.open(dataDir);
process.stdout.write('ready\n');
await new Promise((r) => process.stdin.once('data', r));
process.stdin.pause();
let recorded = 0;
for (let i = 0; i < Number(count); i++) {
  const at = new Date(Date.UTC(2026, 10, 24, 0, 0, 0, i)).toISOString();
  const r = j.append(
    `${tag}${i}`,
    () => null,
    (head) => buildPunch({ deviceId: 'kiosk-a', head, stamp: { capturedAt: at, synced: true, source: 'chrony', offsetMs: 0, bootId: 'b', monoMs: i }, identification: { nip: `${tag}${i}`, method: 'face', score: 0.8 } }, key),
    at,
  );
  if (r.kind === 'recorded') recorded++;
}
j.close();
process.stdout.write(`${recorded}\n`);
