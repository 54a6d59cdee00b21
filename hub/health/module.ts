import type { HubContext, HubModule } from '../module.js';

/** Placeholder until the health feature lands (owned by that feature). */
export function createHealthModule(_ctx: HubContext): HubModule {
  return { name: 'health' };
}
