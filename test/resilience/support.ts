import { monitorEventLoopDelay } from 'node:perf_hooks';
import {
  MemoryStore,
  Ratelimit,
  type RatelimitEvent,
  type RatelimitOptions,
  type RatelimitResult,
} from '@periodkey/ratelimit';
import { prometheusMetrics } from '@periodkey/ratelimit/prometheus';
import type { Store } from '@periodkey/ratelimit/store';
import { testPrefix } from '@periodkey/test';
import { Registry } from 'prom-client';
import { expect } from 'vitest';

/** The limiters' timeout in these tests, and what a call may take beyond it on a loaded CI machine. */
export const TIMEOUT = 200;
export const MARGIN = 150;
export const BOUND = TIMEOUT + MARGIN;

// How late this process's timers ran: a process that the OS does not schedule (a loaded CI machine) delays
// every answer by that much, whatever the limiter does. The bound allows for it, and only for it.
const lag = monitorEventLoopDelay({ resolution: 10 });
lag.enable();

/** Starts measuring the event-loop stall anew (at the start of a test's traffic). */
export function resetLag(): void {
  lag.reset();
}

/** The longest the event loop stalled since {@link resetLag} (ms). */
export function lagMs(): number {
  return lag.max / 1e6;
}

/** A fixed instant: the limiters' decisions never depend on the wall clock. */
export const NOW = Date.parse('2026-11-24T10:00:30Z');

export type Policy = 'open' | 'closed' | 'fallback';
export const POLICIES: readonly Policy[] = ['open', 'closed', 'fallback'];

/** Every event of one limiter, and a way to wait for one (already seen or to come) without sleeping. */
export class Events {
  readonly seen: RatelimitEvent[] = [];
  #waiters: { match: (e: RatelimitEvent) => boolean; resolve: (e: RatelimitEvent) => void }[] = [];

  readonly listener = (event: RatelimitEvent): void => {
    this.seen.push(event);
    // Each matcher sees each event once (matchers may count).
    const waiting = this.#waiters;
    this.#waiters = [];
    for (const waiter of waiting) {
      if (waiter.match(event)) waiter.resolve(event);
      else this.#waiters.push(waiter);
    }
  };

