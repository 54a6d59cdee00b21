import type { KioskContext, KioskExtension } from './extension-api.js';
import { createClockExtension } from './clock/extension.js';
import { createGpioExtension } from './gpio/extension.js';
import { createFaceExtension } from './face/extension.js';
import { createFingerExtension } from './finger/extension.js';
import { createHealthExtension } from './health/extension.js';
import { createCommandsExtension } from './commands/extension.js';
import { createSoundExtension } from './sound/extension.js';

/**
 * Kiosk features, started in this order after the core (journal, publisher, roster, screen) and
 * stopped in reverse. The trusted clock comes first so every punch is stamped by it; GPIO before the
 * biometric sources so feedback is ready; health and remote commands last.
 */
export const extensionFactories: ((ctx: KioskContext) => KioskExtension)[] = [
  createClockExtension,
  createGpioExtension,
  createSoundExtension,
  createFaceExtension,
  createFingerExtension,
  createHealthExtension,
  createCommandsExtension,
];
