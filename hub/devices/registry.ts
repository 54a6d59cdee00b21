import { z } from 'zod';
import { deviceIdSchema, loadPublicKey, type EnrolRequest } from '../../protocol/index.js';
import { UserError } from '../../lib/errors.js';
import type { CoreStore, DeviceRecord } from '../store/core-store.js';
import { hashDeviceSecret, mosquittoHash, randomSecret, sha256Hex } from '../secrets.js';

/**
 * Device registration and enrolment. A device is registered for a site (`hadir device add`), which
 * prints a one-time token; the kiosk (or provisioning script) trades the token and its freshly
 * made Ed25519 public key for its MQTT credentials at POST /api/v1/enrol.
 */
export const DEFAULT_TOKEN_TTL_MS = 24 * 3600_000;

export interface RegisterResult {
  device: DeviceRecord;
  token: string;
  expiresAt: string;
  reissued: boolean;
}

export async function registerDevice(
  store: CoreStore,
  opts: { siteCode: string; deviceId?: string; ttlMs?: number; now: Date },
): Promise<RegisterResult> {
  const site = await store.getSite(opts.siteCode);
  if (!site) throw new UserError(`site ${JSON.stringify(opts.siteCode)} does not exist / lokasi tidak dikenal`, 'import the organisation first: `hadir import org FILE.csv`, then use one of its site codes');
  const id = opts.deviceId ?? (await freeDeviceId(store, site.code));
  const idOk = deviceIdSchema.safeParse(id);
  if (!idOk.success) throw new UserError(`device id ${JSON.stringify(id)} is not valid`, 'use 2–63 characters of a-z, 0-9 and -, starting with a letter or digit');
  const at = opts.now.toISOString();
  let device = await store.getDevice(id);
  let reissued = false;
  if (device) {
    if (device.siteCode !== site.code) {
      throw new UserError(`device ${id} is already registered for site ${device.siteCode}`, 'choose another --id, or use the same --site to issue a new enrolment token');
    }
    reissued = true; // a replaced SD card re-enrols under the same id with a fresh token
  } else {
    await store.insertDevice({ id, siteCode: site.code, createdAt: at });
    device = (await store.getDevice(id))!;
  }
  const ttl = opts.ttlMs ?? DEFAULT_TOKEN_TTL_MS;
  if (!(ttl > 0)) throw new UserError('--ttl must be positive', 'e.g. --ttl 24h');
  const token = randomSecret(24);
  const expiresAt = new Date(opts.now.getTime() + ttl).toISOString();
  await store.insertEnrolToken({ tokenHash: sha256Hex(token), deviceId: id, siteCode: site.code, createdAt: at, expiresAt });
  return { device, token, expiresAt, reissued };
}

async function freeDeviceId(store: CoreStore, siteCode: string): Promise<string> {
  const base = `kiosk-${siteCode.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '')}`.slice(0, 56);
  for (let i = 1; i < 1000; i++) {
    const id = `${base}-${i}`;
    if (!(await store.getDevice(id))) return id;
  }
  throw new UserError(`no free device id for site ${siteCode}`, 'pass --id');
}


export interface EnrolEndpoints {
  hubUrl: string;
  mqttUrl: string;
  prefix: string;
}
export interface EnrolResponse {
  deviceId: string;
  siteCode: string;
  hubUrl: string;
  mqtt: { url: string; username: string; password: string; prefix: string };
}

/** Why an enrolment was refused, with the HTTP status that says it. */
export class EnrolError extends UserError {
  constructor(problem: string, fix: string, status: 400 | 401 | 403 | 409 | 410) {
    super(problem, fix, status);
  }
}

