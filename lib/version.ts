import { readFileSync } from 'node:fs';

/**
 * The version of this app tree (package.json): what the hub reports in /healthz and the OpenAPI
 * document, compares with a release's minHubVersion, and what a kiosk reports and records at start.
 * Read once; `0.0.0` when package.json cannot be read (a broken tree still starts and says so).
 */
export const APP_VERSION: string = (() => {
  try {
    return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return '0.0.0';
  }
})();
