export * from './topics.js';
export * from './schemas.js';
export * from './signing.js';
export * from './ids.js';
export * from './decode.js';
export * from './update.js';
export * from './kiosk-api.js';
