// internal: the primary store as the limiter calls it: resolved once, bounded and guarded, answered for by
// the fallback store or the failure policy when it fails.
import { attempt, EXPIRED, withTimeout } from '../deadline.js';
import { StoreRefusedError, StoreUnavailableError } from '../errors.js';
import { classifyRedisError, type RedisErrorKind } from '../storage/errors.js';
import type { Store, StoreRequest } from '../store.js';
import { leaseStore, type StoreLease, type StoreSource } from './environment.js';
import { Guard, type GuardOptions, StoreFailure } from './guard.js';
import type { Plan } from './plan.js';
import { type Summary, summarize, uncounted } from './results.js';
import type { RatelimitStats, StoreOperation } from './types.js';

export interface PolicyOptions extends GuardOptions {
  /** The store given, or else where to open one on first use. */
  readonly store: Store | undefined;
  readonly source: StoreSource | undefined;
  readonly fallback: Store | undefined;
  readonly failOpen: boolean;
}

/**
 * The primary store's calls and what answers when they fail: each call bounded by `timeout` and counted by
 * the {@link Guard} (which bypasses a primary that keeps failing), then the fallback store, then the failure
 * policy (`open` admits, `closed` denies). A store that declares itself `local` is called directly.
 */
export class StorePolicy {
  readonly #options: PolicyOptions;
  readonly #guard: Guard;
  #opened: Promise<Store> | undefined;
  #store: Store | undefined;
  /** This limiter's use of the store it opened from its source, until `close()`. */
  #lease: StoreLease | undefined;
  /** `close()` released the lease: a later call leases the store for itself only (see {@link #closedCall}). */
  #closed = false;
  /** The primary answers from this process's memory: nothing to time out or probe. */
  #direct = false;
  #fallbacks = 0;

  constructor(options: PolicyOptions) {
    this.#options = options;
    this.#guard = new Guard(options);
    if (options.store !== undefined) this.#use(options.store);
  }

