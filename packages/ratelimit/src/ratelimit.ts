import { randomBytes } from 'node:crypto';
import { type Membership, readConfig } from './_config.js';
import { attempt, EXPIRED, withTimeout } from './_deadline.js';
import { Guard, StoreFailure } from './_guard.js';
import { checkKeys, describeValue, optionsObject } from './_options.js';
import { costInMicro, limitInMicro, MICRO } from './amounts.js';
import { openStore, type StoreSource } from './environment.js';
import { InvalidOptionError, StoreRefusedError, StoreUnavailableError } from './errors.js';
import type { RatelimitEvent, RatelimitStats, StoreOperation } from './events.js';
import { type Identity, Keyspace, keyExpiry, type RuleKey } from './keys.js';
import { MemoryStore } from './memory-store.js';
import { parseRule, type Rule, type RuleObject } from './rule.js';
import type { RuleOutcome, Store, StoreRequest, StoreRule } from './store.js';

/** Limits by rule name that replace the configured ones for one identity (plan tiers). */
export type LimitOverrides = Readonly<Record<string, number | undefined>>;

/**
 * Who is always admitted or always denied, without touching the store: identities (strings for clear
 * identities, `{ token }` for token identities), read once at construction, or a synchronous predicate
 * called with the identity as `limit()` got it, for a list that changes.
 */
export type IdentityList = Iterable<Identity> | ((identity: Identity) => boolean);

export interface RatelimitOptions {
  /**
   * Where counts live: a store, a URL (`memory://`, `redis://`, `rediss://`), or omitted to choose from the
   * environment (`UPSTASH_REDIS_REST_URL`+`_TOKEN`, then `REDIS_URL`, else in memory with a warning).
   */
  store?: Store | string;
  /** One or more rules by name; a call passes only if all pass. `{ monthly: '10/month', burst: '5/minute' }` */
  rules: Readonly<Record<string, string | RuleObject>>;
  /** IANA zone of calendar periods. @default 'UTC' */
  timeZone?: string;
  /** First segment of every key. @default 'ratelimit' */
  prefix?: string;
  /** The clock, in epoch ms. @default Date.now */
  now?: () => number;
  /** HMAC key for `{ token }` identities (at least 16 bytes), so that tokens never appear in keys. */
  tokenSecret?: string | Uint8Array;
  /** The longest clear identity, in characters (UTF-16 code units); longer ones are an error. @default 256 */
  maxIdentityLength?: number;
  /** The longest scope, in characters (UTF-16 code units); longer ones are an error. @default 256 */
  maxScopeLength?: number;
  /** Count denied calls too, so that a client that keeps trying stays blocked. @default false */
  countDenied?: boolean;
  /**
   * Per-identity limits (plan tiers), called with the identity as `limit()` got it (a string, or
   * `{ token }`); they change the limit, never the key, so counts carry over.
   */
  limits?: (identity: Identity) => LimitOverrides | undefined | Promise<LimitOverrides | undefined>;
  /** Identities that always pass, without a store call (`reason: 'allowlist'`). */
  allowlist?: IdentityList;
  /** Identities that are always denied, without a store call (`reason: 'denylist'`). */
  denylist?: IdentityList;
  /**
   * Answer calls of an identity that is denied until a known instant locally, until then (`reason: 'cache'`),
   * so a flood never reaches the store. A reset or refund on another instance is seen here once that
   * instant passes. @default true
   */
  blockCache?: boolean;
  /**
   * What `limit()` answers when the store fails or does not answer within `timeout` and no `fallback`
   * store answers instead: `'open'` admits (`success: true`), `'closed'` denies. Either way the result's
   * `reason` is `'timeout'` or `'error'`. Open keeps a Redis outage from becoming an outage of the service;
   * choose closed for spend budgets, where admitting is what costs.
   * @default 'open'
   */
  failure?: 'open' | 'closed';
  /**
   * The most a store call may take (ms); `limit()` answers within it (plus a few ms) even if the store
   * hangs. `usage()` and `reset()` throw a `StoreUnavailableError` after it. `Infinity` for no bound.
   * @default 1000
   */
  timeout?: number;
  /**
   * A store that answers while the primary fails (typically `new MemoryStore()`): for a call whose primary
   * call failed, and for every call while the primary is bypassed (after 5 failures in a row, until a
   * probe finds it healthy). It starts from its own counts, not the primary's; nothing is copied back.
   */
  fallback?: Store;
  /**
   * While the primary is bypassed, it is probed (`store.health()`) after `initialDelay` ms, then at doubling
   * intervals up to `maxDelay` ms, with ±20% jitter, on an unref'ed timer (`close()` stops it).
   * @default { initialDelay: 100, maxDelay: 5000 }
   */
  probe?: { initialDelay?: number; maxDelay?: number };
  /**
   * Receives every decision, every primary store call and every switch to and from the fallback, for
   * logs and metrics (`@periodkey/ratelimit/prometheus`). Called synchronously; exceptions are ignored.
   */
  onEvent?: (event: RatelimitEvent) => void;
}

