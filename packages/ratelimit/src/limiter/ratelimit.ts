import { processEnv, randomHex } from '../_runtime.js';
import { costInMicro } from '../amounts.js';
import type { Identity, Keyspace, RuleKey } from '../keys/keyspace.js';
import type { Store, StoreRequest } from '../store.js';
import { BlockCache } from './block-cache.js';
import { callIdentity, callOptions, type Membership, readConfig } from './config.js';
import { checkOverrides, type Plan, planOf, storeRules } from './plan.js';
import { StorePolicy } from './policy.js';
import { summarize, uncounted } from './results.js';
import type {
  LimitOptions,
  LimitOverrides,
  RatelimitEvent,
  RatelimitOptions,
  RatelimitResult,
  RatelimitStats,
  RuleResult,
} from './types.js';

/**
 * A rate limiter whose calendar rules reset with the calendar of its time zone: `'10/month'` resets at 00:00
 * on the 1st, because the period is part of the key.
 *
 * @example
 * const limiter = new Ratelimit({ rules: { monthly: '10/month', burst: '5/minute' } });
 * const { success, remaining } = await limiter.limit('user:42', { scope: '/api/chat' });
 */
export class Ratelimit {
  readonly #keyspace: Keyspace;
  readonly #ruleNames: readonly string[];
  readonly #now: () => number;
  readonly #countDenied: boolean;
  readonly #resolveLimits: RatelimitOptions['limits'];
  readonly #allowed: Membership | undefined;
  readonly #denied: Membership | undefined;
  readonly #blocked: BlockCache | undefined;
  readonly #policy: StorePolicy;
  readonly #emit: ((event: RatelimitEvent) => void) | undefined;
  /**
   * Names this instance's sliding-log entries (and its probe key) apart from every other instance's. Drawn
   * at first use: a Worker may not generate random values in its global scope, where limiters are made.
   */
  #instanceId: string | undefined;
  #member = 0;
  #calls = 0;

