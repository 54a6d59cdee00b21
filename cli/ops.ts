import type { Groups } from './program.js';

/** Commands of the ops area (owned by that area; see README "Command line"). */
export function registerOpsCommands(_g: Groups): void {}
