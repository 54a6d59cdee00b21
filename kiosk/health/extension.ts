import type { KioskContext, KioskExtension } from '../extension.js';

/** Placeholder until the health feature lands (owned by that feature). */
export function createHealthExtension(_ctx: KioskContext): KioskExtension {
  return { name: 'health', async start() {}, async stop() {} };
}
