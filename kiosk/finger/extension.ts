import type { KioskContext, KioskExtension } from '../extension.js';

/** Placeholder until the finger feature lands (owned by that feature). */
export function createFingerExtension(_ctx: KioskContext): KioskExtension {
  return { name: 'finger', async start() {}, async stop() {} };
}
