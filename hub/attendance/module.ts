import type { HubContext, HubModule } from '../module.js';

/** Placeholder until the attendance feature lands (owned by that feature). */
export function createAttendanceModule(_ctx: HubContext): HubModule {
  return { name: 'attendance' };
}
