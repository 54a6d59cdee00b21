import type { CoreStore, DeviceRecord } from '../store/core-store.js';
import { hashDeviceSecret, isSlowHash, verifyPassword } from '../secrets.js';

/**
 * Checks a device's MQTT/HTTP secret (broker login and kiosk HTTP Basic). A device enrolled before
 * the fast device hash (scrypt) pays one scrypt here, once: on success its hash is replaced by
 * hashDeviceSecret, so its later logins — above all the reconnect storm after a hub restart — cost
 * microseconds (issue 16).
 */
export async function checkDeviceSecret(store: CoreStore, d: Pick<DeviceRecord, 'id' | 'mqttSecretHash'>, secret: string): Promise<boolean> {
  const stored = d.mqttSecretHash;
  if (!stored || !(await verifyPassword(secret, stored))) return false;
  if (isSlowHash(stored)) await store.upgradeDeviceSecretHash(d.id, stored, hashDeviceSecret(secret));
  return true;
}
