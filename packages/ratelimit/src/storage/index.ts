// `@periodkey/ratelimit/storage`: what periodkey's keys hold, for tools that read or write them (the CLI).
export { MICRO } from '../amounts.js';
export type { RuleState, SlidingEntry } from './algorithms.js';
export { SLIDING_BUCKETS } from './algorithms.js';
export type { CounterAdd, RedisCommand } from './commands.js';
export { counterAmount, counterCommands, readCommand, storedValue } from './commands.js';
export type { RedisErrorKind } from './errors.js';
export { classifyRedisError, isRefusal } from './errors.js';
export type { StorageLayout, StoredValue, Usage, UsageContext } from './format.js';
export { algorithmOfKey, decodeState, storageLayout, storageLayouts, usageOf } from './format.js';
export { LIMIT_SCRIPT } from './script.js';