  /** Resolves at the first matching event after the `after`-th one. */
  next(
    match: (e: RatelimitEvent) => boolean,
    what: string,
    timeoutMs = 30_000,
    after = 0,
  ): Promise<RatelimitEvent> {
    const found = this.seen.slice(after).find(match);
    if (found !== undefined) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${what} event within ${timeoutMs} ms`)), timeoutMs);
      this.#waiters.push({
        match,
        resolve: (event) => {
          clearTimeout(timer);
          resolve(event);
        },
      });
    });
  }

  /** The primary is bypassed (the switch to the fallback store or the policy), after the `after`-th event. */
  bypassed(after = 0, timeoutMs?: number): Promise<RatelimitEvent> {
    return this.next((e) => e.type === 'fallback' && e.active, 'fallback on', timeoutMs, after);
  }

  /** The primary is back, after the `after`-th event. */
  restored(after = 0, timeoutMs?: number): Promise<RatelimitEvent> {
    return this.next((e) => e.type === 'fallback' && !e.active, 'fallback off', timeoutMs, after);
  }
}

/** One limiter of the trio, with its events and its own Prometheus registry. */
export interface Subject {
  readonly policy: Policy;
  readonly limiter: Ratelimit;
  readonly events: Events;
  readonly registry: Registry;
  readonly fallback: MemoryStore | undefined;
}

/**
 * Three limiters on one store, under prefixes of their own: fail-open, fail-closed, and fail-open with a
 * MemoryStore fallback. A rule of 5 per minute on a fixed clock, a 200 ms timeout, fast probes.
 */
export function trio(store: Store, options: Partial<RatelimitOptions> = {}): Subject[] {
  const prefix = testPrefix('res');
  return POLICIES.map((policy) => {
    const events = new Events();
    const registry = new Registry();
    const metrics = prometheusMetrics({ registry });
    const fallback = policy === 'fallback' ? new MemoryStore() : undefined;
    const limiter = new Ratelimit({
      store,
      rules: { minute: '5/minute' },
      prefix: `${prefix}-${policy}`,
      now: () => NOW,
      timeout: TIMEOUT,
      failure: policy === 'closed' ? 'closed' : 'open',
      probe: { initialDelay: 20, maxDelay: 250 },
      onEvent: (event) => {
        metrics(event);
        events.listener(event);
      },
      ...(fallback === undefined ? {} : { fallback }),
      ...options,
    });
    return { policy, limiter, events, registry, fallback };
  });
}

export interface Call {
  readonly policy: Policy;
  readonly identity: string;
  readonly started: number;
  readonly ms: number;
  readonly result: RatelimitResult;
}

/**
 * Live traffic: `concurrency` loops per limiter, each calling `limit()` for identities of its own and
 * recording every answer with its latency. Loops yield to the event loop between calls, so that answers
 * from memory cannot starve timers.
 */
export function traffic(
  subjects: readonly Subject[],
  options: { concurrency?: number; identity?: (loop: number, i: number) => string } = {},
) {
  const { concurrency = 4, identity = (loop, i) => `user:${loop}:${i}` } = options;
  const calls: Call[] = [];
  let stopped = false;
  resetLag();
  const loops = subjects.flatMap(({ policy, limiter }) =>
    Array.from({ length: concurrency }, async (_, loop) => {
      for (let i = 0; !stopped; i++) {
        const id = identity(loop, i);
        const started = performance.now();
        const result = await limiter.limit(id);
        calls.push({ policy, identity: id, started, ms: performance.now() - started, result });
        // A turn of the timers phase between calls: requests arrive through I/O, and the traffic of these
        // tests must not starve the other test files that run beside them.
        await new Promise((resolve) => setTimeout(resolve, 0));
      }
    }),
  );
  return {
    calls,
    /** Calls of one limiter that started at or after `since` (a `performance.now()` reading). */
    since(policy: Policy, since: number): Call[] {
      return calls.filter((c) => c.policy === policy && c.started >= since);
    },
    async stop(): Promise<void> {
      stopped = true;
      await Promise.all(loops);
    },
  };
}

/** What each policy must answer while its store is failing: admitted, denied, or the fallback's count. */
export function expectPolicyAnswers(policy: Policy, calls: readonly Call[]): void {
  expect(calls.length).toBeGreaterThan(0);
  const reasons = new Set(calls.map((c) => c.result.reason));
  if (policy === 'fallback') {
    expect([...reasons]).toEqual(['fallback']);
    expect(calls.every((c) => c.result.success)).toBe(true); // fresh identities, 5 per minute
  } else {
    expect([...reasons].every((r) => r === 'timeout' || r === 'error')).toBe(true);
    expect(calls.every((c) => c.result.success === (policy === 'open'))).toBe(true);
  }
}

/** No call took longer than the timeout plus the margin (plus any stall of the whole process). */
export function expectBounded(calls: readonly Call[]): void {
  const worst = calls.reduce((max, c) => Math.max(max, c.ms), 0);
  const stall = lagMs();
  const what = `slowest of ${calls.length} limit() calls: ${worst.toFixed(1)} ms (event loop stalled up to ${stall.toFixed(0)} ms)`;
  expect(worst, what).toBeLessThan(BOUND + Math.max(0, stall - MARGIN / 3));
}

/** The calls from a fault on that the primary did not answer, i.e. the fault's calls. */
export function failedCalls(calls: readonly Call[]): Call[] {
  return calls.filter((c) => c.result.reason !== 'store' && c.result.reason !== 'cache');
}

/** Counting on the primary is exact again: a fresh identity gets exactly 5, then a denial from the store. */
export async function expectCountingRight(limiter: Ratelimit, identity: string): Promise<void> {
  for (let i = 4; i >= 0; i--) {
    expect(await limiter.limit(identity)).toMatchObject({ success: true, remaining: i, reason: 'store' });
  }
  expect(await limiter.limit(identity)).toMatchObject({ success: false, reason: 'store', retryAfter: 30 });
}

/** The value of one sample line of a registry's text, e.g. `metric(text, 'redis_fallback_active')`. */
export function metric(text: string, sample: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${sample} `));
  return line === undefined ? 0 : Number(line.slice(sample.length + 1));
}

