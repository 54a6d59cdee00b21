import type { HubContext, HubModule } from '../module.js';

/** Placeholder until the finger feature lands (owned by that feature). */
export function createFingerModule(_ctx: HubContext): HubModule {
  return { name: 'finger' };
}
