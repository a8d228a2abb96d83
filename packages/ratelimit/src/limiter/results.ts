// internal: a call's result, from the store's outcomes or made up where no store counted.
import { MICRO } from '../amounts.js';
import type { RuleOutcome } from '../store.js';
import type { Plan, PlannedRule } from './plan.js';
import type { RatelimitResult, ResultReason, RuleResult } from './types.js';

/** A result, and when a denied call could pass again. */
export interface Summary {
  readonly result: RatelimitResult;
  /** When denied, the instant the binding rule lets the same call pass (epoch ms). */
  readonly retryAt: number;
}

/** The result of a store's answer (the primary's or the fallback's). */
export function summarize(
  plan: Plan,
  outcomes: readonly RuleOutcome[],
  now: number,
  reason: ResultReason,
): Summary {
  let success = true;
  let binding = 0;
  let retryAt = 0;
  const results = outcomes.map((outcome, i): RuleResult => {
    if (!outcome.allowed) {
      success = false;
      if (outcome.retryAt > retryAt) [retryAt, binding] = [outcome.retryAt, i];
    }
    const rule = plan[i] as PlannedRule;
    const { limit } = rule.store;
    return {
      rule: rule.name,
      success: outcome.allowed,
      limit: limit / MICRO,
      used: outcome.used / MICRO,
      remaining: Math.max(0, limit - outcome.used) / MICRO,
      reset: outcome.reset,
      windowMs: rule.windowMs,
      period: rule.period,
    };
  });
  if (success) {
    // The binding rule of a pass: the fewest units left; of equals, the one that resets last.
    for (let i = 1; i < results.length; i++) {
      const [r, b] = [results[i] as RuleResult, results[binding] as RuleResult];
      if (r.remaining < b.remaining || (r.remaining === b.remaining && r.reset > b.reset)) binding = i;
    }
  }
  const retryAfter = success ? undefined : Math.max(1, Math.ceil((retryAt - now) / 1000));
  return { result: resultOf(success, results, binding, reason, retryAfter, now), retryAt };
}

/**
 * A result no store counted (the lists, the failure policy, a cost above a limit): every rule reported
 * full or empty, `binding` the rule the result names.
 */
export function uncounted(
  success: boolean,
  plan: Plan,
  now: number,
  reason: ResultReason,
  binding = 0,
): RatelimitResult {
  const results = plan.map(
    (rule): RuleResult => ({
      rule: rule.name,
      success,
      limit: rule.store.limit / MICRO,
      used: 0,
      remaining: success ? rule.store.limit / MICRO : 0,
      reset: now,
      windowMs: rule.windowMs,
      period: rule.period,
    }),
  );
  const retryAfter = success ? undefined : retryAfterUncounted(reason, plan);
  return resultOf(success, results, binding, reason, retryAfter, now);
}

function resultOf(
  success: boolean,
  rules: readonly RuleResult[],
  binding: number,
  reason: ResultReason,
  retryAfter: number | undefined,
  at: number,
): RatelimitResult {
  const bound = rules[binding] as RuleResult;
  const { limit, remaining, reset, rule } = bound;
  return { success, limit, remaining, reset, retryAfter, rule, reason, rules, at };
}

/**
 * When an uncounted denial may retry: a policy denial once the store is back (1 s); a denylisted identity
 * once it leaves the list, which nothing here can tell, so the longest rule's window, never at once; a
 * cost above a limit never (`undefined`).
 */
function retryAfterUncounted(reason: ResultReason, plan: Plan): number | undefined {
  if (reason === 'cost-exceeds-limit') return undefined;
  if (reason === 'denylist') return Math.ceil(Math.max(...plan.map((rule) => rule.store.windowMs)) / 1000);
  return 1;
}
