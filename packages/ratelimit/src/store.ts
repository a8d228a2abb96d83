import type { Algorithm } from './keys/rule.js';
import type { HealthOptions, StoreHealth } from './stores/health.js';

/**
 * One rule of one call, as a store sees it. Amounts (limit, cost, used) are integer millionths of a unit,
 * so fractional costs add up exactly; times are epoch milliseconds.
 */
export interface StoreRule {
  readonly key: string;
  readonly algorithm: Algorithm;
  /** The limit, or the bucket capacity for `token-bucket` and `gcra`. */
  readonly limit: number;
  /** Window (rolling) or refill period of `limit` (token bucket, GCRA). Unused by `fixed`. */
  readonly windowMs: number;
  /** `fixed` only: the period's end, when the count resets. */
  readonly resetAt: number;
  /** `fixed` only: the absolute expiry of the key (period end plus grace). */
  readonly expireAt: number;
}

export interface StoreRequest {
  /** `consume` checks every rule and consumes from all of them only if all pass; `peek` writes nothing. */
  readonly mode: 'consume' | 'peek';
  /** Consume even when a rule denies (so a client that keeps hammering stays blocked). */
  readonly countDenied: boolean;
  readonly now: number;
  /** Integer millionths; negative refunds. */
  readonly cost: number;
  /** A unique id for this call, used to name sliding-log entries. */
  readonly member: string;
  readonly rules: readonly StoreRule[];
}

/** What a store answers for one rule, after the call. */
export interface RuleOutcome {
  readonly allowed: boolean;
  /** Integer millionths in use after the call. */
  readonly used: number;
  /** When the full limit is available again (epoch ms). */
  readonly reset: number;
  /** When denied: the earliest instant the same cost could pass (epoch ms); otherwise 0. */
  readonly retryAt: number;
}

/** What a store declares about itself, so that the limiter treats it by what it does, not by its class. */
export interface StoreCapabilities {
  /**
   * It answers from this process's memory, without I/O, so it cannot time out or go down: the limiter
   * calls it directly, without a timeout, a guard or a fallback (its calls are not in `stats().storeCalls`).
   */
  readonly local?: boolean;
}

/**
 * The storage port. A store evaluates all rules of one call atomically (one Lua call on Redis) and
 * deletes keys. Every key of one call shares a Redis hash tag.
 */
export interface Store {
  /** What the limiter may assume of this store; nothing when omitted. */
  readonly capabilities?: StoreCapabilities;
  evaluate(request: StoreRequest): Promise<RuleOutcome[]>;
  delete(keys: readonly string[]): Promise<void>;
  /**
   * Whether the store works now: for Redis, `PING` plus a write and read back of a key with a TTL. Never
   * throws. Optional: the limiter probes a store without it with a read-only `evaluate`.
   */
  health?(options?: HealthOptions): Promise<StoreHealth>;
  /**
   * Closes the store's connections. The limiter calls it only on a store that it opened itself from a URL
   * or the environment, once no limiter of the process uses it; a store you pass in is yours to close.
   */
  close?(): Promise<void>;
}
