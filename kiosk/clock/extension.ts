import type { KioskContext, KioskExtension } from '../extension.js';

/** Placeholder until the clock feature lands (owned by that feature). */
export function createClockExtension(_ctx: KioskContext): KioskExtension {
  return { name: 'clock', async start() {}, async stop() {} };
}
