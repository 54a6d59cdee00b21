import type { Groups } from './program.js';

/** Commands of the attendance area (owned by that area; see README "Command line"). */
export function registerAttendanceCommands(_g: Groups): void {}