export interface LimitOptions {
  /** What is limited for this identity, e.g. the route pattern `'/api/chat'`. @default '' */
  scope?: string;
  /**
   * Units to consume; fractional for spend budgets (exact to 1e-6; a finer cost is rounded up, never to
   * zero), negative to refund (rounded towards zero). @default 1
   */
  cost?: number;
  /** Limits for this call only, by rule name; they override `options.limits`. */
  limits?: LimitOverrides;
}

/**
 * Who answered: `store` (the primary store), `cache` (the block cache), `allowlist` or `denylist`,
 * `fallback` (the fallback store, while the primary fails), or the failure policy after the primary store
 * timed out (`timeout`) or failed, or while it is bypassed (`error`); or `cost-exceeds-limit`, a call whose
 * cost is above a rule's limit, which can never pass (denied without a `retryAfter`, nothing counted).
 */
export type ResultReason =
  | 'store'
  | 'cache'
  | 'allowlist'
  | 'denylist'
  | 'fallback'
  | 'timeout'
  | 'error'
  | 'cost-exceeds-limit';

/** One rule's state after a call. Amounts are in units (not millionths). */
export interface RuleResult {
  readonly rule: string;
  readonly success: boolean;
  readonly limit: number;
  readonly used: number;
  readonly remaining: number;
  /** When the full limit is available again (epoch ms): the period's end for calendar rules. */
  readonly reset: number;
}

export interface RatelimitResult {
  readonly success: boolean;
  /** The binding rule's limit. */
  readonly limit: number;
  /** The binding rule's remaining units. */
  readonly remaining: number;
  /** The binding rule's next reset (epoch ms). */
  readonly reset: number;
  /**
   * When denied: seconds (at least 1) until the same call could pass; for a denylisted identity, the
   * longest rule's window. `undefined` when admitted, and for a cost above a limit, which never passes.
   */
  readonly retryAfter: number | undefined;
  /** The binding rule: the denying rule that frees up last, or the rule with the least remaining. */
  readonly rule: string;
  readonly reason: ResultReason;
  /** Every rule, in the order of `options.rules`. */
  readonly rules: readonly RuleResult[];
}

const BLOCK_CACHE_MAX = 10_000;
/** The latest instant a clock may read: the end of year 9999, the last a period id can name. */
const MAX_INSTANT = 253_402_300_799_999;
/** The options each method takes. */
const CALL_OPTION_NAMES = {
  limit: ['scope', 'cost', 'limits'],
  usage: ['scope', 'limits'],
  reset: ['scope'],
} as const satisfies Record<string, readonly string[]>;

interface Blocked {
  readonly since: number;
  readonly until: number;
  readonly cost: number;
  readonly limits: readonly number[];
  readonly result: RatelimitResult;
}

/**
 * A rate limiter whose calendar rules reset with the calendar of its time zone: `'10/month'` resets at 00:00
 * on the 1st, because the period is part of the key.
 *
 * @example
 * const limiter = new Ratelimit({ rules: { monthly: '10/month', burst: '5/minute' } });
 * const { success, remaining } = await limiter.limit('user:42', { scope: '/api/chat' });
 */
export class Ratelimit {
  readonly #rules: readonly Rule[];
  readonly #ruleNames: readonly string[];
  readonly #keyspace: Keyspace;
  readonly #now: () => number;
  readonly #countDenied: boolean;
  readonly #resolveLimits: RatelimitOptions['limits'];
  readonly #allowed: Membership | undefined;
  readonly #denied: Membership | undefined;
  readonly #blocked: Map<string, Blocked> | undefined;
  readonly #source: StoreSource | undefined;
  #store: Promise<Store> | undefined;
  #resolved: Store | undefined;
  /** The primary is the plain in-memory store: nothing to time out or probe, so `limit()` calls it directly. */
  #direct = false;
  #member = 0;
  readonly #memberPrefix = randomBytes(6).toString('hex');
  readonly #failOpen: boolean;
  readonly #timeout: number;
  readonly #fallback: Store | undefined;
  readonly #emit: ((event: RatelimitEvent) => void) | undefined;
  readonly #guard: Guard;
  #calls = 0;
  #fallbacks = 0;

