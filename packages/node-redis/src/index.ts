export type { NodeRedisClient, NodeRedisCluster, NodeRedisStandalone } from './store.js';
export { NodeRedisStore } from './store.js';
