// internal: bounding store calls in time without a timer per call.
import { requestScopedTimers, unref } from './_runtime.js';

/** What a bounded call resolves with when its time ran out first. */
export const EXPIRED: unique symbol = Symbol('periodkey.expired');
export type Expired = typeof EXPIRED;

interface Waiter {
  readonly at: number;
  done: boolean;
  resolve: ((value: Expired) => void) | undefined;
}

/**
 * Deadlines of one fixed length under one timer. Calls join in the order they start, so their deadlines
 * are in order too: expiring is a walk from the oldest, and a call costs a slot in a ring instead of a
 * `setTimeout` + `clearTimeout` of its own. Where timers belong to a request ({@link requestScopedTimers}),
 * a timer shared by calls of several requests dies with the first request, so each call has its own.
 */
export class Deadlines {
  readonly #ms: number;
  readonly #perCall = requestScopedTimers();
  // A ring of waiters, oldest at #head; settled ones are skipped and dropped as the head passes them.
  #ring: (Waiter | undefined)[] = new Array(64);
  #head = 0;
  #size = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(ms: number) {
    this.#ms = ms;
  }

  /**
   * Settles like `op`, or with {@link EXPIRED} once `ms` have passed since `started` (a `performance.now()`
   * reading) first. A rejection of `op` after that is absorbed here: it never becomes unhandled.
   */
  race<T>(op: Promise<T>, started: number): Promise<T | Expired> {
    if (this.#perCall) return withTimeout(op, started + this.#ms - performance.now());
    return new Promise<T | Expired>((resolve, reject) => {
      const waiter: Waiter = { at: started + this.#ms, done: false, resolve };
      this.#push(waiter);
      op.then(
        (value) => {
          if (waiter.done) return;
          waiter.done = true;
          waiter.resolve = undefined;
          resolve(value);
        },
        (error: unknown) => {
          if (waiter.done) return;
          waiter.done = true;
          waiter.resolve = undefined;
          reject(error);
        },
      );
    });
  }

  #push(waiter: Waiter): void {
    let ring = this.#ring;
    // Calls mostly settle in the order they started: drop the settled ones at the head first.
    while (this.#size > 0 && (ring[this.#head] as Waiter).done) this.#shift();
    if (this.#size === ring.length) {
      const grown: (Waiter | undefined)[] = new Array(ring.length * 2);
      for (let i = 0; i < this.#size; i++) grown[i] = ring[(this.#head + i) % ring.length];
      ring = this.#ring = grown;
      this.#head = 0;
    }
    ring[(this.#head + this.#size++) % ring.length] = waiter;
    this.#timer ??= this.#arm(this.#ms);
  }

  /**
   * Unref'ed: the timer outlives the calls it was armed for (it is not cleared when they settle), and must
   * never keep a process alive; a pending store call keeps it alive through its own socket.
   */
  #arm(ms: number): ReturnType<typeof setTimeout> {
    const timer = setTimeout(this.#fire, ms);
    unref(timer);
    return timer;
  }

  #shift(): void {
    this.#ring[this.#head] = undefined;
    this.#head = (this.#head + 1) % this.#ring.length;
    this.#size--;
  }

  readonly #fire = (): void => {
    this.#timer = undefined;
    const now = performance.now();
    while (this.#size > 0) {
      const waiter = this.#ring[this.#head] as Waiter;
      if (!waiter.done) {
        if (waiter.at > now) break;
        waiter.done = true;
        const resolve = waiter.resolve;
        waiter.resolve = undefined;
        resolve?.(EXPIRED);
      }
      this.#shift();
    }
    const next = this.#ring[this.#head];
    // Node's timers run on a loop time that can lag `performance.now()`: never arm for less than 1 ms.
    if (this.#size > 0 && next !== undefined) this.#timer = this.#arm(Math.max(1, Math.ceil(next.at - now)));
  };
}

/** `op` bounded by `ms` with a timer of its own: for rare calls (probes, the fallback store). */
export function withTimeout<T>(op: Promise<T>, ms: number): Promise<T | Expired> {
  return new Promise<T | Expired>((resolve, reject) => {
    const timer = setTimeout(resolve, Math.max(0, ms), EXPIRED);
    op.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/** Calls `fn`, turning a synchronous throw into a rejection. */
export function attempt<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return fn();
  } catch (error) {
    return Promise.reject(error);
  }
}