/** Collects unhandled rejections (and uncaught exceptions) until the returned function is called. */
export function watchUnhandled(): () => unknown[] {
  const seen: unknown[] = [];
  const listener = (reason: unknown) => seen.push(reason);
  process.on('unhandledRejection', listener);
  process.on('uncaughtException', listener);
  return () => {
    process.off('unhandledRejection', listener);
    process.off('uncaughtException', listener);
    return seen;
  };
}

/** Waits until every subject has answered `n` more calls (events, no sleeping). */
export async function answered(subjects: readonly Subject[], n: number, reason?: string): Promise<void> {
  await Promise.all(
    subjects.map(({ events }) => {
      let seen = 0;
      return events.next(
        (e) => e.type === 'decision' && (reason === undefined || e.result.reason === reason) && ++seen >= n,
        `${n} decisions`,
        30_000,
        events.seen.length,
      );
    }),
  );
}

/** Runs a fault under traffic; returns the calls from the fault on, per subject, and when each was back. */
export async function underFault(
  subjects: readonly Subject[],
  inject: () => void,
  heal: () => Promise<void>,
) {
  const live = traffic(subjects);
  const unhandled = watchUnhandled();
  try {
    await answered(subjects, 20, 'store');
    const faultAt = performance.now();
    inject();
    const marks = subjects.map(({ events }) => events.seen.length);
    await Promise.all(subjects.map(({ events }, i) => events.bypassed(marks[i])));
    const bypassedAt = performance.now();
    await answered(subjects, 50); // a while into the outage
    const healMarks = subjects.map(({ events }) => events.seen.length);
    await heal();
    const restoredAt = await Promise.all(
      subjects.map(({ events }, i) => events.restored(healMarks[i]).then(() => performance.now())),
    );
    await answered(subjects, 20, 'store');
    await live.stop();
    return subjects.map((subject, i) => {
      const calls = live.since(subject.policy, faultAt);
      const outage = calls.filter((c) => c.started >= bypassedAt && c.started < (restoredAt[i] as number));
      return { subject, calls, outage };
    });
  } finally {
    await live.stop();
    expect(unhandled()).toEqual([]);
  }
}

export function expectThroughout(calls: readonly Call[], outage: readonly Call[], subject: Subject): void {
  expectBounded(calls);
  // From the fault on, whatever the primary did not answer was answered by the policy or the fallback;
  // while the primary was bypassed, nothing went to it.
  expectPolicyAnswers(subject.policy, failedCalls(calls));
  expect(outage.length).toBeGreaterThan(0);
  expect(outage.filter((c) => c.result.reason === 'store')).toEqual([]);
}

export async function expectMetrics(
  { policy, registry, limiter }: Subject,
  options: { probes?: 'one' | 'at least one' } = {},
): Promise<void> {
  const text = await registry.metrics();
  const failures =
    metric(text, 'redis_connection_errors_total{operation="limit",outcome="error"}') +
    metric(text, 'redis_connection_errors_total{operation="limit",outcome="timeout"}');
  expect(failures).toBeGreaterThanOrEqual(5);
  expect(metric(text, 'redis_fallback_active')).toBe(0);
  // One outage, one successful probe; a cluster that flaps while it declares the failure may need more.
  const probesOk = metric(text, 'redis_operation_duration_seconds_count{operation="probe",outcome="ok"}');
  if (options.probes === 'at least one') expect(probesOk).toBeGreaterThanOrEqual(1);
  else expect(probesOk).toBe(1);
  expect(
    metric(text, 'redis_operation_duration_seconds_count{operation="limit",outcome="ok"}'),
  ).toBeGreaterThan(0);
  const answered = (result: string, reason: string) =>
    metric(text, `rate_limit_requests_total{rule="minute",result="${result}",reason="${reason}"}`);
  if (policy === 'fallback') expect(answered('allowed', 'fallback')).toBeGreaterThan(0);
  if (policy === 'open')
    expect(answered('allowed', 'error') + answered('allowed', 'timeout')).toBeGreaterThan(0);
  if (policy === 'closed') {
    expect(answered('denied', 'error') + answered('denied', 'timeout')).toBeGreaterThan(0);
    expect(metric(text, 'rate_limit_exceeded_total{rule="minute"}')).toBeGreaterThan(0);
  }
  const stats = limiter.stats();
  expect(stats.fallbackActive).toBe(false);
  expect(stats.errors + stats.timeouts).toBe(failures);
}