  /**
   * @throws {PeriodkeyError} for a bad rule, zone, prefix, store URL or option, or an unknown option (a
   *   typo), naming what to change.
   */
  constructor(options: RatelimitOptions) {
    const config = readConfig(options, process.env);
    this.#rules = Object.entries(options.rules).map(([name, input]) => parseRule(name, input));
    this.#ruleNames = this.#rules.map((rule) => rule.name);
    const prefix = options.prefix ?? 'ratelimit';
    this.#keyspace = new Keyspace({
      prefix,
      timeZone: options.timeZone ?? 'UTC',
      rules: this.#rules,
      ...(options.tokenSecret === undefined ? {} : { tokenSecret: options.tokenSecret }),
      ...(options.maxIdentityLength === undefined ? {} : { maxIdentityLength: options.maxIdentityLength }),
      ...(options.maxScopeLength === undefined ? {} : { maxScopeLength: options.maxScopeLength }),
    });
    this.#now = config.now;
    this.#countDenied = config.countDenied;
    this.#resolveLimits = config.limits;
    this.#allowed = config.allowed;
    this.#denied = config.denied;
    this.#blocked = config.blockCache ? new Map() : undefined;
    this.#source = config.source;
    if (config.store !== undefined) this.#use(config.store);
    this.#failOpen = config.failOpen;
    this.#timeout = config.timeout;
    this.#fallback = config.fallback;
    this.#emit = config.onEvent === undefined ? undefined : safely(config.onEvent);
    this.#guard = new Guard({
      timeout: this.#timeout,
      initialProbeDelay: config.probe.initialDelay,
      maxProbeDelay: config.probe.maxDelay,
      probeKey: `${prefix}:health:${this.#memberPrefix}`,
      emit: this.#emit,
    });
  }

  /** The store in use; resolved from the environment on first use when none was given. */
  store(): Promise<Store> {
    if (this.#store === undefined) {
      const source = this.#source;
      this.#store = source === undefined ? Promise.resolve(this.#resolved as Store) : openStore(source);
      this.#store.then((store) => this.#use(store), noop);
    }
    return this.#store;
  }

  #use(store: Store): void {
    this.#resolved = store;
    this.#direct = store.constructor === MemoryStore;
  }

  /**
   * Counters since creation: calls, primary store calls, errors, timeouts, calls answered without the
   * primary, whether the fallback is active, and the primary's latency percentiles over its last 1024 calls.
   */
  stats(): RatelimitStats {
    return { calls: this.#calls, fallbacks: this.#fallbacks, ...this.#guard.snapshot() };
  }

  /**
   * Stops the background probe of a bypassed primary store. The limiter still answers, but no longer
   * returns to the primary on its own. It never closes the stores: they are yours.
   */
  close(): void {
    this.#guard.close();
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
    const identifier = once(input);
    const call = callOptions(options, 'limit');
    const now = this.#clock();
    const cost = costInMicro(call.cost === undefined ? 1 : call.cost);
    const scope = call.scope === undefined ? '' : call.scope;
    const keys = this.#keyspace.keys(identifier, scope, now);
    const listed = this.#listed(identifier);
    if (listed !== undefined) return uncounted(listed, this.#rules, now, listed ? 'allowlist' : 'denylist');
    const rules = await this.#storeRules(identifier, keys, call.limits);
    // A cost above a limit can never pass: denied without asking the store, nothing counted (also with
    // countDenied), and without a retryAfter.
    const never = cost > 0 ? rules.findIndex((rule) => rule.limit < cost) : -1;
    if (never >= 0) return uncounted(false, uncountedRules(rules, keys), now, 'cost-exceeds-limit', never);
    const cacheKey = this.#blocked === undefined ? undefined : cacheKeyOf(identifier, scope);
    const hit = cacheKey === undefined ? undefined : this.#fromCache(cacheKey, rules, cost, now);
    if (hit !== undefined) return hit;
    const { result, retryAt } = await this.#consume(keys, rules, cost, now);
    // Only the primary's denials are cached: a fallback's or the policy's would outlive the outage.
    if (cacheKey !== undefined && result.reason === 'store') {
      if (!result.success) this.#block(cacheKey, rules, cost, now, retryAt, result);
      else if (cost < 0) this.#blocked?.delete(cacheKey);
    }
    return result;
  }

  /** The clock in whole milliseconds, which every store counts in alike. */
  #clock(): number {
    const now = this.#now();
    if (typeof now !== 'number' || !(now >= 0 && now <= MAX_INSTANT)) {
      throw new InvalidOptionError(
        `now() must return epoch milliseconds between 1970 and 9999, got ${describeValue(now)}`,
      );
    }
    return Math.floor(now);
  }

  /**
   * Each rule's current use for `identifier` in the primary store, without consuming anything.
   * @throws {StoreUnavailableError} when the store fails or does not answer within `timeout`.
   */
  async usage(input: Identity, options: Omit<LimitOptions, 'cost'> = {}): Promise<readonly RuleResult[]> {
    const identifier = once(input);
    const call = callOptions(options, 'usage');
    const now = this.#clock();
    const keys = this.#keyspace.keys(identifier, call.scope === undefined ? '' : call.scope, now);
    const rules = await this.#storeRules(identifier, keys, call.limits);
    const request = this.#request('peek', rules, 0, now);
    const outcomes = await this.#primary('usage', (store) => store.evaluate(request));
    return summarize(rules, keys, outcomes, now, 'store').result.rules;
  }

  /**
   * Deletes the current counts of every rule for `identifier` and scope, in the primary store and in the
   * fallback store: its quotas start afresh.
   * @throws {StoreUnavailableError} when the primary store fails or does not answer within `timeout`.
   */
  async reset(input: Identity, options: Pick<LimitOptions, 'scope'> = {}): Promise<void> {
    const identifier = once(input);
    const { scope = '' } = callOptions(options, 'reset');
    const keys = this.#keyspace.keys(identifier, scope, this.#clock()).map((k) => k.key);
    this.#blocked?.delete(cacheKeyOf(identifier, scope));
    const fallback = this.#fallback;
    if (fallback !== undefined) {
      const cleared = bounded(
        attempt(() => fallback.delete(keys)),
        this.#timeout,
      );
      await cleared.catch(noop);
    }
    await this.#primary('reset', (store) => store.delete(keys));
  }

  #request(mode: StoreRequest['mode'], rules: readonly StoreRule[], cost: number, now: number): StoreRequest {
    const member = this.#memberPrefix + (this.#member++).toString(36);
    return { mode, countDenied: this.#countDenied, now, cost, member, rules };
  }

  async #consume(
    keys: readonly RuleKey[],
    rules: readonly StoreRule[],
    cost: number,
    now: number,
  ): Promise<Summary> {
    const request = this.#request('consume', rules, cost, now);
    const store = this.#resolved ?? (await this.store());
    if (this.#direct) return summarize(rules, keys, await store.evaluate(request), now, 'store');
    let failure: StoreFailure | undefined;
    if (!this.#guard.down) {
      try {
        const outcomes = await this.#guard.call('limit', store, (s) => s.evaluate(request));
        return summarize(rules, keys, outcomes, now, 'store');
      } catch (error) {
        if (!(error instanceof StoreFailure)) throw error;
        if (error.refused) throw refusal(error.cause);
        failure = error;
      }
    }
    this.#fallbacks++;
    const fallback = this.#fallback;
    if (fallback !== undefined) {
      // The fallback gets what is left of the timeout; an in-memory store answers before any timer fires.
      const budget = this.#timeout - (failure?.elapsedMs ?? 0);
      const outcomes = await bounded(
        attempt(() => fallback.evaluate(request)),
        budget,
      ).catch(noop);
      if (outcomes !== undefined) return summarize(rules, keys, outcomes, now, 'fallback');
    }
    const reason = failure?.timedOut ? 'timeout' : 'error';
    return { result: uncounted(this.#failOpen, uncountedRules(rules, keys), now, reason), retryAt: 0 };
  }

  /** A call to the primary store that throws a {@link StoreUnavailableError} when it fails. */
  async #primary<T>(operation: StoreOperation, run: (store: Store) => Promise<T>): Promise<T> {
    const store = this.#resolved ?? (await this.store());
    try {
      return await this.#guard.call(operation, store, run);
    } catch (error) {
      if (!(error instanceof StoreFailure)) throw error;
      if (error.refused) throw refusal(error.cause);
      const message = error.timedOut
        ? `${operation}() got no answer from the store within ${this.#timeout} ms; check the store's connection, or raise the limiter's timeout`
        : `${operation}() failed in the store; check the store's connection and permissions (see cause)`;
      throw new StoreUnavailableError(
        message,
        error.timedOut ? { timedOut: true } : { timedOut: false, cause: error.cause },
      );
    }
  }

  async #storeRules(
    identity: Identity,
    keys: readonly RuleKey[],
    callLimits: LimitOverrides | undefined,
  ): Promise<StoreRule[]> {
    const resolver = this.#resolveLimits;
    const overrides = callLimits ?? (resolver === undefined ? undefined : await resolver(identity));
    if (overrides !== undefined) this.#checkOverrides(overrides);
    return keys.map((k) => storeRule(k, overrides));
  }

  /** Limit overrides name rules of this limiter, by own keys only (a rule may be named `constructor`). */
  #checkOverrides(overrides: LimitOverrides): void {
    const proto = typeof overrides === 'object' && overrides !== null ? Object.getPrototypeOf(overrides) : 0;
    if (proto !== Object.prototype && proto !== null) {
      throw new InvalidOptionError(
        `limits must be a plain object of limits by rule name, e.g. { monthly: 100 }, got ${describeValue(overrides)}`,
      );
    }
    checkKeys(overrides, this.#ruleNames, 'rule in limits:');
  }

  /** `true` (allowlisted), `false` (denylisted; the denylist wins) or `undefined` (neither). */
  #listed(identity: Identity): boolean | undefined {
    if (this.#denied?.(identity)) return false;
    if (this.#allowed?.(identity)) return true;
    return undefined;
  }

  #fromCache(
    cacheKey: string,
    rules: readonly StoreRule[],
    cost: number,
    now: number,
  ): RatelimitResult | undefined {
    const blocked = this.#blocked?.get(cacheKey);
    if (blocked === undefined) return undefined;
    if (now >= blocked.until || now < blocked.since) {
      this.#blocked?.delete(cacheKey);
      return undefined;
    }
    // A larger cost would be denied too; a smaller one, or a raised limit, might pass: ask the store.
    if (cost < blocked.cost || rules.some((rule, i) => rule.limit !== blocked.limits[i])) return undefined;
    return { ...blocked.result, retryAfter: Math.ceil((blocked.until - now) / 1000), reason: 'cache' };
  }

  #block(
    cacheKey: string,
    rules: readonly StoreRule[],
    cost: number,
    now: number,
    until: number,
    result: RatelimitResult,
  ): void {
    const blocked = this.#blocked as Map<string, Blocked>;
    if (blocked.size >= BLOCK_CACHE_MAX) {
      for (const [key, entry] of blocked) if (entry.until <= now) blocked.delete(key);
      if (blocked.size >= BLOCK_CACHE_MAX) blocked.clear();
    }
    blocked.set(cacheKey, { since: now, until, cost, limits: rules.map((rule) => rule.limit), result });
  }
}

