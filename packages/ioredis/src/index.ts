export type { FromUrlOptions, IORedisClient } from './store.js';
export { IORedisStore } from './store.js';
