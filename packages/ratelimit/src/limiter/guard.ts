// internal: calls to the primary store, bounded in time, counted, and bypassed while the store is down.
import { requestScopedTimers, unref } from '../_runtime.js';
import { attempt, Deadlines, EXPIRED, type Expired, withTimeout } from '../deadline.js';
import { classifyRedisError, isRefusal } from '../storage/errors.js';
import type { Store, StoreRequest } from '../store.js';
import type { StoreHealth } from '../stores/health.js';
import type { RatelimitEvent, RatelimitStats, StoreOperation } from './types.js';

/** Consecutive failed calls after which the primary is bypassed until a probe finds it healthy. */
export const FAILURES_TO_BYPASS = 5;
const WINDOW = 1024;

/** Why a primary call gave no answer. Internal: callers turn it into a result or a typed error. */
export class StoreFailure {
  constructor(
    readonly timedOut: boolean,
    readonly cause: unknown,
    /** Time spent on the call (ms). */
    readonly elapsedMs: number,
    /** The store answered, refusing the command for a reason that no retry fixes (see {@link isRefusal}). */
    readonly refused = false,
  ) {}
}

export interface GuardOptions {
  /** The bound of every primary call (ms); `Infinity` for none. */
  readonly timeout: number;
  readonly initialProbeDelay: number;
  readonly maxProbeDelay: number;
  /** The key that probes write and read back (asked for at the first probe). */
  readonly probeKey: () => string;
  readonly emit: ((event: RatelimitEvent) => void) | undefined;
}

/** The latencies of the last {@link WINDOW} calls, in a ring. */
class LatencyWindow {
  readonly #values = new Float64Array(WINDOW);
  #count = 0;

  add(ms: number): void {
    this.#values[this.#count++ % WINDOW] = ms;
  }

  percentiles(): RatelimitStats['latencyMs'] {
    const samples = Math.min(this.#count, WINDOW);
    if (samples === 0) return { p50: undefined, p99: undefined, samples };
    const sorted = this.#values.slice(0, samples).sort();
    const rank = (p: number) => sorted[Math.max(0, Math.ceil(p * samples) - 1)] as number;
    return { p50: rank(0.5), p99: rank(0.99), samples };
  }
}

interface Outage {
  readonly store: Store;
  readonly since: number;
}

/**
 * The limiter's side of the primary store: bounds each call by `timeout`, keeps the counters of `stats()`,
 * reports operations, and after {@link FAILURES_TO_BYPASS} failures in a row declares the store down and
 * probes it in the background (exponential backoff with jitter, on an unref'ed timer) until it is healthy.
 */
export class Guard {
  readonly #options: GuardOptions;
  readonly #deadlines: Deadlines | undefined;
  readonly #latency = new LatencyWindow();
  #calls = 0;
  #errors = 0;
  #timeouts = 0;
  #failures = 0;
  #outage: Outage | undefined;
  #probeDelay = 0;
  #probeTimer: ReturnType<typeof setTimeout> | undefined;
  /** When the next probe is due (`performance.now()`), or, while one runs, when it must have ended. */
  #probeDue = Number.POSITIVE_INFINITY;
  #closed = false;
  /** Timers and I/O belong to a request: a probe that its call does not wait for dies with it. */
  readonly #requestScoped = requestScopedTimers();

  constructor(options: GuardOptions) {
    this.#options = options;
    this.#deadlines = Number.isFinite(options.timeout) ? new Deadlines(options.timeout) : undefined;
  }

  /** True while the primary is bypassed. */
  get down(): boolean {
    return this.#outage !== undefined;
  }

  /**
   * {@link down}, for a call about to choose its store: a probe that is overdue starts here, in the call's
   * context. Its timer may never fire: Workers drop the timers of a request that has ended, and a limiter
   * that waited for it would bypass its store for the life of the isolate. There, the call also waits for
   * the probe (at most twice the timeout): the probe's own I/O is cancelled when its request ends, and a
   * call that answered from the fallback at once would end it before the store could answer.
   */
  bypassed(): boolean | Promise<boolean> {
    if (this.#outage !== undefined && !this.#closed && performance.now() >= this.#probeDue) {
      const probing = this.#probe();
      if (this.#requestScoped && probing !== undefined) return probing.then(() => this.#outage !== undefined);
    }
    return this.#outage !== undefined;
  }

  /** Runs `run` on the primary store within the timeout. Throws a {@link StoreFailure} and nothing else. */
  async call<T>(operation: StoreOperation, store: Store, run: (store: Store) => Promise<T>): Promise<T> {
    this.#calls++;
    const started = performance.now();
    let value: T | Expired;
    try {
      const op = attempt(() => run(store));
      value = this.#deadlines === undefined ? await op : await this.#deadlines.race(op, started);
    } catch (error) {
      if (isRefusal(error)) throw this.#refused(operation, started, error);
      throw this.#failed(operation, store, started, false, error);
    }
    if (value === EXPIRED) throw this.#failed(operation, store, started, true, undefined);
    const durationMs = performance.now() - started;
    this.#latency.add(durationMs);
    this.#failures = 0;
    if (this.#options.emit !== undefined) {
      this.#options.emit({ type: 'operation', operation, outcome: 'ok', durationMs });
    }
    return value;
  }

  snapshot(): Omit<RatelimitStats, 'calls' | 'fallbacks'> {
    return {
      storeCalls: this.#calls,
      errors: this.#errors,
      timeouts: this.#timeouts,
      fallbackActive: this.down,
      latencyMs: this.#latency.percentiles(),
    };
  }

  /** Stops probing. The limiter keeps working; a bypassed primary stays bypassed. */
  close(): void {
    this.#closed = true;
    if (this.#probeTimer !== undefined) clearTimeout(this.#probeTimer);
    this.#probeTimer = undefined;
  }

  #failed(
    operation: StoreOperation,
    store: Store,
    started: number,
    timedOut: boolean,
    error: unknown,
  ): StoreFailure {
    const durationMs = performance.now() - started;
    this.#latency.add(durationMs);
    if (timedOut) this.#timeouts++;
    else this.#errors++;
    const emit = this.#options.emit;
    if (emit !== undefined) {
      emit(
        timedOut
          ? { type: 'operation', operation, outcome: 'timeout', durationMs }
          : { type: 'operation', operation, outcome: 'error', durationMs, error },
      );
    }
    if (++this.#failures >= FAILURES_TO_BYPASS && this.#outage === undefined) {
      this.#bypass(store, timedOut ? this.#timeoutError() : error);
    }
    return new StoreFailure(timedOut, error, durationMs);
  }

  #refused(operation: StoreOperation, started: number, error: unknown): StoreFailure {
    const durationMs = performance.now() - started;
    this.#latency.add(durationMs);
    this.#errors++;
    this.#failures = 0; // it answered: it is up
    this.#options.emit?.({ type: 'operation', operation, outcome: 'error', durationMs, error });
    return new StoreFailure(false, error, durationMs, true);
  }