/** Trades a one-time token + public key for MQTT credentials. Token: unknown, used, expired or wrong device/site → refused. */
export async function enrolDevice(store: CoreStore, req: EnrolRequest, ends: EnrolEndpoints, now: Date): Promise<EnrolResponse> {
  const hash = sha256Hex(req.token);
  const t = await store.getEnrolToken(hash);
  if (!t) throw new EnrolError('unknown enrolment token / token tidak dikenal', 'ask the hub admin for a new token: `hadir device add`', 401);
  if (t.usedAt) throw new EnrolError(`enrolment token was already used at ${t.usedAt} / token sudah dipakai`, 'tokens are one-time: issue a new one with `hadir device add --id ' + t.deviceId + ' --site ' + t.siteCode + '`', 409);
  if (Date.parse(t.expiresAt) <= now.getTime()) throw new EnrolError(`enrolment token expired at ${t.expiresAt} / token kedaluwarsa`, 'issue a new one with `hadir device add --id ' + t.deviceId + ' --site ' + t.siteCode + '`', 410);
  if (req.deviceId && req.deviceId !== t.deviceId) throw new EnrolError(`this token is for device ${t.deviceId}, not ${req.deviceId}`, 'use the token issued for this device', 403);
  if (req.siteCode && req.siteCode !== t.siteCode) throw new EnrolError(`this token is for site ${t.siteCode}, not ${req.siteCode}`, 'use the token issued for this site', 403);
  try {
    loadPublicKey(req.publicKeyPem);
  } catch (e) {
    throw new EnrolError(`publicKeyPem is not an Ed25519 public key: ${(e as Error).message}`, 'send the SPKI PEM from generateDeviceKeys()', 400);
  }
  const device = await store.getDevice(t.deviceId);
  if (!device) throw new EnrolError(`device ${t.deviceId} no longer exists`, 'register it again with `hadir device add`', 410);
  if (device.disabledAt) throw new EnrolError(`device ${t.deviceId} is disabled`, 'ask the hub admin to re-enable it', 403);
  if (device.siteCode !== t.siteCode) throw new EnrolError(`device ${t.deviceId} moved to site ${device.siteCode} after this token was issued`, 'issue a new token', 403);
  if (!(await store.useEnrolToken(hash, now.toISOString()))) {
    throw new EnrolError('enrolment token was already used / token sudah dipakai', 'issue a new token with `hadir device add`', 409);
  }
  const password = randomSecret(24);
  await store.setDeviceEnrolled(device.id, req.publicKeyPem, hashDeviceSecret(password), now.toISOString(), mosquittoHash(password));
  return {
    deviceId: device.id,
    siteCode: device.siteCode,
    hubUrl: ends.hubUrl,
    mqtt: { url: ends.mqttUrl, username: device.id, password, prefix: ends.prefix },
  };
}

/** `24h`, `90m`, `7d`, `3600s` or plain seconds → ms. */
export function parseTtl(s: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([smhd]?)$/.exec(s.trim());
  if (!m) throw new UserError(`--ttl ${JSON.stringify(s)} is not a duration`, 'use e.g. 24h, 90m, 7d');
  const mult = { '': 1000, s: 1000, m: 60_000, h: 3600_000, d: 86_400_000 }[m[2] as '' | 's' | 'm' | 'h' | 'd'];
  return Number(m[1]) * mult;
}

/**
 * Mosquitto password_file and ACL for an external broker: every enrolled, enabled device (username
 * = device id) and the hub's own user. The ACL lets a kiosk write only its own punch/status/health/
 * cmdres and read only its own ack/config/cmd (the same rules as the embedded broker).
 */
export async function brokerAuthFiles(
  store: CoreStore,
  o: { prefix: string; hubUser: string; hubPassword: string },
): Promise<{ passwd: string; acl: string; included: string[]; missing: string[] }> {
  const lines = [`${o.hubUser}:${mosquittoHash(o.hubPassword)}`];
  const included: string[] = [];
  const missing: string[] = [];
  for (const d of await store.listDevices()) {
    if (!d.enrolledAt || d.disabledAt) continue;
    if (!d.brokerPasswordHash) {
      missing.push(d.id);
      continue;
    }
    lines.push(`${d.id}:${d.brokerPasswordHash}`);
    included.push(d.id);
  }
  const p = o.prefix;
  const acl = [
    '# Generated by `hadir device broker-passwd` — Hadir ACL for Mosquitto (%u = username = device id)',
    `user ${o.hubUser}`,
    `topic readwrite ${p}/#`,
    '',
    ...['punch', 'status', 'health', 'cmdres'].map((k) => `pattern write ${p}/kiosk/%u/${k}`),
    ...['ack', 'config', 'cmd'].map((k) => `pattern read ${p}/kiosk/%u/${k}`),
    '',
  ].join('\n');
  return { passwd: lines.join('\n') + '\n', acl, included, missing };
}
