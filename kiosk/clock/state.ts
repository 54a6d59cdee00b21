/** The clock's synchronisation state as the trusted-time feature understands it. */
export interface ClockState {
  synced: boolean;
  /** chrony | timesyncd | hub (round trips to the hub over HTTP) | system (nothing answered). */
  source: 'chrony' | 'timesyncd' | 'hub' | 'system';
  /** System clock minus true time (ms): positive = the kiosk's clock is AHEAD. Unknown for timesyncd. */
  offsetMs?: number;
  stratum?: number;
  /** Upper bound of the clock error chrony reports (|offset| + root delay/2 + root dispersion), ms. */
  maxErrorMs?: number;
  /** Monotonic ms when offsetMs/maxErrorMs were measured (source hub: the bound ages from here). */
  atMonoMs?: number;
  /** Reference server name or address. */
  server?: string;
  /** Sources chrony can currently reach / configured. */
  sourcesReachable?: number;
  sourcesTotal?: number;
  /** One line for logs, health and the self-test. */
  detail: string;
}
