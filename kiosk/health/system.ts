import { readFile, statfs } from 'node:fs/promises';
import { loadavg, networkInterfaces } from 'node:os';
import { join } from 'node:path';
import type { Health } from '../../protocol/index.js';
import type { CommandRunner } from '../clock/probe.js';

/**
 * System metrics of the kiosk: parsers (pure, tested on captured /proc and vcgencmd output) and
 * one collector that reads them. Every metric is optional: a board without a thermal zone or
 * Wi-Fi simply leaves the field out.
 */

export function parseMeminfo(text: string): { totalMb: number; availableMb: number } | null {
  const kb = (key: string) => {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text);
    return m ? Number(m[1]) : null;
  };
  const total = kb('MemTotal');
  const avail = kb('MemAvailable') ?? kb('MemFree');
  if (total === null || avail === null) return null;
  return { totalMb: Math.round(total / 1024), availableMb: Math.round(avail / 1024) };
}

/** The interface of the default route from /proc/net/route (destination 00000000, lowest metric). */
export function parseDefaultRouteIface(text: string): string | null {
  let best: { iface: string; metric: number } | null = null;
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8 || f[1] !== '00000000') continue;
    const flags = parseInt(f[3]!, 16);
    if (!(flags & 1)) continue; // RTF_UP
    const metric = Number(f[6]);
    if (!best || metric < best.metric) best = { iface: f[0]!, metric };
  }
  return best?.iface ?? null;
}

/** Signal level (dBm) per interface from /proc/net/wireless. */
export function parseWireless(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n').slice(2)) {
    const m = /^\s*([^:\s]+):\s+\S+\s+(-?[\d.]+)\.?\s+(-?[\d.]+)\.?/.exec(line);
    if (m) out[m[1]!] = Math.round(Number(m[3]));
  }
  return out;
}

/** `vcgencmd get_throttled` → "0x50005"; also accepts the bare hex of /sys …/get_throttled. */
export function parseThrottled(text: string): string | null {
  const m = /(?:throttled=)?(0x[0-9a-f]+|[0-9a-f]+)\s*$/i.exec(text.trim());
  if (!m) return null;
  const v = m[1]!.toLowerCase();
  return v.startsWith('0x') ? v : `0x${v}`;
}

const THROTTLE_BITS: [number, string][] = [
  [0, 'under-voltage'],
  [1, 'arm-freq-capped'],
  [2, 'throttled'],
  [3, 'soft-temp-limit'],
  [16, 'under-voltage-occurred'],
  [17, 'arm-freq-capped-occurred'],
  [18, 'throttled-occurred'],
  [19, 'soft-temp-limit-occurred'],
];
/** Names of the set bits (Raspberry Pi firmware get_throttled). Bits 0–3 are "now", 16–19 "since boot". */
export function decodeThrottled(hex: string): string[] {
  const v = parseInt(hex, 16);
  return THROTTLE_BITS.filter(([bit]) => v & (1 << bit)).map(([, name]) => name);
}

export function parseThermal(text: string): number | null {
  const v = Number(text.trim());
  return Number.isFinite(v) ? Math.round(v / 100) / 10 : null; // millidegrees → 0.1 °C
}

export interface SystemSample {
  system: NonNullable<Health['system']>;
  network: NonNullable<Health['network']>;
}

export interface CollectDeps {
  sysRoot: string;
  vcgencmd: string;
  diskPath: string;
  run: CommandRunner;
}

async function readText(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return null;
  }
}

export async function collectSystem(d: CollectDeps): Promise<SystemSample> {
  const p = (rel: string) => join(d.sysRoot, rel);
  const system: SystemSample['system'] = {};
  const network: SystemSample['network'] = {};

  const thermal = await readText(p('sys/class/thermal/thermal_zone0/temp'));
  const temp = thermal ? parseThermal(thermal) : null;
  if (temp !== null) system.cpuTempC = temp;

  let throttled: string | null = null;
  try {
    throttled = parseThrottled(await d.run(d.vcgencmd, ['get_throttled']));
  } catch {
    const sysThrottled = await readText(p('sys/devices/platform/soc/soc:firmware/get_throttled'));
    throttled = sysThrottled ? parseThrottled(sysThrottled) : null;
  }
  if (throttled) system.throttled = throttled;

  system.load1 = Math.round(loadavg()[0]! * 100) / 100;
  const mem = await readText(p('proc/meminfo'));
  const m = mem ? parseMeminfo(mem) : null;
  if (m) {
    system.memFreeMb = m.availableMb;
    system.memTotalMb = m.totalMb;
  }
  try {
    const s = await statfs(d.diskPath);
    system.diskFreeMb = Math.round((s.bavail * s.bsize) / 1048576);
    system.diskFreePct = Math.round((s.bavail / s.blocks) * 1000) / 10;
  } catch {}
  system.rssMb = Math.round(process.memoryUsage().rss / 1048576);

  const route = await readText(p('proc/net/route'));
  const iface = route ? parseDefaultRouteIface(route) : null;
  if (iface) {
    network.iface = iface;
    const addr = (networkInterfaces()[iface] ?? []).find((a) => a.family === 'IPv4') ?? (networkInterfaces()[iface] ?? [])[0];
    if (addr) network.ip = addr.address;
    const wl = await readText(p('proc/net/wireless'));
    const rssi = wl ? parseWireless(wl)[iface] : undefined;
    if (rssi !== undefined) network.rssiDbm = rssi;
  }
  return { system, network };
}
