import { APP_VERSION } from '../../lib/version.js';

/** This hub's version (package.json), compared with a release's minHubVersion. */
export const HUB_VERSION_FOR_FLEET: string = APP_VERSION;