  /**
   * @throws {PeriodkeyError} for a bad rule, zone, prefix, store URL or option, or an unknown option (a
   *   typo), naming what to change.
   */
  constructor(options: RatelimitOptions) {
    const config = readConfig(options, processEnv());
    this.#keyspace = config.keyspace;
    this.#ruleNames = config.ruleNames;
    this.#now = config.now;
    this.#countDenied = config.countDenied;
    this.#resolveLimits = config.limits;
    this.#allowed = config.allowed;
    this.#denied = config.denied;
    this.#blocked = config.blockCache ? new BlockCache() : undefined;
    this.#emit = config.onEvent;
    this.#policy = new StorePolicy({
      store: config.store,
      source: config.source,
      fallback: config.fallback,
      failOpen: config.failOpen,
      timeout: config.timeout,
      initialProbeDelay: config.probe.initialDelay,
      maxProbeDelay: config.probe.maxDelay,
      probeKey: () => `${config.prefix}:health:${this.#instance}`,
      emit: this.#emit,
    });
  }

  /** The store in use; resolved from the environment on first use when none was given. */
  store(): Promise<Store> {
    return this.#policy.store();
  }

  /**
   * Counters since creation: calls, primary store calls, errors, timeouts, calls answered without the
   * primary, whether the fallback is active, and the primary's latency percentiles over its last 1024 calls.
   */
  stats(): RatelimitStats {
    return { calls: this.#calls, ...this.#policy.stats() };
  }

  /**
   * Stops the background probe of a bypassed primary store, and releases a store the limiter opened from a
   * URL or the environment: the connection closes when no other limiter of the process uses it, so a
   * script can exit. A store you passed in is never closed: it is yours. The limiter still answers after
   * `close()`, calls in flight included (each opens its URL for itself and closes it after, unless another
   * limiter keeps it open), but no longer returns to a bypassed primary on its own.
   */
  close(): void {
    this.#policy.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
  }

  /**
   * Checks every rule for `identifier` and consumes `cost` from all of them if all pass; a denied call
   * consumes nothing (unless `countDenied`). Resolves with the decision, within `timeout` even when the
   * store hangs (then answered by the fallback store or the `failure` policy). Throws only on misuse: bad
   * arguments, or a store that refuses the command (`NOPERM`, `WRONGPASS`, `NOAUTH`, `WRONGTYPE`).
   */
  limit(identifier: Identity, options: LimitOptions = {}): Promise<RatelimitResult> {
    this.#calls++;
    const emit = this.#emit;
    if (emit === undefined) return this.#limit(identifier, options);
    const started = performance.now();
    return this.#limit(identifier, options).then((result) => {
      emit({
        type: 'decision',
        result,
        identifier: typeof identifier === 'string' ? identifier : undefined,
        scope: options.scope ?? '',
        durationMs: performance.now() - started,
      });
      return result;
    });
  }

  async #limit(input: Identity, options: LimitOptions): Promise<RatelimitResult> {
    const identifier = callIdentity(input);
    const call = callOptions(options, 'limit');
    const now = this.#now();
    const cost = costInMicro(call.cost === undefined ? 1 : call.cost);
    const scope = call.scope === undefined ? '' : call.scope;
    const keys = this.#keyspace.keys(identifier, scope, now);
    const listed = this.#listed(identifier);
    if (listed !== undefined) {
      return uncounted(listed, planOf(keys, undefined), now, listed ? 'allowlist' : 'denylist');
    }
    const plan = await this.#plan(identifier, keys, call.limits);
    // A cost above a limit can never pass: denied without asking the store, nothing counted (also with
    // countDenied), and without a retryAfter.
    const never = cost > 0 ? plan.findIndex((rule) => rule.store.limit < cost) : -1;
    if (never >= 0) return uncounted(false, plan, now, 'cost-exceeds-limit', never);
    const blocked = this.#blocked;
    const cacheKey = blocked === undefined ? '' : BlockCache.key(identifier, scope);
    const hit = blocked?.get(cacheKey, plan, cost, now);
    if (hit !== undefined) return hit;
    const summary = await this.#policy.decide(this.#request('consume', plan, cost, now), plan);
    // Only the primary's denials are cached: a fallback's or the policy's would outlive the outage.
    if (summary.result.reason === 'store') blocked?.record(cacheKey, plan, cost, now, summary);
    return summary.result;
  }

  /**
   * Each rule's current use for `identifier` in the primary store, without consuming anything.
   * @throws {StoreUnavailableError} when the store fails or does not answer within `timeout`.
   */
  async usage(input: Identity, options: Omit<LimitOptions, 'cost'> = {}): Promise<readonly RuleResult[]> {
    const identifier = callIdentity(input);
    const call = callOptions(options, 'usage');
    const now = this.#now();
    const keys = this.#keyspace.keys(identifier, call.scope === undefined ? '' : call.scope, now);
    const plan = await this.#plan(identifier, keys, call.limits);
    const request = this.#request('peek', plan, 0, now);
    const outcomes = await this.#policy.call('usage', (store) => store.evaluate(request));
    return summarize(plan, outcomes, now, 'store').result.rules;
  }

  /**
   * Deletes the current counts of every rule for `identifier` and scope, in the primary store and in the
   * fallback store: its quotas start afresh.
   * @throws {StoreUnavailableError} when the primary store fails or does not answer within `timeout`.
   */
  async reset(input: Identity, options: Pick<LimitOptions, 'scope'> = {}): Promise<void> {
    const identifier = callIdentity(input);
    const { scope = '' } = callOptions(options, 'reset');
    const keys = this.#keyspace.keys(identifier, scope, this.#now()).map((k) => k.key);
    this.#blocked?.delete(BlockCache.key(identifier, scope));
    await this.#policy.deleteInFallback(keys);
    await this.#policy.call('reset', (store) => store.delete(keys));
  }

  /** The call's plan: its keys, with the limits of the call's overrides, else of `options.limits`. */
  async #plan(
    identity: Identity,
    keys: readonly RuleKey[],
    callLimits: LimitOverrides | undefined,
  ): Promise<Plan> {
    const resolver = this.#resolveLimits;
    const overrides = callLimits ?? (resolver === undefined ? undefined : await resolver(identity));
    return planOf(keys, overrides === undefined ? undefined : checkOverrides(overrides, this.#ruleNames));
  }

  get #instance(): string {
    this.#instanceId ??= randomHex(6);
    return this.#instanceId;
  }

  #request(mode: StoreRequest['mode'], plan: Plan, cost: number, now: number): StoreRequest {
    const member = this.#instance + (this.#member++).toString(36);
    return { mode, countDenied: this.#countDenied, now, cost, member, rules: storeRules(plan) };
  }

  /** `true` (allowlisted), `false` (denylisted; the denylist wins) or `undefined` (neither). */
  #listed(identity: Identity): boolean | undefined {
    if (this.#denied?.(identity)) return false;
    if (this.#allowed?.(identity)) return true;
    return undefined;
  }
}
