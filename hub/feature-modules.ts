import type { HubContext, HubModule } from './module-contract.js';
import { createAttendanceModule } from './attendance/module.js';
import { createHealthModule } from './health/module.js';
import { createFaceModule } from './biometrics/face-module.js';
import { createFingerModule } from './biometrics/finger-module.js';
import { createFleetModule } from './fleet/module.js';
import { createStaffModule } from './staff/module.js';

/** The feature modules of the hub (attendance, health, biometrics, fleet, staff portal), built in this order after the core (devices, ingest, auth). */
export const moduleFactories: ((ctx: HubContext) => HubModule)[] = [
  createAttendanceModule,
  createHealthModule,
  createFaceModule,
  createFingerModule,
  createFleetModule,
  createStaffModule,
];
