import type { KeyObject } from 'node:crypto';
import { newId, signPunch, type Punch, type UnsignedPunch } from '../protocol/index.js';
import type { ChainHead } from './journal.js';
import type { ClockStamp, Identification } from './types.js';

/**
 * Builds the signed punch that follows `head` in the device's chain. Pure apart from the id
 * (UUIDv7) which may be passed in for tests.
 */
export function buildPunch(
  args: { deviceId: string; head: ChainHead; stamp: ClockStamp; identification: Identification; id?: string },
  key: KeyObject,
): Punch {
  const { deviceId, head, stamp, identification: idn } = args;
  const unsigned: UnsignedPunch = {
    id: args.id ?? newId(),
    deviceId,
    seq: head.seq + 1,
    nip: idn.nip,
    method: idn.method,
    capturedAt: stamp.capturedAt,
    clock: {
      synced: stamp.synced,
      source: stamp.source,
      ...(stamp.offsetMs !== undefined ? { offsetMs: stamp.offsetMs } : {}),
      ...(stamp.errorMs !== undefined ? { errorMs: stamp.errorMs } : {}),
      bootId: stamp.bootId,
      monoMs: stamp.monoMs,
    },
    match: { score: idn.score, ...(idn.liveness !== undefined ? { liveness: idn.liveness } : {}) },
    ...(idn.photo ? { photo: idn.photo.toString('base64') } : {}),
    prevHash: head.hash,
  };
  return signPunch(unsigned, key);
}
