import type { ClockState } from './state.js';

/**
 * systemd-timesyncd, the fallback when chrony is not installed: `timedatectl show`
 * (NTP / NTPSynchronized), `timedatectl show-timesync` (server, NTPMessage stratum) and the flag
 * file /run/systemd/timesync/synchronized. timesyncd exposes no offset estimate, so offsetMs stays
 * unknown.
 */

export class TimesyncdParseError extends Error {
  override readonly name = 'TimesyncdParseError';
}

/** `Key=Value` lines (systemd's --property output). Values keep everything after the first '='. */
export function parseKeyValue(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    if (!line) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) throw new TimesyncdParseError(`timedatectl: line without Key=Value: ${JSON.stringify(line.slice(0, 80))}`);
    out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}

function yesNo(v: string | undefined, key: string): boolean {
  if (v === 'yes') return true;
  if (v === 'no') return false;
  throw new TimesyncdParseError(`timedatectl show: ${key} must be yes|no, got ${JSON.stringify(v)}`);
}

export interface TimedatectlShow {
  timezone: string;
  ntpEnabled: boolean;
  ntpSynchronized: boolean;
  canNtp: boolean;
}

export function parseTimedatectlShow(text: string): TimedatectlShow {
  const kv = parseKeyValue(text);
  return {
    timezone: kv.Timezone ?? '',
    ntpEnabled: yesNo(kv.NTP, 'NTP'),
    ntpSynchronized: yesNo(kv.NTPSynchronized, 'NTPSynchronized'),
    canNtp: kv.CanNTP === undefined ? true : yesNo(kv.CanNTP, 'CanNTP'),
  };
}

export interface TimesyncStatus {
  serverName?: string;
  serverAddress?: string;
  stratum?: number;
  leap?: number;
}

export function parseShowTimesync(text: string): TimesyncStatus {
  const kv = parseKeyValue(text);
  const out: TimesyncStatus = {};
  if (kv.ServerName) out.serverName = kv.ServerName;
  if (kv.ServerAddress) out.serverAddress = kv.ServerAddress;
  const msg = kv.NTPMessage;
  if (msg) {
    const stratum = /(?:^|[{,]\s*)Stratum=(\d+)/.exec(msg);
    const leap = /(?:^|[{,]\s*)Leap=(\d+)/.exec(msg);
    if (stratum) out.stratum = Number(stratum[1]);
    if (leap) out.leap = Number(leap[1]);
  }
  return out;
}

export function timesyncdClockState(show: TimedatectlShow, status: TimesyncStatus | null, flagFileExists: boolean): ClockState {
  const server = status?.serverName ?? status?.serverAddress;
  const base = { source: 'timesyncd' as const, ...(server ? { server } : {}), ...(status?.stratum ? { stratum: status.stratum } : {}) };
  if (!show.ntpEnabled) return { ...base, synced: false, detail: 'NTP dimatikan / NTP is disabled (timedatectl set-ntp true)' };
  // leap 3 = "alarm, not synchronised" in the NTP message
  if ((show.ntpSynchronized || flagFileExists) && status?.leap !== 3) {
    return { ...base, synced: true, detail: `timesyncd sinkron / synced${server ? ` to ${server}` : ''}` };
  }
  return { ...base, synced: false, detail: `timesyncd belum sinkron / not synchronised${server ? ` (server ${server})` : ''}` };
}
