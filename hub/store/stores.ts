import type { CoreStore } from './core-store.js';
import type { AttendanceRepository } from '../attendance/repository.js';
import type { HealthRepository } from '../health/store.js';
import type { FaceRepository } from '../biometrics/face-store.js';
import type { FingerRepository } from '../biometrics/finger-store.js';
import type { EnrolSessionRepository } from '../biometrics/enrol-sessions.js';
import type { FleetRepository, FleetServiceOptions } from '../fleet/service.js';
import type { StaffPortalRepository } from '../staff/store.js';
import type { AuditRepository } from '../audit/store.js';

/**
 * Every repository of the hub, built together by the one store factory (hub/store/open.ts) from
 * the database URL. Modules get these (HubContext.stores), never a database handle. All methods
 * are async, so a PostgreSQL implementation slots in behind the same types.
 */
export interface HubStores {
  /** `sqlite` (default) or `postgres`. */
  readonly kind: 'sqlite' | 'postgres';
  /** Devices, sites, enrolment tokens, ingest, the punch report, users, API tokens and web sessions. */
  core: CoreStore;
  attendance: AttendanceRepository;
  health: HealthRepository;
  face: FaceRepository;
  finger: FingerRepository;
  enrolSessions: EnrolSessionRepository;
  /** Fleet rollouts; built with the module's audit sink and clock. */
  fleet(o: FleetServiceOptions): FleetRepository;
  staffPortal: StaffPortalRepository;
  audit: AuditRepository;
}
