import type { KioskContext, KioskExtension } from '../extension.js';

/** Placeholder until the face feature lands (owned by that feature). */
export function createFaceExtension(_ctx: KioskContext): KioskExtension {
  return { name: 'face', async start() {}, async stop() {} };
}
