import type { Groups } from './program.js';

/** Commands of the finger area (owned by that area; see README "Command line"). */
export function registerFingerCommands(_g: Groups): void {}
