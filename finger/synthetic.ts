import { createHash } from 'node:crypto';

/**
 * Synthetic fingers, shared by the kiosk's sensor emulator/simulator and the hub's demo seeding:
 * a finger is a seed string expanded into a character file, so the template the simulated sensor
 * produces for a person's finger and the one the hub stores for them are the same bytes.
 */

/** The seed of a person's finger: `NIP#finger`. */
export const fingerSeed = (nip: string, finger: number) => `${nip}#${finger}`;

/** Deterministic synthetic character file for a finger seed. */
export function syntheticTemplate(seed: string, size = 512): Buffer {
  const out = Buffer.alloc(size);
  let block = createHash('sha256').update(`finger:${seed}`).digest();
  for (let off = 0; off < size; off += block.length) {
    block.copy(out, off);
    block = createHash('sha256').update(block).digest();
  }
  // Real character files start with a small header; keep a fixed one so templates look alike.
  out[0] = 0x03;
  out[1] = 0x01;
  return out;
}
