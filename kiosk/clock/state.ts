/** The clock's synchronisation state as the trusted-time feature understands it. */
export interface ClockState {
  synced: boolean;
  /** chrony | timesyncd | system (neither answered). */
  source: 'chrony' | 'timesyncd' | 'system';
  /** System clock minus true time (ms): positive = the kiosk's clock is AHEAD. Unknown for timesyncd. */
  offsetMs?: number;
  stratum?: number;
  /** Upper bound of the clock error chrony reports (|offset| + root delay/2 + root dispersion), ms. */
  maxErrorMs?: number;
  /** Reference server name or address. */
  server?: string;
  /** Sources chrony can currently reach / configured. */
  sourcesReachable?: number;
  sourcesTotal?: number;
  /** One line for logs, health and the self-test. */
  detail: string;
}