/** The typed error of a store's refusal, with the store's message and the client's error as `cause`. */
function refusal(cause: unknown): StoreRefusedError {
  return new StoreRefusedError(cause instanceof Error ? cause.message : String(cause), { cause });
}

function noop(): undefined {
  return undefined;
}

/** Calls a listener so that its exceptions never reach the limiter; the first one is reported as a warning. */
function safely(listener: (event: RatelimitEvent) => void): (event: RatelimitEvent) => void {
  let warned = false;
  return (event) => {
    try {
      listener(event);
    } catch (error) {
      if (warned) return;
      warned = true;
      process.emitWarning(
        `periodkey: an onEvent listener threw (${String(error)}); further throws are ignored`,
      );
    }
  };
}

/** `op` (a fallback store's call) within `ms`; rejects when it fails or times out. */
async function bounded<T>(op: Promise<T>, ms: number): Promise<T> {
  const value = Number.isFinite(ms) ? await withTimeout(op, ms) : await op;
  if (value === EXPIRED) throw new Error('timed out');
  return value;
}

/** A rule as a result no store counted reports it. */
interface UncountedRule {
  readonly name: string;
  readonly limit: number;
  readonly durationMs: number;
}

/**
 * A result no store counted (the lists, the failure policy, a cost above a limit): every rule reported
 * full or empty, `binding` the rule the result names.
 */
