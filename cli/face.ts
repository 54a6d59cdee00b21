import type { Groups } from './program.js';

/** Commands of the face area (owned by that area; see README "Command line"). */
export function registerFaceCommands(_g: Groups): void {}
