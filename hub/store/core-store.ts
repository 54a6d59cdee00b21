import type { Punch } from '../../protocol/index.js';
import type { Role } from '../module-contract.js';

/**
 * The hub core's repository: everything ingest, device registration, users and the punch report
 * need from storage, and nothing else. Async so that a PostgreSQL implementation (a later issue)
 * slots in behind the same interface without touching ingest or reports; SQLite is the default
 * (hub/store/sqlite-core-store.ts).
 */
export interface DeviceRecord {
  id: string;
  siteCode: string;
  publicKeyPem: string | null;
  mqttSecretHash: string | null;
  /** The same secret hashed for an external broker's password file (Mosquitto `$7$`). */
  brokerPasswordHash: string | null;
  createdAt: string;
  enrolledAt: string | null;
  disabledAt: string | null;
  /** Why and by whom it was disabled (set with disabledAt; absent in records built by hand). */
  disabledReason?: string | null;
  disabledBy?: string | null;
  lastSeenAt: string | null;
  online: boolean;
  statusAt: string | null;
  contiguousSeq: number;
  maxSeq: number;
  backlog: number | null;
  backlogOldestAt: string | null;
}

export interface SiteRecord {
  code: string;
  name: string;
  unitCode: string;
  opdCode: string;
}

export interface SeqGap {
  deviceId: string;
  fromSeq: number;
  toSeq: number;
  detectedAt: string;
  closedAt: string | null;
}

export interface EnrolTokenRecord {
  tokenHash: string;
  deviceId: string;
  siteCode: string;
  createdAt: string;
  expiresAt: string;
  usedAt: string | null;
}

/** A verified punch ready to store (signature and device already checked by ingest). */
export interface IngestItem {
  punch: Punch;
  siteCode: string;
  receivedAt: string;
  /** Why the punch must wait for review even with a synced clock (an implausible capture time), else absent. */
  reviewReason?: string | null;
  /** The punch's chain hash (protocol punchHash) when ingest already has it (computed with the signature check); else the store computes it. */
  hash?: string;
}

export interface RejectionRecord {
  at: string;
  deviceId: string | null;
  topic: string | null;
  code: string;
  reason: string;
  punchId: string | null;
}

export interface DeviceBatchOutcome {
  /** Ids stored by this batch or already stored before (duplicates are acked again). */
  ids: string[];
  /** Ids refused for good inside the store (same id with other content, seq taken by another id). */
  rejected: { id: string; code: string; reason: string }[];
  contiguousSeq: number;
}

export interface IngestBatchResult {
  devices: Map<string, DeviceBatchOutcome>;
  /** Punches new in this batch (for `punches:stored`). */
  stored: { id: string; nip: string; capturedAt: string }[];
  duplicates: number;
  /** Punches (stored now or before) whose prevHash does not follow the stored previous punch of their device, flagged by this batch. */
  chainBreaks: { id: string; deviceId: string; seq: number }[];
}

export interface PunchFilter {
  from?: string; // inclusive, UTC ISO
  to?: string; // exclusive, UTC ISO
  deviceId?: string;
  nip?: string;
  /** OPD scoping: only punches of staff of this OPD. */
  opdCode?: string;
  limit?: number;
  offset?: number;
  /** By capture time: asc (default) or desc. */
  order?: 'asc' | 'desc';
}

export interface PunchRow {
  id: string;
  deviceId: string | null;
  seq: number | null;
  nip: string;
  method: string;
  capturedAt: string;
  siteCode: string | null;
  clockSynced: boolean;
  clockSource: string | null;
  clockOffsetMs: number | null;
  /** Error bound of capturedAt (ms) for clock source "hub"; null otherwise. */
  clockErrorMs: number | null;
  score: number | null;
  liveness: number | null;
  hasPhoto: boolean;
  receivedAt: string;
  reviewStatus: string;
  /** Why it waits for review beyond an unsynced clock (implausible capture time), or null. */
  reviewReason: string | null;
  /** prevHash does not follow the stored previous punch of the device. */
  chainBreak: boolean;
}

/** A punch refused as `seq_conflict` and kept whole for `hadir device recover`. */
export interface PunchConflict {
  id: string;
  deviceId: string;
  seq: number;
  siteCode: string | null;
  receivedAt: string;
  /** The signed punch as received (signature verified before it was kept). */
  punch: Punch;
  /** A punch with this id is stored (recovered before, or stored some other way). */
  recovered: boolean;
  /** imported_by of that stored punch (the admin who recovered it), when stored. */
  recoveredBy: string | null;
}

export interface RecoverResult {
  /** Ids stored now (seq NULL, note RECOVERED_NOTE, imported_by = the admin). */
  stored: string[];
  /** Ids whose punch was already stored: reported, nothing written. */
  already: string[];
  /** Ids asked for that are not conflicts of this device: when any, nothing is written at all. */
  unknown: string[];
}

/** punches.note of a punch stored by `hadir device recover`. */
export const RECOVERED_NOTE = 'recovered after seq_conflict';

/** An API token as the user lookup sees it (web sessions are the ones labelled SESSION_LABEL). */
export interface ApiTokenInfo {
  label: string | null;
  createdAt: string;
  /** Before this lookup (the lookup itself may advance it). */
  lastUsedAt: string | null;
}

