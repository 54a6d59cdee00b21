import type { HubContext, HubModule } from '../module.js';

/** Placeholder until the face feature lands (owned by that feature). */
export function createFaceModule(_ctx: HubContext): HubModule {
  return { name: 'face' };
}
