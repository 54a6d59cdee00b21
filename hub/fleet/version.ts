import { readFileSync } from 'node:fs';

/** This hub's version (package.json), compared with a release's minHubVersion. */
export const HUB_VERSION_FOR_FLEET: string = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