export interface UserRecord {
  username: string;
  name: string;
  role: Role;
  opdCode: string | null;
  disabledAt: string | null;
}

export interface CoreStore {
  // devices
  getDevice(id: string): Promise<DeviceRecord | null>;
  listDevices(opts?: { opdCode?: string }): Promise<DeviceRecord[]>;
  insertDevice(d: { id: string; siteCode: string; createdAt: string }): Promise<void>;
  setDeviceEnrolled(id: string, publicKeyPem: string, mqttSecretHash: string, at: string, brokerPasswordHash?: string | null): Promise<void>;
  /** Replaces a device's secret hash if it is still `from` (a scrypt hash upgraded after a successful check; secrets.ts hashDeviceSecret). */
  upgradeDeviceSecretHash(id: string, from: string, to: string): Promise<boolean>;
  setDeviceStatus(id: string, online: boolean, at: string): Promise<boolean>;
  /** Many status changes in one transaction (one fsync: a reconnect storm brings one per kiosk). Returns the ids that are registered. */
  setDeviceStatuses(rows: readonly { id: string; online: boolean; at: string }[]): Promise<string[]>;
  setDeviceHealth(id: string, backlog: number, oldestAt: string | null, at: string): Promise<boolean>;
  seqGaps(deviceId?: string, openOnly?: boolean): Promise<SeqGap[]>;
  /**
   * Takes a device out of service: sets disabledAt (kept if it was already disabled), the reason
   * and who did it. Returns the updated record, or null for an unknown id (nothing changed).
   */
  disableDevice(id: string, d: { at: string; reason: string; by: string }): Promise<DeviceRecord | null>;
  /** Clears disabledAt, reason and who. The updated record, or null for an unknown id. */
  enableDevice(id: string): Promise<DeviceRecord | null>;
  /** Ids of every disabled device (the embedded broker disconnects those still connected). */
  disabledDeviceIds(): Promise<string[]>;
  /** Per device: how many stored punches break the hash chain (only devices with any). */
  chainBreakCounts(): Promise<Map<string, number>>;
  // sites and roster
  getSite(code: string): Promise<SiteRecord | null>;
  activeStaffOfUnit(unitCode: string): Promise<{ nip: string; name: string }[]>;
  // enrolment tokens
  insertEnrolToken(t: Omit<EnrolTokenRecord, 'usedAt'>): Promise<void>;
  getEnrolToken(tokenHash: string): Promise<EnrolTokenRecord | null>;
  /** Marks a token used; false when someone else used it first (one-time even under races). */
  useEnrolToken(tokenHash: string, at: string): Promise<boolean>;
  // ingest
  ingestBatch(items: IngestItem[], rejections: RejectionRecord[]): Promise<IngestBatchResult>;
  recordRejections(rejections: RejectionRecord[]): Promise<void>;
  queryPunches(f: PunchFilter): Promise<PunchRow[]>;
  countPunches(f: PunchFilter): Promise<number>;
  // seq_conflict recovery (a kiosk whose journal was wiped)
  /** The device's kept `seq_conflict` punches, by seq then arrival. */
  punchConflicts(deviceId: string): Promise<PunchConflict[]>;
  /**
   * Stores kept conflicts of the device (all, or only `ids`) as punches with seq NULL, in one
   * transaction; idempotent by punch id. The punches table queues attendance re-derivation itself.
   */
  recoverConflicts(deviceId: string, ids: readonly string[] | null, by: string): Promise<RecoverResult>;
  // users and API tokens
  insertUser(u: { username: string; name: string; role: Role; opdCode: string | null; createdAt: string }): Promise<void>;
  getUser(username: string): Promise<UserRecord | null>;
  insertApiToken(t: { tokenHash: string; username: string; label: string | null; createdAt: string }): Promise<void>;
  /** The token's user and the token itself; records `at` as the token's last use (at most once a minute). */
  userByTokenHash(tokenHash: string, at: string): Promise<(UserRecord & { token: ApiTokenInfo }) | null>;
  /** Deletes one API token (an expired web session); false when it did not exist. */
  deleteApiToken(tokenHash: string): Promise<boolean>;
  opdExists(code: string): Promise<boolean>;
  /** The user's password hash (hash null: no password set), or null for an unknown user. */
  passwordHash(username: string): Promise<{ hash: string | null } | null>;
  setPasswordHash(username: string, hash: string): Promise<void>;
  /** Records `at` as the token's last use (always, unlike userByTokenHash). */
  touchApiToken(tokenHash: string, at: string): Promise<void>;
  /** Deletes a token only if it carries this label (logout of a web session); false when none. */
  deleteApiTokenLabelled(tokenHash: string, label: string): Promise<boolean>;
  /** Deletes the tokens with this label last used before one cut or created before the other; how many. */
  purgeApiTokens(label: string, lastUsedBefore: string, createdBefore: string): Promise<number>;
  /** OPDs by name: all, or the one with this code (none if unknown). */
  listOpds(code?: string | null): Promise<{ code: string; name: string }[]>;
  close(): Promise<void>;
}