  #timeoutError(): Error {
    return new Error(`the store did not answer within ${this.#options.timeout} ms`);
  }

  #bypass(store: Store, error: unknown): void {
    this.#outage = { store, since: performance.now() };
    this.#probeDelay = this.#options.initialProbeDelay;
    this.#options.emit?.({ type: 'fallback', active: true, error });
    this.#schedule();
  }

  #schedule(): void {
    if (this.#closed || this.#outage === undefined) return;
    // Jitter keeps a fleet of instances from probing a recovering Redis in step.
    const delay = this.#probeDelay * (0.8 + 0.4 * Math.random());
    this.#probeDelay = Math.min(this.#probeDelay * 2, this.#options.maxProbeDelay);
    this.#probeDue = performance.now() + delay;
    this.#probeTimer = setTimeout(this.#probe, delay);
    unref(this.#probeTimer);
  }

  /** Starts a probe; the promise settles when it has been handled, `undefined` if none started. */
  readonly #probe = (): Promise<void> | undefined => {
    if (this.#probeTimer !== undefined) clearTimeout(this.#probeTimer);
    this.#probeTimer = undefined;
    const outage = this.#outage;
    if (outage === undefined || this.#closed) return undefined;
    const started = performance.now();
    // No call starts another probe while this one may still answer (it makes at most two bounded checks).
    this.#probeDue = started + 2 * (probeTimeout(this.#options) + PROBE_SLACK_MS);
    return probe(outage.store, this.#options).then((health) => {
      const durationMs = performance.now() - started;
      this.#options.emit?.(
        health.ok
          ? { type: 'operation', operation: 'probe', outcome: 'ok', durationMs }
          : { type: 'operation', operation: 'probe', outcome: 'error', durationMs, error: health.error },
      );
      if (this.#closed || this.#outage !== outage) return;
      if (!health.ok) return this.#schedule();
      this.#outage = undefined;
      this.#failures = 0;
      this.#options.emit?.({ type: 'fallback', active: false, durationMs: performance.now() - outage.since });
    });
  };
}

/** The bound of one probe check: the limiter's timeout, or 1 s without one. */
function probeTimeout(options: GuardOptions): number {
  return Number.isFinite(options.timeout) ? options.timeout : 1000;
}

/** What a probe check may take beyond its timeout before it is cut off here. */
const PROBE_SLACK_MS = 50;

/**
 * The store's own health check, or a read-only evaluate where it has none, or where its ACL refuses the
 * health check's commands (`NOPERM`: a user allowed the limiter's commands only). Never rejects.
 */
async function probe(store: Store, options: GuardOptions): Promise<StoreHealth> {
  const key = options.probeKey();
  const timeout = probeTimeout(options);
  const started = performance.now();
  try {
    const bounded = async (check: () => Promise<StoreHealth>): Promise<StoreHealth> => {
      // A health() that ignores its timeout is still bounded here.
      const health = await withTimeout(attempt(check), timeout + PROBE_SLACK_MS);
      if (health !== EXPIRED) return health;
      return { ok: false, latencyMs: performance.now() - started, error: new Error('the probe timed out') };
    };
    if (store.health === undefined) return await bounded(() => peek(store, key));
    const health = await bounded(() => (store.health as NonNullable<Store['health']>)({ key, timeout }));
    if (health.ok || classifyRedisError(health.error).kind !== 'noperm') return health;
    return await bounded(() => peek(store, key));
  } catch (error) {
    const latencyMs = performance.now() - started;
    return { ok: false, latencyMs, error: error instanceof Error ? error : new Error(String(error)) };
  }
}

async function peek(store: Store, key: string): Promise<StoreHealth> {
  const started = performance.now();
  const now = Date.now();
  const request: StoreRequest = {
    mode: 'peek',
    countDenied: false,
    now,
    cost: 0,
    member: 'probe',
    rules: [{ key, algorithm: 'fixed', limit: 1, windowMs: 1000, resetAt: now + 1000, expireAt: now + 2000 }],
  };
  await store.evaluate(request);
  return { ok: true, latencyMs: performance.now() - started };
}
