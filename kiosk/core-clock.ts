import { readFileSync } from 'node:fs';
import type { ComponentState } from '../protocol/index.js';
import { iso, systemClock, type Clock } from '../lib/clock.js';
import type { ClockService, ClockStamp } from './types.js';

/** Linux boot id: monotonic times are only comparable within one boot. */
export function readBootId(): string {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return 'unknown';
  }
}

/** CLOCK_MONOTONIC in ms (libuv's hrtime): time since boot, immune to wall-clock steps. */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint() / 1000n) / 1000;
}

/**
 * The basic clock until the trusted-time extension replaces it (ctx.setClock): the system wall
 * clock with unknown synchronisation — every punch says so (`synced: false, source: "system"`)
 * so the hub can hold it for review rather than trust it blindly.
 */
export class SystemClock implements ClockService {
  readonly component = 'clock';
  private readonly bootId = readBootId();

  constructor(private readonly now: Clock = systemClock) {}

  stamp(): ClockStamp {
    return { capturedAt: iso(this.now), synced: false, source: 'system', bootId: this.bootId, monoMs: monotonicMs() };
  }

  state(): ComponentState {
    return { state: 'degraded', detail: 'sinkronisasi waktu tidak diketahui / clock sync unknown' };
  }
}
