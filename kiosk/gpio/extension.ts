import type { KioskContext, KioskExtension } from '../extension.js';

/** Placeholder until the gpio feature lands (owned by that feature). */
export function createGpioExtension(_ctx: KioskContext): KioskExtension {
  return { name: 'gpio', async start() {}, async stop() {} };
}
