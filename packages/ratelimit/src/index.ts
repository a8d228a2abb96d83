export { RATELIMIT_OPTION_NAMES } from './_config.js';
export { checkKeys as checkOptionKeys } from './_options.js';
export type { RuleState, SlidingEntry } from './algorithms.js';
export { SLIDING_BUCKETS } from './algorithms.js';
export { MICRO as MICRO_UNITS } from './amounts.js';
export type { Period, PeriodSpec } from './calendar.js';
export { assertTimeZone, nextPeriod, PeriodClock, parsePeriodId, periodAt } from './calendar.js';
export {
  InvalidKeyPartError,
  InvalidOptionError,
  InvalidRuleError,
  InvalidTimeZoneError,
  isInvalidKeyPartError,
  isInvalidOptionError,
  isInvalidRuleError,
  isInvalidTimeZoneError,
  isPeriodkeyError,
  isStoreRefusedError,
  isStoreUnavailableError,
  PeriodkeyError,
  StoreRefusedError,
  StoreUnavailableError,
} from './errors.js';
export type {
  DecisionEvent,
  FallbackEvent,
  OperationEvent,
  RatelimitEvent,
  RatelimitStats,
  StoreOperation,
} from './events.js';
export type { HealthOptions, HealthProbe, StoreHealth } from './health.js';
export { checkHealth, defaultHealthKey } from './health.js';
export type {
  Identity,
  KeyIdentity,
  KeyParts,
  KeyspaceOptions,
  ParsedKey,
  RollingTag,
  RuleKey,
} from './keys.js';
export { buildKey, isPeriodkeyKey, Keyspace, keyExpiry, parseKey } from './keys.js';
export type { MemoryStoreOptions } from './memory-store.js';
export { MemoryStore } from './memory-store.js';
export type {
  IdentityList,
  LimitOptions,
  LimitOverrides,
  RatelimitOptions,
  RatelimitResult,
  ResultReason,
  RuleResult,
} from './ratelimit.js';
export { Ratelimit } from './ratelimit.js';
export type { Algorithm, Rule, RuleObject, TimeUnit } from './rule.js';
export { parseRule } from './rule.js';
export { LIMIT_SCRIPT } from './script.js';
export type { ScriptClient } from './script-store.js';
export { ScriptStore } from './script-store.js';
export type { StorageLayout, StoredValue, Usage, UsageContext } from './storage.js';
export {
  algorithmOfKey,
  decodeState,
  storageLayout,
  usageOf,
} from './storage.js';
export type { RuleOutcome, Store, StoreRequest, StoreRule } from './store.js';
