import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateDeviceKeys, loadPrivateKey } from '../protocol/index.js';
import { SystemClock } from './core-clock.js';
import { Journal } from './journal.js';
import { buildPunch } from './punch.js';
import { withinDedupWindow } from './dedup.js';

export interface JournalBenchResult {
  path: string;
  count: number;
  append_p50_ms: number;
  append_p99_ms: number;
  append_max_ms: number;
  appends_per_s: number;
}

/**
 * `hadir bench journal`: the exact append path of a punch (dedup lookup, sign, hash chain, INSERT,
 * COMMIT with fsync) timed one by one on a real file.
 */
export async function benchJournal(o: { count: number; dir?: string }): Promise<JournalBenchResult> {
  const dir = o.dir ?? mkdtempSync(join(tmpdir(), 'hadir-bench-journal-'));
  const j = Journal.open(dir);
  const key = loadPrivateKey(generateDeviceKeys().privateKeyPem);
  const clock = new SystemClock();
  const photo = Buffer.alloc(1500, 0x55); // a small evidence JPEG's worth of bytes
  const times: number[] = [];
  const t0 = performance.now();
  try {
    for (let i = 0; i < o.count; i++) {
      const nip = `19800101200501${String(i % 5000).padStart(4, '0')}`;
      const s = performance.now();
      const stamp = clock.stamp();
      j.append(
        nip,
        (last) => (last && withinDedupWindow(last, stamp.capturedAt, 0) ? { already: last } : null),
        (head) => buildPunch({ deviceId: 'bench-kiosk', head, stamp, identification: { nip, method: 'face', score: 0.8, liveness: 0.95, photo } }, key),
        new Date().toISOString(),
      );
      times.push(performance.now() - s);
    }
  } finally {
    j.close();
    if (!o.dir) rmSync(dir, { recursive: true, force: true });
  }
  const total = performance.now() - t0;
  times.sort((a, b) => a - b);
  const q = (p: number) => round(times[Math.min(times.length - 1, Math.floor(p * times.length))]!);
  return {
    path: join(dir, 'journal.db'),
    count: o.count,
    append_p50_ms: q(0.5),
    append_p99_ms: q(0.99),
    append_max_ms: round(times[times.length - 1]!),
    appends_per_s: Math.round(o.count / (total / 1000)),
  };
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
