import { MAX_PUNCH_BYTES, decodePayload, punchSchema, type Punch, type Topics } from '../../protocol/index.js';
import type { Verifier, VerifyItem } from './verify-pool.js';
import type { DeviceRecord } from '../store/core-store.js';

/** Why a punch message is refused. Codes are metric labels and `rejections.code`. */
export type RejectCode =
  | 'malformed_json' | 'schema' | 'oversized' | 'wrong_topic' | 'unknown_device' | 'not_enrolled' | 'disabled' | 'bad_signature';

export type Checked =
  | { ok: true; punch: Punch; device: DeviceRecord }
  | { ok: false; code: RejectCode; reason: string; topicDeviceId: string | null; punchId: string | null };

/**
 * Checks one punch message up to its signature: topic → size/JSON/schema → topic device = punch
 * device → device known, enabled, enrolled. The device comes from `lookup` (the store, asked on
 * demand — a device added while the hub runs is seen at once). The signature is checked in bulk
 * afterwards (`signatureInput` + a Verifier), so a batch's Ed25519 work can run on worker threads.
 */
export async function precheckPunchMessage(
  topics: Topics,
  topic: string,
  payload: Buffer,
  lookup: (id: string) => Promise<DeviceRecord | null>,
): Promise<Checked> {
  const t = topics.parse(topic);
  const fail = (code: RejectCode, reason: string, punchId: string | null = null): Checked => ({ ok: false, code, reason, topicDeviceId: t?.deviceId ?? null, punchId });
  if (!t || t.kind !== 'punch') return fail('wrong_topic', `topic ${topic} is not {prefix}/kiosk/{deviceId}/punch`);
  const d = decodePayload(punchSchema, payload, MAX_PUNCH_BYTES);
  if (!d.ok) return fail((d.code ?? 'schema') as RejectCode, d.reason, idOf(payload));
  const punch = d.value;
  if (punch.deviceId !== t.deviceId) return fail('wrong_topic', `punch of device ${punch.deviceId} published under ${t.deviceId}'s topic`, punch.id);
  const device = await lookup(t.deviceId);
  if (!device) return fail('unknown_device', `device ${t.deviceId} is not registered`, punch.id);
  if (device.disabledAt) return fail('disabled', `device ${t.deviceId} is disabled since ${device.disabledAt}`, punch.id);
  if (!device.publicKeyPem) return fail('not_enrolled', `device ${t.deviceId} has no enrolled key`, punch.id);
  return { ok: true, punch, device };
}

/**
 * What the verifier needs: the message text (schema-checked: strict, no transforms, so it holds
 * exactly the punch's fields) and the device key. The verifier canonicalises and checks `sig`.
 */
export function signatureInput(payload: Buffer, publicKeyPem: string): VerifyItem {
  return { json: payload.toString('utf8'), pem: publicKeyPem };
}

export function badSignature(punch: Punch, deviceId: string): Checked {
  return { ok: false, code: 'bad_signature', reason: `signature of punch ${punch.id} (seq ${punch.seq}) does not verify with ${deviceId}'s key`, topicDeviceId: deviceId, punchId: punch.id };
}

/** The whole check for one message (precheck + signature). */
export async function checkPunchMessage(
  topics: Topics,
  topic: string,
  payload: Buffer,
  lookup: (id: string) => Promise<DeviceRecord | null>,
  verifier: Verifier,
): Promise<Checked> {
  const c = await precheckPunchMessage(topics, topic, payload, lookup);
  if (!c.ok) return c;
  const [ok] = await verifier.verifyMany([signatureInput(payload, c.device.publicKeyPem!)]);
  return ok ? c : badSignature(c.punch, c.device.id);
}

/** Best effort: the `id` of a message that failed the schema, so the kiosk can be told which one. */
function idOf(payload: Buffer): string | null {
  if (payload.length > 1_000_000) return null;
  try {
    const v = JSON.parse(payload.toString('utf8')) as { id?: unknown };
    return typeof v?.id === 'string' && v.id.length <= 64 ? v.id : null;
  } catch {
    return null;
  }
}
