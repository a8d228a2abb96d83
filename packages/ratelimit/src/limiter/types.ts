// The limiter's public vocabulary: its options, its results, and the events and counters it reports.
import type { Period } from '../keys/calendar.js';
import type { Identity } from '../keys/keyspace.js';
import type { RuleObject } from '../keys/rule.js';
import type { Store } from '../store.js';
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
  /**
   * The length of the window the limit applies to (ms): the current period's for a calendar rule (28 to 31
   * days for a month, 23 to 25 hours for a day across a clock change), the rule's window or refill interval
   * for a rolling rule. What `RateLimit-Policy`'s `w` says.
   */
  readonly windowMs: number;
  /** A calendar rule's current period: its id (as in the key), start and end (epoch ms); `null` for a rolling rule. */
  readonly period: Period | null;
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
  /** The instant of the decision, on the limiter's clock (epoch ms): what `reset` and `retryAfter` count from. */
  readonly at: number;
}

/** Every answer of `limit()`, whoever made it (store, fallback, failure policy, cache, lists). */
export interface DecisionEvent {
  readonly type: 'decision';
  readonly result: RatelimitResult;
  /** The identity, or `undefined` for a `{ token }` identity (so secrets never reach logs). */
  readonly identifier: string | undefined;
  readonly scope: string;
  /** Time the call took (ms). */
  readonly durationMs: number;
}

/** A store call that the limiter bounds with `timeout`, on the primary store. */
export type StoreOperation = 'limit' | 'usage' | 'reset';

/**
 * One call to the primary store: `limit`, `usage` and `reset` calls, and the `probe` that checks whether the
 * store is back while the fallback is active. Calls of the fallback store are not reported.
 */
export interface OperationEvent {
  readonly type: 'operation';
  readonly operation: StoreOperation | 'probe';
  /** `timeout`: no answer within the limiter's `timeout` (the store may still run the command later). */
  readonly outcome: 'ok' | 'error' | 'timeout';
  /** Time until the answer, the error or the timeout (ms). */
  readonly durationMs: number;
  /** The store's error, when `outcome` is `error`. */
  readonly error?: unknown;
}

/**
 * The limiter stopped calling the primary store after repeated failures (`active: true`) and answers from the
 * fallback store or by its failure policy; or a probe found the primary healthy again (`active: false`).
 */
export type FallbackEvent =
  | {
      readonly type: 'fallback';
      readonly active: true;
      /** The last failure: the store's error, or an `Error` saying it timed out. */
      readonly error: unknown;
    }
  | {
      readonly type: 'fallback';
      readonly active: false;
      /** How long the primary was bypassed (ms). */
      readonly durationMs: number;
    };

/** What `onEvent` receives. Listeners run synchronously on the hot path: keep them cheap. */
export type RatelimitEvent = DecisionEvent | OperationEvent | FallbackEvent;

/** A snapshot of a limiter's counters since it was created (`limiter.stats()`). */
export interface RatelimitStats {
  /** `limit()` calls answered. */
  readonly calls: number;
  /** Calls to the primary store (`limit`, `usage`, `reset`; probes not included). */
  readonly storeCalls: number;
  /** Primary store calls that failed with an error. */
  readonly errors: number;
  /** Primary store calls that got no answer within `timeout`. */
  readonly timeouts: number;
  /** `limit()` calls answered without the primary store: by the fallback store or the failure policy. */
  readonly fallbacks: number;
  /** True while the primary store is bypassed (after repeated failures, until a probe finds it healthy). */
  readonly fallbackActive: boolean;
  /** Latency of the last (up to) 1024 primary store calls, failures and timeouts included (ms). */
  readonly latencyMs: {
    readonly p50: number | undefined;
    readonly p99: number | undefined;
    readonly samples: number;
  };
}
