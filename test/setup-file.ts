import { afterAll } from 'vitest';
import { removeTmpDirs } from './tmp.js';

// Registered before the file's own hooks, so it runs after them (vitest runs after-hooks as a stack).
afterAll(removeTmpDirs);