  /** The primary store; opened from its source on first use when none was given. */
  store(): Promise<Store> {
    if (this.#opened === undefined) {
      const { source } = this.#options;
      if (source === undefined) {
        this.#opened = Promise.resolve(this.#store as Store);
      } else {
        this.#closed = false;
        const lease = leaseStore(source);
        this.#lease = lease;
        this.#opened = lease.store;
        this.#opened.then((store) => {
          if (this.#lease === lease) this.#use(store);
        }, noop);
      }
    }
    return this.#opened;
  }

  #use(store: Store): void {
    this.#store = store;
    this.#direct = isLocal(store);
  }

  /**
   * A `consume` (or `peek`) answered by the primary, else the fallback, else the failure policy.
   * @throws {StoreRefusedError} when the primary refuses the command (misconfiguration, not an outage).
   */
  async decide(request: StoreRequest, plan: Plan): Promise<Summary> {
    if (this.#closed) return this.#closedCall((store) => this.#decide(store, request, plan, isLocal(store)));
    return this.#decide(this.#store ?? (await this.store()), request, plan, this.#direct);
  }

  async #decide(store: Store, request: StoreRequest, plan: Plan, direct: boolean): Promise<Summary> {
    const { now } = request;
    if (direct) return summarize(plan, await store.evaluate(request), now, 'store');
    let failure: StoreFailure | undefined;
    const bypassed = this.#guard.bypassed();
    if (!(typeof bypassed === 'boolean' ? bypassed : await bypassed)) {
      try {
        const outcomes = await this.#guard.call('limit', store, (s) => s.evaluate(request));
        return summarize(plan, outcomes, now, 'store');
      } catch (error) {
        if (!(error instanceof StoreFailure)) throw error;
        if (error.refused) throw refusal(error.cause);
        failure = error;
      }
    }
    this.#fallbacks++;
    // The fallback gets what is left of the timeout; an in-memory store answers before any timer fires.
    const outcomes = await this.#onFallback(
      (fallback) => fallback.evaluate(request),
      this.#options.timeout - (failure?.elapsedMs ?? 0),
    );
    if (outcomes !== undefined) return summarize(plan, outcomes, now, 'fallback');
    const reason = failure?.timedOut ? 'timeout' : 'error';
    return { result: uncounted(this.#options.failOpen, plan, now, reason), retryAt: 0 };
  }

  /**
   * A call to the primary store that no policy can answer (`usage()`, `reset()`).
   * @throws {StoreUnavailableError} when it fails or does not answer within `timeout`.
   * @throws {StoreRefusedError} when it refuses the command.
   */
  async call<T>(operation: StoreOperation, run: (store: Store) => Promise<T>): Promise<T> {
    if (this.#closed) return this.#closedCall((store) => this.#call(store, operation, run));
    return this.#call(this.#store ?? (await this.store()), operation, run);
  }

  /**
   * A call after `close()` (also one that started before it): it leases the store for itself and releases
   * it when done, so that the connection still closes when no limiter uses it.
   */
  async #closedCall<T>(run: (store: Store) => Promise<T>): Promise<T> {
    const lease = leaseStore(this.#options.source as StoreSource);
    try {
      return await run(await lease.store);
    } finally {
      lease.release();
    }
  }

  async #call<T>(store: Store, operation: StoreOperation, run: (store: Store) => Promise<T>): Promise<T> {
    try {
      return await this.#guard.call(operation, store, run);
    } catch (error) {
      if (!(error instanceof StoreFailure)) throw error;
      if (error.refused) throw refusal(error.cause);
      const message = error.timedOut
        ? `${operation}() got no answer from the store within ${this.#options.timeout} ms; check the store's connection, or raise the limiter's timeout`
        : `${operation}() failed in the store; check the store's connection and permissions (see cause)`;
      throw new StoreUnavailableError(
        message,
        error.timedOut ? { timedOut: true } : { timedOut: false, cause: error.cause },
      );
    }
  }

  /** Deletes keys in the fallback store, if any, within the timeout; its failures are ignored. */
  async deleteInFallback(keys: readonly string[]): Promise<void> {
    await this.#onFallback((fallback) => fallback.delete(keys), this.#options.timeout);
  }

  /** `run` on the fallback store within `ms`; `undefined` without a fallback, or when it fails or times out. */
  async #onFallback<T>(run: (fallback: Store) => Promise<T>, ms: number): Promise<T | undefined> {
    const { fallback } = this.#options;
    if (fallback === undefined) return undefined;
    const op = attempt(() => run(fallback));
    const value = await (Number.isFinite(ms) ? withTimeout(op, ms) : op).catch(noop);
    return value === EXPIRED ? undefined : value;
  }

  stats(): Omit<RatelimitStats, 'calls'> {
    return { fallbacks: this.#fallbacks, ...this.#guard.snapshot() };
  }

  /**
   * Stops the guard's probe of a bypassed primary, and ends the use of a store opened from the source (the
   * last limiter using it closes it). A later call leases it for that call only. A `memory://` store is the
   * limiter's own and stays.
   */
  close(): void {
    this.#guard.close();
    if (this.#lease === undefined || this.#options.source?.kind === 'memory') return;
    this.#lease.release();
    this.#lease = undefined;
    this.#closed = true;
    this.#opened = undefined;
    this.#store = undefined;
  }
}

/** What to change, by the kind of refusal, after the store's own message. */
const FIXES: Partial<Record<RedisErrorKind['kind'], string>> = {
  moved:
    'the server is a Redis Cluster node: pass a Cluster client (new IORedisStore(new Cluster(nodes))), or a redis+cluster:// URL or a plain redis:// URL as the store',
  noperm: "grant the command and the limiter's keys to the user (see the store's README for the ACL)",
  wrongpass: 'check the user name and password (Upstash: the token)',
  noauth: 'the server needs a password: put it in the URL (redis://:password@host) or the client',
  'db-out-of-range': "the server has no such database: use one below its 'databases' setting, such as /0",
};

/** The typed error of a store's refusal: the store's message, what to change, and the client's error as `cause`. */
function refusal(cause: unknown): StoreRefusedError {
  const message = cause instanceof Error ? cause.message : String(cause);
  const fix = FIXES[classifyRedisError(cause).kind];
  return new StoreRefusedError(fix === undefined ? message : `${message} (${fix})`, { cause });
}

function isLocal(store: Store): boolean {
  return store.capabilities?.local === true;
}

function noop(): undefined {
  return undefined;
}