function uncounted(
  success: boolean,
  rules: readonly UncountedRule[],
  now: number,
  reason: ResultReason,
  binding = 0,
): RatelimitResult {
  const results = rules.map(
    ({ name, limit }): RuleResult => ({
      rule: name,
      success,
      limit,
      used: 0,
      remaining: success ? limit : 0,
      reset: now,
    }),
  );
  const bound = results[binding] as RuleResult;
  return {
    success,
    limit: bound.limit,
    remaining: bound.remaining,
    reset: now,
    retryAfter: success ? undefined : retryAfterUncounted(reason, rules),
    rule: bound.rule,
    reason,
    rules: results,
  };
}

/**
 * A token identity read once: a `token` getter answers the same to the key, the lists, the limits and the
 * block cache.
 */
function once(identity: Identity): Identity {
  if (typeof identity !== 'object' || identity === null || !('token' in identity)) return identity;
  return { token: identity.token };
}

/**
 * When an uncounted denial may retry: a policy denial once the store is back (1 s); a denylisted identity
 * once it leaves the list, which nothing here can tell, so the longest rule's window, never at once; a
 * cost above a limit never (`undefined`).
 */
function retryAfterUncounted(reason: ResultReason, rules: readonly UncountedRule[]): number | undefined {
  if (reason === 'cost-exceeds-limit') return undefined;
  if (reason === 'denylist') return Math.ceil(Math.max(...rules.map((rule) => rule.durationMs)) / 1000);
  return 1;
}

