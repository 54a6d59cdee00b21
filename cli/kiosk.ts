import type { Groups } from './program.js';

/** Commands of the kiosk area (owned by that area; see README "Command line"). */
export function registerKioskCommands(_g: Groups): void {}
