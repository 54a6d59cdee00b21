import type { KeyObject } from 'node:crypto';
import { MAX_PUNCH_BYTES, decodePayload, loadPublicKey, punchSchema, verifyPunch, type Punch, type Topics } from '../../protocol/index.js';
import type { DeviceRecord } from '../store/core-store.js';

/** Why a punch message is refused. Codes are metric labels and `rejections.code`. */
export type RejectCode =
  | 'malformed_json' | 'schema' | 'oversized' | 'wrong_topic' | 'unknown_device' | 'not_enrolled' | 'disabled' | 'bad_signature';

export type Checked =
  | { ok: true; punch: Punch; device: DeviceRecord }
  | { ok: false; code: RejectCode; reason: string; topicDeviceId: string | null; punchId: string | null };

/** Parsed public keys by PEM text: the key text is the cache key, so a re-enrolled device never hits a stale entry. */
export class KeyCache {
  private readonly keys = new Map<string, KeyObject>();
  get(pem: string): KeyObject {
    let k = this.keys.get(pem);
    if (!k) {
      if (this.keys.size > 100_000) this.keys.clear();
      k = loadPublicKey(pem);
      this.keys.set(pem, k);
    }
    return k;
  }
}

/**
 * Checks one punch message: topic → size/JSON/schema → topic device = punch device → device known,
 * enrolled, enabled → Ed25519 signature against the registered key. The device comes from
 * `lookup` (the store, asked on demand — a device added while the hub runs is seen at once).
 */
export async function checkPunchMessage(
  topics: Topics,
  topic: string,
  payload: Buffer,
  lookup: (id: string) => Promise<DeviceRecord | null>,
  keys: KeyCache,
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
  let key: KeyObject;
  try {
    key = keys.get(device.publicKeyPem);
  } catch {
    return fail('not_enrolled', `device ${t.deviceId} has an unreadable public key`, punch.id);
  }
  if (!verifyPunch(punch, key)) return fail('bad_signature', `signature of punch ${punch.id} (seq ${punch.seq}) does not verify with ${t.deviceId}'s key`, punch.id);
  return { ok: true, punch, device };
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