/** The rules of one call as an uncounted result reports them, with the call's limits. */
function uncountedRules(rules: readonly StoreRule[], keys: readonly RuleKey[]): UncountedRule[] {
  return rules.map((rule, i) => ({
    name: (keys[i] as RuleKey).rule.name,
    limit: rule.limit / MICRO,
    durationMs: rule.windowMs,
  }));
}

/** The block cache's key: injective, like the Redis key (the length says where the identity ends). */
function cacheKeyOf(identifier: Identity, scope: string): string {
  return typeof identifier === 'string'
    ? `c${identifier.length}:${identifier}${scope}`
    : `t${identifier.token.length}:${identifier.token}${scope}`;
}

/** The options of a call, checked: an object of known keys (`limit(id, '/api')` and typos are errors). */
function callOptions<T extends LimitOptions>(options: T, method: keyof typeof CALL_OPTION_NAMES): T {
  const example =
    typeof options === 'string' ? `${method}(id, { scope: '${options}' })` : "{ scope: '/api/chat' }";
  optionsObject(options, `${method}() options`, example);
  const known: readonly string[] = CALL_OPTION_NAMES[method];
  for (const key in options) if (!known.includes(key)) checkKeys(options, known, `${method}() option`);
  return options;
}

function storeRule({ rule, key, period }: RuleKey, overrides: LimitOverrides | undefined): StoreRule {
  const override =
    overrides !== undefined && Object.hasOwn(overrides, rule.name) ? overrides[rule.name] : undefined;
  return {
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
  };
}

interface Summary {
  readonly result: RatelimitResult;
  /** When denied, the instant the binding rule lets the same call pass (epoch ms). */
  readonly retryAt: number;
}

function summarize(
  rules: readonly StoreRule[],
  keys: readonly RuleKey[],
  outcomes: readonly RuleOutcome[],
  now: number,
  reason: ResultReason,
): Summary {
  let success = true;
  let binding = 0;
  let retryAt = 0;
  const results = outcomes.map((outcome, i): RuleResult => {
    const limit = (rules[i] as StoreRule).limit;
    if (!outcome.allowed) {
      success = false;
      if (outcome.retryAt > retryAt) [retryAt, binding] = [outcome.retryAt, i];
    }
    return {
      rule: (keys[i] as RuleKey).rule.name,
      success: outcome.allowed,
      limit: limit / MICRO,
      used: outcome.used / MICRO,
      remaining: Math.max(0, limit - outcome.used) / MICRO,
      reset: outcome.reset,
    };
  });
  if (success) {
    // The binding rule of a pass: the fewest units left; of equals, the one that resets last.
    for (let i = 1; i < results.length; i++) {
      const [r, b] = [results[i] as RuleResult, results[binding] as RuleResult];
      if (r.remaining < b.remaining || (r.remaining === b.remaining && r.reset > b.reset)) binding = i;
    }
  }
  const bound = results[binding] as RuleResult;
  const result: RatelimitResult = {
    success,
    limit: bound.limit,
    remaining: bound.remaining,
    reset: bound.reset,
    retryAfter: success ? undefined : Math.max(1, Math.ceil((retryAt - now) / 1000)),
    rule: bound.rule,
    reason,
    rules: results,
  };
  return { result, retryAt };
}
