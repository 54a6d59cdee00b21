/**
 * The only place that knows MQTT topic strings. Kiosk and hub build and parse topics here.
 * Layout: `{prefix}/kiosk/{deviceId}/{kind}` with prefix `hadir/v1` (tests use their own prefix
 * so runs on a shared broker never collide).
 */
export const DEFAULT_PREFIX = 'hadir/v1';

export const TOPIC_KINDS = ['punch', 'ack', 'status', 'health', 'config', 'cmd', 'cmdres'] as const;
export type TopicKind = (typeof TOPIC_KINDS)[number];

/** Shared-subscription group: several hub processes split the punch stream (MQTT 5 / Mosquitto 2). */
export const HUB_SHARE_GROUP = 'hadir-hub';

/** The shared-subscription filter for `filter`: `$share/{group}/{filter}` (MQTT 5 §4.8.2). */
export function sharedFilter(filter: string, group: string = HUB_SHARE_GROUP): string {
  return `$share/${group}/${filter}`;
}

/** Device ids are also MQTT usernames and topic levels: lowercase, digits, dash; no wildcards. */
export const DEVICE_ID_RE = /^[a-z0-9][a-z0-9-]{1,62}$/;

export class Topics {
  constructor(readonly prefix: string = DEFAULT_PREFIX) {}

  kiosk(deviceId: string, kind: TopicKind): string {
    if (!DEVICE_ID_RE.test(deviceId)) throw new Error(`invalid device id ${JSON.stringify(deviceId)}`);
    return `${this.prefix}/kiosk/${deviceId}/${kind}`;
  }
  punch(id: string) { return this.kiosk(id, 'punch'); }
  ack(id: string) { return this.kiosk(id, 'ack'); }
  status(id: string) { return this.kiosk(id, 'status'); }
  health(id: string) { return this.kiosk(id, 'health'); }
  config(id: string) { return this.kiosk(id, 'config'); }
  cmd(id: string) { return this.kiosk(id, 'cmd'); }
  cmdResult(id: string) { return this.kiosk(id, 'cmdres'); }

  /** Wildcard for the hub: every device's messages of one kind. */
  all(kind: TopicKind): string {
    return `${this.prefix}/kiosk/+/${kind}`;
  }

  /** Parses a topic; null when it is not ours (other prefix, unknown kind, bad device id). */
  parse(topic: string): { deviceId: string; kind: TopicKind } | null {
    if (!topic.startsWith(this.prefix + '/kiosk/')) return null;
    const rest = topic.slice(this.prefix.length + '/kiosk/'.length).split('/');
    if (rest.length !== 2) return null;
    const [deviceId, kind] = rest as [string, string];
    if (!DEVICE_ID_RE.test(deviceId)) return null;
    if (!(TOPIC_KINDS as readonly string[]).includes(kind)) return null;
    return { deviceId, kind: kind as TopicKind };
  }

  /** Topics a device may publish to (everything else is denied by the broker's authorizer). */
  devicePublishAllowed(deviceId: string, topic: string): boolean {
    const p = this.parse(topic);
    return !!p && p.deviceId === deviceId && ['punch', 'status', 'health', 'cmdres'].includes(p.kind);
  }

  /** Topics a device may subscribe to. */
  deviceSubscribeAllowed(deviceId: string, topic: string): boolean {
    const p = this.parse(topic);
    return !!p && p.deviceId === deviceId && ['ack', 'config', 'cmd'].includes(p.kind);
  }
}
