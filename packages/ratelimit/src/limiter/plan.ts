// internal: what one call is about: each rule with its key, its period and the limit that applies to it.
import { checkKeys, describeValue } from '../_options.js';
import { limitInMicro, MICRO } from '../amounts.js';
import { InvalidOptionError } from '../errors.js';
import type { Period } from '../keys/calendar.js';
import { keyExpiry } from '../keys/key.js';
import type { RuleKey } from '../keys/keyspace.js';
import type { StoreRule } from '../store.js';
import type { LimitOverrides } from './types.js';

/** One rule of one call. */
export interface PlannedRule {
  readonly name: string;
  /** The window the result reports (ms): the current period's length for a calendar rule. */
  readonly windowMs: number;
  readonly period: Period | null;
  /** The rule as the store evaluates it: its key, and its limit in millionths. */
  readonly store: StoreRule;
}

/** Every rule of one call, in the order of the limiter's rules. */
export type Plan = readonly PlannedRule[];

/**
 * The plan of one call from its keys, with the identity's limit overrides (plan tiers) in place of the
 * configured limits where they name a rule.
 */
export function planOf(keys: readonly RuleKey[], overrides: LimitOverrides | undefined): PlannedRule[] {
  return keys.map(({ rule, key, period }) => {
    const override =
      overrides !== undefined && Object.hasOwn(overrides, rule.name) ? overrides[rule.name] : undefined;
    return {
      name: rule.name,
      windowMs: period === null ? rule.durationMs : period.end - period.start,
      period,
      store: {
        key,
        algorithm: rule.algorithm,
        // A rule's own limit was checked by parseRule(); an override is checked here.
        limit:
          override === undefined
            ? Math.round(rule.limit * MICRO)
            : limitInMicro(override, `the limit override for rule "${rule.name}"`),
        windowMs: rule.durationMs,
        resetAt: period?.end ?? 0,
        expireAt: period === null ? 0 : keyExpiry(period),
      },
    };
  });
}

/** The rules as a store request carries them. */
export function storeRules(plan: Plan): StoreRule[] {
  return plan.map((rule) => rule.store);
}

/**
 * Checks limit overrides: a plain object naming rules of this limiter, by own keys only (a rule may be
 * named `constructor`).
 * @throws {InvalidOptionError} for anything else, naming the nearest rule for a typo.
 */
export function checkOverrides(overrides: LimitOverrides, ruleNames: readonly string[]): LimitOverrides {
  const proto = typeof overrides === 'object' && overrides !== null ? Object.getPrototypeOf(overrides) : 0;
  if (proto !== Object.prototype && proto !== null) {
    throw new InvalidOptionError(
      `limits must be a plain object of limits by rule name, e.g. { monthly: 100 }, got ${describeValue(overrides)}`,
    );
  }
  checkKeys(overrides, ruleNames, 'rule in limits:');
  return overrides;
}
