#!/usr/bin/env node
// Entry point of the `hadir` command. A checkout runs its TypeScript sources through tsx's loader
// (no build step, nothing stale); a release and the offline mirror's app ship them compiled to
// JavaScript with no `.ts` left (lib/app-compile.ts), and run without tsx: faster start, less memory.
import { existsSync } from 'node:fs';

const fromSources = existsSync(new URL('../cli/main.ts', import.meta.url));
if (fromSources) (await import('tsx/esm/api')).register();
const { main } = await import(fromSources ? '../cli/main.ts' : '../cli/main.js');
await main(process.argv);
