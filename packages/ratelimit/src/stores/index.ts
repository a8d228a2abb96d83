// `@periodkey/ratelimit/store`: the store SPI, for adapters of a Redis client or of another backend.
export type { RuleOutcome, Store, StoreCapabilities, StoreRequest, StoreRule } from '../store.js';
export type { HealthOptions, HealthProbe, StoreHealth } from './health.js';
export { checkHealth, defaultHealthKey } from './health.js';
export type { RedisTarget } from './redis-url.js';
export { parseRedisUrl } from './redis-url.js';
export type { ScriptClient } from './script-store.js';
export { ScriptStore } from './script-store.js';
