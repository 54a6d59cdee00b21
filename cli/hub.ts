import type { Groups } from './program.js';

/** Commands of the hub area (owned by that area; see README "Command line"). */
export function registerHubCommands(_g: Groups): void {}
