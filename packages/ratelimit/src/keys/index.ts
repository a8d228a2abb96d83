// `@periodkey/ratelimit/keys`: the key grammar, the rule grammar and the calendar, as KEYS.md defines them.
export type { Period, PeriodSpec } from './calendar.js';
export { assertTimeZone, nextPeriod, PeriodClock, parsePeriodId, periodAt } from './calendar.js';
export type { KeyIdentity, KeyParts, ParsedKey, RollingTag } from './key.js';
export { buildKey, isPeriodkeyKey, keyExpiry, parseKey } from './key.js';
export type { Identity, KeyspaceOptions, RuleKey } from './keyspace.js';
export { Keyspace } from './keyspace.js';
export type { Algorithm, Rule, RuleObject, TimeUnit } from './rule.js';
export { parseRule } from './rule.js';
