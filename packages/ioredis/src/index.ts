export type { IORedisClient } from './store.js';
export { IORedisStore } from './store.js';
