// `@periodkey/ratelimit/storage`: what periodkey's keys hold, for tools that read or write them (the CLI).
export { MICRO } from '../amounts.js';
export type { RuleState, SlidingEntry } from './algorithms.js';
export { SLIDING_BUCKETS } from './algorithms.js';
export type { StorageLayout, StoredValue, Usage, UsageContext } from './format.js';
export { algorithmOfKey, decodeState, storageLayout, usageOf } from './format.js';
export { LIMIT_SCRIPT } from './script.js';
