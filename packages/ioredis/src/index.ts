export type { FromUrlOptions, IORedisClient, IORedisCommands } from './store.js';
export { IORedisStore } from './store.js';
