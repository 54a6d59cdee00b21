import type { KioskContext, KioskExtension } from '../extension.js';

/** Placeholder until the commands feature lands (owned by that feature). */
export function createCommandsExtension(_ctx: KioskContext): KioskExtension {
  return { name: 'commands', async start() {}, async stop() {} };
}
