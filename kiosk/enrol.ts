import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { KIOSK_API, enrolReplySchema, generateDeviceKeys, type EnrolReply, type EnrolRequest } from '../protocol/index.js';
import { UserError } from '../lib/errors.js';
import { formatIssues } from '../lib/config-file.js';
import { writeFileAtomic } from '../lib/write-atomic.js';
import { kioskConfigSchema, type KioskConfig } from './config.js';
import { HubClient, HubError } from './hub-client.js';


export interface EnrolOptions {
  hubUrl: string;
  token: string;
  out: string;
  /** Kiosk data dir written into the config (default /var/lib/hadir). */
  dataDir?: string;
  timeoutMs?: number;
}

/**
 * Enrols this device with the hub: makes the Ed25519 key pair HERE (the private key never leaves
 * the device), sends the public key with the one-time token, and writes the kiosk config
 * (validated, mode 0600, atomically: a crash leaves no half-written file).
 */
export async function enrolKiosk(o: EnrolOptions): Promise<KioskConfig> {
  let base: URL;
  try {
    base = new URL(o.hubUrl);
  } catch {
    throw new UserError(`--hub ${JSON.stringify(o.hubUrl)} is not a URL`, 'use e.g. --hub http://10.0.0.5:8080');
  }
  if (!existsSync(dirname(o.out) || '.')) throw new UserError(`directory of --out ${o.out} does not exist`, 'create it first (e.g. mkdir -p /etc/hadir)');
  const keys = generateDeviceKeys();
  const hub = new HubClient({ hubUrl: base.origin, timeoutMs: o.timeoutMs ?? 20_000 });
  let r: EnrolReply;
  try {
    r = await hub.post(KIOSK_API.enrol, { token: o.token.trim(), publicKeyPem: keys.publicKeyPem } satisfies EnrolRequest, enrolReplySchema, { auth: false });
  } catch (e) {
    if (!(e instanceof HubError)) throw e;
    if (e.kind === 'unreachable') throw new UserError(`cannot reach the hub at ${base.origin} (${e.reason}) / hub tidak dapat dihubungi`, 'check the network and --hub URL, then run the command again (the token is still unused)');
    if (e.kind === 'refused') throw new UserError(`the hub refused enrolment (HTTP ${e.status}): ${e.reason || 'no reason given'}`, 'ask the hub admin for a new token (`hadir device add --site …`)');
    throw new UserError(`the hub's enrolment answer is not understood: ${e.reason}`, 'update the kiosk software to the hub version');
  }
  const config = kioskConfigSchema.safeParse({
    deviceId: r.deviceId,
    siteCode: r.siteCode,
    hubUrl: r.hubUrl || base.origin,
    ...(o.dataDir ? { dataDir: o.dataDir } : {}),
    mqtt: r.mqtt,
    privateKeyPem: keys.privateKeyPem,
  });
  if (!config.success) throw new UserError(`the kiosk config made from the hub's answer is invalid: ${formatIssues(config.error)}`, 'check the hub settings (--public-url, --public-mqtt-url)');
  // Only the fields we set are written; defaults stay implicit so later versions can change them.
  const doc = {
    deviceId: r.deviceId,
    siteCode: r.siteCode,
    hubUrl: config.data.hubUrl,
    ...(o.dataDir ? { dataDir: o.dataDir } : {}),
    mqtt: r.mqtt,
    privateKeyPem: keys.privateKeyPem,
  };
  writeFileAtomic(o.out, JSON.stringify(doc, null, 2) + '\n', 0o600);
  return config.data;
}
