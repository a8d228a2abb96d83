// internal: the memory store's eviction floors (a Space-Saving bound per rule signature).
import { evaluateRule, type RuleState } from '../storage/algorithms.js';
import type { StoreRule } from '../store.js';

/** One step of a signature's floor: an evicted amount (millionths) that stands until `expiresAt`. */
interface Step {
  amount: number;
  expiresAt: number;
}

/** Steps kept per signature; beyond it two steps merge into one that is at least as high and as long. */
const MAX_STEPS = 16;

/**
 * Per rule signature, the amounts evicted whose entries have not expired: a Pareto staircase, soonest
 * expiry first and highest amount first. Empty until the first eviction that lost a count. A key created
 * after an eviction starts from the highest of them, so no flood of other identities resets a count.
 */
export class EvictionFloors {
  readonly #steps = new Map<string, Step[]>();
  #walk: Iterator<[string, Step[]]> | undefined;

  /** Keeps an evicted entry's count as a floor of its rule signature until the entry would have expired. */
  raise(rule: StoreRule, amount: number, expiresAt: number, now: number): void {
    const sig = signature(rule);
    const steps = live(this.#steps.get(sig), now) ?? [];
    // Sorted by expiry ascending, so by amount descending: a step at least as high and as long covers it.
    if (steps.some((s) => s.amount >= amount && s.expiresAt >= expiresAt)) return;
    const kept = steps.filter((s) => s.amount > amount || s.expiresAt > expiresAt);
    let at = kept.findIndex((s) => s.expiresAt > expiresAt);
    if (at < 0) at = kept.length;
    kept.splice(at, 0, { amount, expiresAt });
    if (kept.length > MAX_STEPS) {
      // Merge the two soonest: the highest amount for the longer time, never less than either.
      const [a, b] = kept.splice(0, 2) as [Step, Step];
      kept.unshift({ amount: a.amount, expiresAt: b.expiresAt });
    }
    this.#steps.set(sig, kept);
  }

  /**
   * The state a key without a live entry starts from: none below the bound; after evictions, the highest
   * amount evicted under the same rule signature that has not expired, as if consumed at `now`.
   */
  inherited(rule: StoreRule, now: number, member: string): RuleState | undefined {
    if (this.#steps.size === 0) return undefined;
    const sig = signature(rule);
    const steps = live(this.#steps.get(sig), now);
    if (steps === undefined) {
      this.#steps.delete(sig);
      return undefined;
    }
    if (steps !== this.#steps.get(sig)) this.#steps.set(sig, steps);
    const amount = (steps[0] as Step).amount;
    return evaluateRule(rule, undefined, now, amount, `floor:${member}`).next;
  }

  /** Drops the expired steps of one signature per write, walking the signatures round-robin. */
  pruneSlice(now: number): void {
    if (this.#steps.size === 0) return;
    let next = this.#walk?.next();
    if (next === undefined || next.done) {
      this.#walk = this.#steps.entries();
      next = this.#walk.next();
    }
    if (next.done) return;
    const [sig, steps] = next.value;
    const kept = live(steps, now);
    if (kept === undefined) this.#steps.delete(sig);
    else if (kept !== steps) this.#steps.set(sig, kept);
  }
}

/** The steps that have not expired at `now` (the same array if none has), or undefined if none is left. */
function live(steps: Step[] | undefined, now: number): Step[] | undefined {
  if (steps === undefined) return undefined;
  let from = 0;
  while (from < steps.length && (steps[from] as Step).expiresAt <= now) from++;
  if (from === steps.length) return undefined;
  return from === 0 ? steps : steps.slice(from);
}

/** The rules whose keys can inherit each other's evicted counts: same algorithm, limit, window and period. */
function signature(rule: StoreRule): string {
  return `${rule.algorithm}|${rule.limit}|${rule.windowMs}|${rule.resetAt}|${rule.expireAt}`;
}
