import { pino, type Logger } from 'pino';

/**
 * One logger (pino). JSON lines on stderr so stdout stays free for command output
 * (reports, JSON benchmark lines); journald captures stderr on the kiosk.
 * HADIR_LOG_LEVEL=debug|info|warn|error|silent (default info; tests default to warn).
 */
export type { Logger };

const defaultLevel = process.env.HADIR_LOG_LEVEL ?? (process.env.VITEST ? 'warn' : 'info');

export const rootLogger: Logger = pino(
  { level: defaultLevel, base: { pid: process.pid } },
  pino.destination({ fd: 2, sync: true }),
);

export function childLogger(component: string): Logger {
  return rootLogger.child({ component });
}
