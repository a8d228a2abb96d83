// What users write. The store SPI is `@periodkey/ratelimit/store`, the key and calendar grammar
// `@periodkey/ratelimit/keys`, the storage format `@periodkey/ratelimit/storage`.
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
export type { Period } from './keys/calendar.js';
export type { KeyIdentity, ParsedKey, RollingTag } from './keys/key.js';
export { isPeriodkeyKey, parseKey } from './keys/key.js';
export type { Identity } from './keys/keyspace.js';
export type { Algorithm, RuleObject, TimeUnit } from './keys/rule.js';
export { Ratelimit } from './limiter/ratelimit.js';
export type {
  DecisionEvent,
  FallbackEvent,
  IdentityList,
  LimitOptions,
  LimitOverrides,
  OperationEvent,
  RatelimitEvent,
  RatelimitOptions,
  RatelimitResult,
  RatelimitStats,
  ResultReason,
  RuleResult,
  StoreOperation,
} from './limiter/types.js';
export type { MemoryStoreOptions } from './stores/memory-store.js';
export { MemoryStore } from './stores/memory-store.js';
