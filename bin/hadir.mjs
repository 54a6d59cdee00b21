#!/usr/bin/env node
// Entry point of the `hadir` command. The sources are TypeScript run through tsx's loader,
// so a checkout works after `npm ci` with no build step (the same files run on the kiosk).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../cli/main.ts');
await main(process.argv);
