import type { DeviceBatchOutcome, DeviceRecord, EnrolTokenRecord, IngestItem, PunchRow, RejectionRecord, UserRecord } from './core-store.js';
import type { Punch } from '../../protocol/index.js';
import type { Role } from '../module-contract.js';
import { camelRecord, type Row } from './rows.js';

/* Rows of the core tables as records, the same on SQLite and PostgreSQL (hub/store/*-core-store.ts). */

/** Rejection rows kept (the newest); older ones are deleted as new ones come. */
export const MAX_REJECTIONS = 10_000;

export function toDevice(r: Row): DeviceRecord {
  return {
    id: r.id as string,
    siteCode: r.site_code as string,
    publicKeyPem: (r.public_key_pem as string) ?? null,
    mqttSecretHash: (r.mqtt_secret_hash as string) ?? null,
    brokerPasswordHash: (r.broker_password_hash as string) ?? null,
    createdAt: r.created_at as string,
    enrolledAt: (r.enrolled_at as string) ?? null,
    disabledAt: (r.disabled_at as string) ?? null,
    disabledReason: (r.disabled_reason as string) ?? null,
    disabledBy: (r.disabled_by as string) ?? null,
    lastSeenAt: (r.last_seen_at as string) ?? null,
    online: r.online === 1,
    statusAt: (r.status_at as string) ?? null,
    contiguousSeq: r.contiguous_seq as number,
    maxSeq: r.max_seq as number,
    backlog: (r.backlog as number) ?? null,
    backlogOldestAt: (r.backlog_oldest_at as string) ?? null,
  };
}

export function toEnrolToken(r: Row): EnrolTokenRecord {
  return camelRecord<EnrolTokenRecord>(r, ['token_hash', 'device_id', 'site_code', 'created_at', 'expires_at', 'used_at']);
}

export function toPunch(r: Row): PunchRow {
  return {
    id: r.id as string,
    deviceId: (r.device_id as string) ?? null,
    seq: (r.seq as number) ?? null,
    nip: r.nip as string,
    method: r.method as string,
    capturedAt: r.captured_at as string,
    siteCode: (r.site_code as string) ?? null,
    clockSynced: r.clock_synced === 1,
    clockSource: (r.clock_source as string) ?? null,
    clockOffsetMs: (r.clock_offset_ms as number) ?? null,
    clockErrorMs: (r.clock_error_ms as number) ?? null,
    score: (r.score as number) ?? null,
    liveness: (r.liveness as number) ?? null,
    hasPhoto: r.has_photo === 1,
    receivedAt: r.received_at as string,
    reviewStatus: r.review_status as string,
    reviewReason: (r.review_reason as string) ?? null,
    chainBreak: r.chain_break === 1,
  };
}

/** The punches-table columns of a signed kiosk punch, in the order of punchRow. */
export const PUNCH_ROW_COLS = [
  'id', 'device_id', 'nip', 'method', 'captured_at', 'site_code', 'clock_synced', 'clock_source', 'clock_offset_ms', 'clock_error_ms', 'boot_id',
  'mono_ms', 'score', 'liveness', 'prev_hash', 'sig', 'has_photo', 'received_at', 'review_status', 'review_reason', 'hash', 'chain_break',
] as const;

/**
 * A signed kiosk punch as punches-table values in PUNCH_ROW_COLS order: SQLite ingest binds them
 * by position (once per punch; binding 22 named parameters cost measurably more, and so did the
 * object it needed).
 */
export function punchRow(p: Punch, siteCode: string | null, receivedAt: string, reviewReason: string | null = null, hash: string | null = null, chainBreak = 0): unknown[] {
  return [
    p.id, p.deviceId, p.nip, p.method, p.capturedAt, siteCode, p.clock.synced ? 1 : 0, p.clock.source, p.clock.offsetMs ?? null, p.clock.errorMs ?? null, p.clock.bootId,
    p.clock.monoMs, p.match.score, p.match.liveness ?? null, p.prevHash, p.sig, p.photo ? 1 : 0, receivedAt,
    // A punch from an unsynchronised clock, or with an implausible time, is kept but waits for an admin's review.
    p.clock.synced && !reviewReason ? 'none' : 'pending', reviewReason, hash, chainBreak,
  ];
}

/** The same as named columns, for recovery and PostgreSQL. */
export function punchColumns(p: Punch, siteCode: string | null, receivedAt: string, reviewReason: string | null = null) {
  const row = punchRow(p, siteCode, receivedAt, reviewReason);
  return Object.fromEntries(PUNCH_ROW_COLS.map((k, i) => [k, row[i]])) as Record<(typeof PUNCH_ROW_COLS)[number], unknown>;
}

export function toUser(r: Row): UserRecord {
  return {
    username: r.username as string,
    name: r.display_name as string,
    role: r.role as Role,
    opdCode: (r.opd_code as string) ?? null,
    disabledAt: (r.disabled_at as string) ?? null,
  };
}


export type Refusal = { code: 'replay_conflict' | 'seq_conflict'; reason: string };

/**
 * Why a punch whose key is already taken is not stored: null for a true duplicate (same id, same
 * device and signature: Ed25519 is deterministic, so same key + same content ⇔ same signature),
 * replay_conflict for the same id with other content, seq_conflict for its seq taken by another id.
 */
function refusalOf(p: Punch, existing: Row | undefined): Refusal | null {
  if (existing && existing.device_id === p.deviceId && existing.sig === p.sig) return null;
  if (existing) return { code: 'replay_conflict', reason: `id ${p.id} already stored with different content (seq ${existing.seq as number} from ${existing.device_id as string})` };
  return { code: 'seq_conflict', reason: `seq ${p.seq} of ${p.deviceId} is already stored under another id (kept: hadir device conflicts ${p.deviceId})` };
}

/**
 * The bookkeeping of an ingested punch the insert did not store, the same on every store: a true
 * duplicate is acked again (null is returned: the caller counts it); a refusal is acked as rejected
 * and recorded, and returned (the caller keeps a seq_conflict's punch whole for recovery).
 * `existing` is the stored row with the punch's id, if any (refusalOf).
 */
export function settleUnstored(out: DeviceBatchOutcome, it: IngestItem, existing: Row | undefined, rejections: RejectionRecord[]): Refusal | null {
  const p = it.punch;
  const refusal = refusalOf(p, existing);
  if (!refusal) {
    out.ids.push(p.id);
    return null;
  }
  out.rejected.push({ id: p.id, ...refusal });
  rejections.push({ at: it.receivedAt, deviceId: p.deviceId, topic: null, ...refusal, punchId: p.id });
  return refusal;
}
