import type { RatelimitResult } from './ratelimit.js';

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
