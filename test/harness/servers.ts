// The server starters without vitest, for benchmarks and scripts that need real servers outside a test run.
export type { RedisCluster } from './cluster.js';
export { startCluster } from './cluster.js';
export type { RedisServer } from './redis.js';
export { ensureRedisServer, startRedis } from './redis.js';
export type { UpstashServer } from './upstash-server.js';
export { startUpstashServer } from './upstash-server.js';
