import { monitorEventLoopDelay } from 'node:perf_hooks';
import {
  isInvalidOptionError,
  isStoreUnavailableError,
  MemoryStore,
  Ratelimit,
  type RatelimitEvent,
  type RatelimitOptions,
  StoreUnavailableError,
} from '@periodkey/ratelimit';
import {
  checkHealth,
  type RuleOutcome,
  type Store,
  type StoreHealth,
  type StoreRequest,
} from '@periodkey/ratelimit/store';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { Deadlines, EXPIRED } from '../src/deadline.js';
import { prometheusMetrics } from '../src/prometheus.js';

// Unit tests of the failure policy, the fallback store, probes, events, stats and metrics, over stores that
// fail on command (fakes of the Store port, no Redis). The faults against real servers are in test/resilience.

const NOW = Date.parse('2026-11-24T10:00:00Z');
const TIMEOUT = 60;
/** Room for timers and the event loop on a loaded machine; what the product promises is "timeout + a few ms". */
const MARGIN = 150;

// How late this process's timers ran: a process the OS does not schedule delays every answer by that much,
// whatever the limiter does. Bounds allow for it, and only for it.
const lag = monitorEventLoopDelay({ resolution: 10 });
lag.enable();
/** The bound of a call that started after the last `timed()`: the timeout, the margin, and any stall. */
const bound = (timeout = TIMEOUT) => timeout + MARGIN + Math.max(0, lag.max / 1e6 - MARGIN / 3);

type Mode = 'ok' | 'hang' | 'fail' | 'throw' | 'refuse';

/** A store whose calls succeed (on an in-memory store), hang, reject or throw, as `mode` says. */
class FaultyStore implements Store {
  mode: Mode = 'ok';
  healthy = true;
  calls = 0;
  healthChecks = 0;
  readonly inner = new MemoryStore();
  /** Settles every hanging call: with an error (a late rejection) or with an answer. */
  readonly #hanging: (() => void)[] = [];

  evaluate(request: StoreRequest): Promise<RuleOutcome[]> {
    this.calls++;
    return this.#run(() => this.inner.evaluate(request));
  }

  delete(keys: readonly string[]): Promise<void> {
    this.calls++;
    return this.#run(() => this.inner.delete(keys));
  }

  async health(): Promise<StoreHealth> {
    this.healthChecks++;
    return this.healthy ? { ok: true, latencyMs: 1 } : { ok: false, latencyMs: 1, error: new Error('down') };
  }

  /** Rejects every call still hanging, after the limiter gave up on them. */
  rejectHanging(): void {
    for (const settle of this.#hanging.splice(0)) settle();
  }

  #run<T>(ok: () => Promise<T>): Promise<T> {
    switch (this.mode) {
      case 'ok':
        return ok();
      case 'fail':
        return Promise.reject(new Error('ECONNREFUSED'));
      case 'throw':
        throw new Error('thrown synchronously');
      case 'refuse':
        return Promise.reject(new Error('NOPERM No permissions to access a key'));
      case 'hang':
        return new Promise<T>((_, reject) => this.#hanging.push(() => reject(new Error('late'))));
    }
  }
}

function setup(options: Partial<RatelimitOptions> = {}) {
  const store = new FaultyStore();
  const events: RatelimitEvent[] = [];
  const clock = { t: NOW };
  const rl = new Ratelimit({
    store,
    rules: { minute: '3/minute' },
    now: () => clock.t,
    timeout: TIMEOUT,
    probe: { initialDelay: 5, maxDelay: 20 },
    onEvent: (event) => events.push(event),
    ...options,
  });
  limiters.push(rl);
  /** Resolves at the first event that matches, already seen or to come; no sleeping. */
  const waitFor = (match: (event: RatelimitEvent) => boolean) =>
    vi.waitFor(
      () => {
        const found = events.find(match);
        if (found === undefined) throw new Error('not yet');
        return found;
      },
      { timeout: 5000, interval: 5 },
    );
  return { rl, store, events, clock, waitFor };
}

const limiters: Ratelimit[] = [];
afterEach(() => {
  for (const rl of limiters.splice(0)) rl.close();
});

/** Awaits `call` and measures it; restarts the stall measurement first. */
async function timed<T>(call: Promise<T>): Promise<[T, number]> {
  lag.reset();
  const started = performance.now();
  const value = await call;
  return [value, performance.now() - started];
}

/** Collects unhandled rejections while `body` runs, then waits a few turns of the loop for late ones. */
async function unhandledDuring(body: () => Promise<void>): Promise<unknown[]> {
  const seen: unknown[] = [];
  const listener = (reason: unknown) => seen.push(reason);
  process.on('unhandledRejection', listener);
  try {
    await body();
    for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
  } finally {
    process.off('unhandledRejection', listener);
  }
  return seen;
}

describe('failure policy', () => {
  test('a hanging store: fail-open admits within the timeout, and the late rejection is absorbed', async () => {
    const { rl, store } = setup({ failure: 'open' });
    store.mode = 'hang';
    const unhandled = await unhandledDuring(async () => {
      const [result, ms] = await timed(rl.limit('user:1'));
      expect(result).toMatchObject({
        success: true,
        reason: 'timeout',
        limit: 3,
        remaining: 3,
        rule: 'minute',
      });
      expect(result.retryAfter).toBeUndefined();
      expect(ms).toBeGreaterThanOrEqual(TIMEOUT - 1);
      expect(ms).toBeLessThan(bound());
      store.rejectHanging();
    });
    expect(unhandled).toEqual([]);
  });

  test('a hanging store: fail-closed denies within the timeout', async () => {
    const { rl, store } = setup({ failure: 'closed' });
    store.mode = 'hang';
    const [result, ms] = await timed(rl.limit('user:1'));
    expect(result).toMatchObject({ success: false, reason: 'timeout', remaining: 0, retryAfter: 1 });
    expect(result.rules).toEqual([
      {
        rule: 'minute',
        success: false,
        limit: 3,
        used: 0,
        remaining: 0,
        reset: NOW,
        windowMs: 60_000,
        period: { id: '202611241000', start: NOW, end: NOW + 60_000 },
      },
    ]);
    expect(ms).toBeLessThan(bound());
    store.rejectHanging();
  });

  test('the default is fail-open, with a 1 s timeout', async () => {
    const store = new FaultyStore();
    const rl = new Ratelimit({ store, rules: { minute: '3/minute' } });
    store.mode = 'fail';
    expect(await rl.limit('user:1')).toMatchObject({ success: true, reason: 'error' });
    store.mode = 'hang';
    const [result, ms] = await timed(rl.limit('user:2'));
    expect(result.reason).toBe('timeout');
    expect(ms).toBeGreaterThanOrEqual(999);
    expect(ms).toBeLessThan(bound(1000));
    store.rejectHanging();
  });

  test('a failing store answers at once, not after the timeout; so does one that throws', async () => {
    const { rl, store } = setup({ failure: 'closed', timeout: 5000 });
    for (const mode of ['fail', 'throw'] as const) {
      store.mode = mode;
      const [result, ms] = await timed(rl.limit('user:1'));
      expect(result).toMatchObject({ success: false, reason: 'error' });
      expect(ms).toBeLessThan(bound(0));
    }
  });

  test('a store that refuses the command (NOPERM, WRONGTYPE, ...) is misconfigured: limit() rejects', async () => {
    const { rl, store, events } = setup({ fallback: new MemoryStore() });
    store.mode = 'refuse';
    for (let i = 0; i < 10; i++) await expect(rl.limit('user:1')).rejects.toThrow(/^NOPERM/);
    await expect(rl.usage('user:1')).rejects.toThrow(/^NOPERM/);
    // Never hidden behind the fallback, and the store is not bypassed: it answers.
    expect(rl.stats()).toMatchObject({ fallbackActive: false, fallbacks: 0, errors: 11 });
    expect(events.filter((e) => e.type === 'operation' && e.outcome === 'error')).toHaveLength(11);
  });

  test('denials of the policy are not cached: the next call asks the store again', async () => {
    const { rl, store } = setup({ failure: 'closed' });
    store.mode = 'fail';
    expect((await rl.limit('user:1')).reason).toBe('error');
    store.mode = 'ok';
    expect(await rl.limit('user:1')).toMatchObject({ success: true, reason: 'store', remaining: 2 });
  });

  test('many calls hanging at once all answer within the bound (one timer for all)', async () => {
    const { rl, store } = setup();
    store.mode = 'hang';
    lag.reset();
    const started = performance.now();
    const answers = await Promise.all(
      Array.from({ length: 500 }, (_, i) =>
        rl.limit(`user:${i}`).then((r) => [r.reason, performance.now() - started] as const),
      ),
    );
    expect(new Set(answers.map(([reason]) => reason))).toEqual(new Set(['timeout']));
    expect(Math.max(...answers.map(([, ms]) => ms))).toBeLessThan(bound());
    store.rejectHanging();
  });
});

describe('fallback store and recovery', () => {
  test('a call whose primary call fails is answered by the fallback, which counts on its own', async () => {
    const fallback = new MemoryStore();
    const { rl, store } = setup({ fallback });
    await rl.limit('user:1'); // primary: 1 used
    store.mode = 'fail';
    expect(await rl.limit('user:1')).toMatchObject({ success: true, reason: 'fallback', remaining: 2 });
    expect(await rl.limit('user:1')).toMatchObject({ success: true, reason: 'fallback', remaining: 1 });
    store.mode = 'ok';
    // The fallback's counts are not copied back: the primary still has 1.
    expect(await rl.limit('user:1')).toMatchObject({ reason: 'store', remaining: 1 });
  });

  test('a hanging primary: the fallback answers within the timeout', async () => {
    const { rl, store } = setup({ fallback: new MemoryStore(), failure: 'closed' });
    store.mode = 'hang';
    const [result, ms] = await timed(rl.limit('user:1'));
    expect(result).toMatchObject({ success: true, reason: 'fallback', remaining: 2 });
    expect(ms).toBeLessThan(bound());
    store.rejectHanging();
  });

  test('after 5 failures in a row the primary is bypassed, probed, and used again once healthy', async () => {
    const { rl, store, events, waitFor } = setup({ fallback: new MemoryStore() });
    store.mode = 'fail';
    store.healthy = false;
    for (let i = 0; i < 4; i++) await rl.limit(`user:${i}`);
    expect(rl.stats().fallbackActive).toBe(false);
    await rl.limit('user:4');
    expect(rl.stats().fallbackActive).toBe(true);
    const activated = events.find((e) => e.type === 'fallback');
    expect(activated).toMatchObject({ type: 'fallback', active: true });
    expect(String((activated as { error: unknown }).error)).toMatch(/ECONNREFUSED/);

    // Bypassed: answers come from the fallback without touching the primary.
    const calls = store.calls;
    for (let i = 0; i < 10; i++) expect((await rl.limit('user:x')).reason).toBe('fallback');
    expect(store.calls).toBe(calls);
    await waitFor((e) => e.type === 'operation' && e.operation === 'probe' && e.outcome === 'error');

    store.mode = 'ok';
    store.healthy = true;
    const back = await waitFor((e) => e.type === 'fallback' && !e.active);
    expect(back).toMatchObject({ type: 'fallback', active: false, durationMs: expect.any(Number) });
    expect(await rl.limit('user:x')).toMatchObject({ reason: 'store', remaining: 2 });
    expect(rl.stats()).toMatchObject({ fallbackActive: false, errors: 5, fallbacks: 15 });
  });

  test('without a fallback, a bypassed primary is not called: the policy answers at once', async () => {
    const { rl, store, waitFor } = setup({ failure: 'closed', timeout: 1000 });
    store.mode = 'hang';
    store.healthy = false;
    // Five calls hang together and time out together.
    const first = await Promise.all(Array.from({ length: 5 }, () => rl.limit('user:1', { cost: 1 })));
    expect(first.map((r) => r.reason)).toEqual(Array(5).fill('timeout'));
    await waitFor((e) => e.type === 'fallback' && e.active);
    const calls = store.calls;
    const [result, ms] = await timed(rl.limit('user:2'));
    expect(result).toMatchObject({ success: false, reason: 'error' });
    expect(ms).toBeLessThan(bound(0)); // not the 1000 ms of a call to the primary
    expect(store.calls).toBe(calls);
    store.rejectHanging();
  });

  test('a store without health() is probed with a read-only evaluate', async () => {
    const store = new FaultyStore();
    const plain: Store = { evaluate: (r) => store.evaluate(r), delete: (k) => store.delete(k) };
    const { rl, waitFor } = setup({ store: plain });
    store.mode = 'fail';
    for (let i = 0; i < 5; i++) await rl.limit('user:1');
    await waitFor((e) => e.type === 'operation' && e.operation === 'probe' && e.outcome === 'error');
    store.mode = 'ok';
    await waitFor((e) => e.type === 'fallback' && !e.active);
    expect(store.inner.size).toBe(0); // the probe wrote nothing
  });

  test('a failing fallback leaves the answer to the policy', async () => {
    const fallback = new FaultyStore();
    fallback.mode = 'fail';
    const { rl, store } = setup({ fallback, failure: 'closed' });
    store.mode = 'fail';
    expect(await rl.limit('user:1')).toMatchObject({ success: false, reason: 'error' });
  });

  test('probes back off exponentially, and close() (or await using) stops them', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    try {
      const { rl, store } = setup({ probe: { initialDelay: 100, maxDelay: 400 } });
      store.mode = 'fail';
      store.healthy = false;
      for (let i = 0; i < 5; i++) await rl.limit('user:1');
      // Delays 100, 200, 400, 400, ... each ±20%.
      const probesAfter = async (ms: number) => {
        await vi.advanceTimersByTimeAsync(ms);
        return store.healthChecks;
      };
      expect(await probesAfter(79)).toBe(0);
      expect(await probesAfter(41)).toBe(1); // t = 120
      expect(await probesAfter(119)).toBe(1); // t = 239 < 80 + 160
      expect(await probesAfter(121)).toBe(2); // t = 360 >= 120 + 240
      expect(await probesAfter(800)).toBeGreaterThanOrEqual(3);
      expect(await probesAfter(800)).toBeLessThanOrEqual(2 + Math.ceil(1600 / 320));
      await rl[Symbol.asyncDispose](); // what `await using` calls: the same as close()
      const closed = store.healthChecks;
      expect(await probesAfter(10_000)).toBe(closed);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('usage() and reset() when the store fails', () => {
  test('throw a StoreUnavailableError: with the cause when it failed, timedOut when it hung', async () => {
    const { rl, store } = setup();
    store.mode = 'fail';
    const failed = await rl.usage('user:1').catch((error: unknown) => error);
    expect(failed).toBeInstanceOf(StoreUnavailableError);
    expect(isStoreUnavailableError(failed)).toBe(true);
    expect(failed).toMatchObject({ name: 'StoreUnavailableError', timedOut: false });
    expect(String((failed as Error).cause)).toMatch(/ECONNREFUSED/);
    expect((failed as Error).message).toMatch(/usage\(\) failed in the store/);

    store.mode = 'hang';
    const [hung, ms] = await timed(rl.reset('user:1').catch((error: unknown) => error));
    expect(hung).toMatchObject({ name: 'StoreUnavailableError', timedOut: true });
    expect((hung as Error).message).toMatch(/within 60 ms.*raise the limiter's timeout/);
    expect(ms).toBeLessThan(bound());
    store.rejectHanging();
  });

  test('reset() clears the fallback store too, even when the primary fails', async () => {
    const fallback = new MemoryStore();
    const { rl, store } = setup({ fallback });
    store.mode = 'fail';
    for (let i = 0; i < 3; i++) await rl.limit('user:1');
    expect(await rl.limit('user:1')).toMatchObject({ success: false, reason: 'fallback' });
    await expect(rl.reset('user:1')).rejects.toSatisfy(isStoreUnavailableError);
    expect(await rl.limit('user:1')).toMatchObject({ success: true, reason: 'fallback', remaining: 2 });
  });
});

describe('events and stats', () => {
  test('decisions, operations and the switch to and from the fallback, in order', async () => {
    const { rl, store, events, waitFor } = setup({
      fallback: new MemoryStore(),
      tokenSecret: 'a secret of at least 16 bytes',
    });
    await rl.limit('user:1', { scope: '/api' });
    await rl.limit({ token: 'secret-token-never-in-events' });
    store.mode = 'fail';
    store.healthy = false;
    for (let i = 0; i < 5; i++) await rl.limit('user:1');
    store.healthy = true;
    store.mode = 'ok';
    await waitFor((e) => e.type === 'fallback' && !e.active);
    const summary = events.map((e) =>
      e.type === 'decision'
        ? `decision ${e.identifier ?? 'token'} ${e.scope} ${e.result.reason}`
        : e.type === 'operation'
          ? `operation ${e.operation} ${e.outcome}`
          : `fallback ${e.active}`,
    );
    expect(summary).toEqual([
      'operation limit ok',
      'decision user:1 /api store',
      'operation limit ok',
      'decision token  store',
      ...Array(4).fill(['operation limit error', 'decision user:1  fallback']).flat(),
      'operation limit error',
      'fallback true',
      'decision user:1  fallback',
      'operation probe ok',
      'fallback false',
    ]);
    expect(JSON.stringify(events.filter((e) => e.type === 'decision'))).not.toContain('secret-token');
  });

  test('a listener that throws never breaks limit(), and is reported once as a warning', async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.message);
    process.on('warning', onWarning);
    try {
      const { rl } = setup({
        onEvent: () => {
          throw new Error('listener bug');
        },
      });
      for (let i = 0; i < 3; i++) expect((await rl.limit('user:1')).success).toBe(true);
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.filter((w) => w.includes('listener bug'))).toHaveLength(1);
    } finally {
      process.off('warning', onWarning);
    }
  });

  test('stats() counts calls, errors, timeouts, fallbacks and latency percentiles', async () => {
    const { rl, store } = setup({ fallback: new MemoryStore() });
    expect(rl.stats()).toEqual({
      calls: 0,
      storeCalls: 0,
      errors: 0,
      timeouts: 0,
      fallbacks: 0,
      fallbackActive: false,
      latencyMs: { p50: undefined, p99: undefined, samples: 0 },
    });
    for (let i = 0; i < 10; i++) await rl.limit(`user:${i}`);
    store.mode = 'fail';
    await rl.limit('user:1');
    store.mode = 'hang';
    await rl.limit('user:1');
    store.rejectHanging();
    const stats = rl.stats();
    expect(stats).toMatchObject({ calls: 12, storeCalls: 12, errors: 1, timeouts: 1, fallbacks: 2 });
    expect(stats.latencyMs.samples).toBe(12);
    expect(stats.latencyMs.p50).toBeLessThan(TIMEOUT);
    expect(stats.latencyMs.p99).toBeGreaterThanOrEqual(TIMEOUT - 1);
  });

  test('the latency window keeps the last 1024 calls', async () => {
    const { rl } = setup();
    for (let i = 0; i < 1500; i++) await rl.limit(`user:${i}`);
    expect(rl.stats().latencyMs.samples).toBe(1024);
  });

  test('a plain MemoryStore primary is called directly: nothing to time out, no store calls counted', async () => {
    const rl = new Ratelimit({ store: new MemoryStore(), rules: { m: '1/minute' }, timeout: 1 });
    for (let i = 0; i < 3; i++) await rl.limit('user:1');
    expect(rl.stats()).toMatchObject({ calls: 3, storeCalls: 0, fallbacks: 0 });
  });
});

describe('prometheus metrics', () => {
  test('record decisions, store calls, failures and the fallback gauge under seed-001 names', async () => {
    const registry = new Registry();
    const { rl, store } = setup({ fallback: new MemoryStore(), onEvent: prometheusMetrics({ registry }) });
    // A second call on the same registry reuses the registered metrics instead of throwing.
    expect(prometheusMetrics({ registry })).toBeTypeOf('function');
    for (let i = 0; i < 4; i++) await rl.limit('user:1');
    store.mode = 'fail';
    store.healthy = false;
    for (let i = 0; i < 5; i++) await rl.limit('user:2');
    const text = await registry.metrics();
    expect(text).toContain('rate_limit_requests_total{rule="minute",result="allowed",reason="store"} 3');
    expect(text).toContain('rate_limit_requests_total{rule="minute",result="denied",reason="store"} 1');
    expect(text).toContain('rate_limit_requests_total{rule="minute",result="allowed",reason="fallback"} 3');
    expect(text).toContain('rate_limit_requests_total{rule="minute",result="denied",reason="fallback"} 2');
    expect(text).toContain('rate_limit_exceeded_total{rule="minute"} 3');
    expect(text).toContain('redis_operation_duration_seconds_count{operation="limit",outcome="ok"} 4');
    expect(text).toContain('redis_connection_errors_total{operation="limit",outcome="error"} 5');
    expect(text).toContain('redis_fallback_active 1');
    store.healthy = true;
    store.mode = 'ok';
    await vi.waitFor(async () => expect(await registry.metrics()).toContain('redis_fallback_active 0'));
    expect(await registry.metrics()).toMatch(
      /redis_operation_duration_seconds_count\{operation="probe",outcome="ok"\} 1\n/,
    );
  });
});

describe('health', () => {
  test('MemoryStore is always healthy', async () => {
    expect(await new MemoryStore().health()).toEqual({ ok: true, latencyMs: 0 });
  });

  test('checkHealth: ping, write, read back; a mismatch, an error or a timeout is { ok: false }', async () => {
    const data = new Map<string, string>();
    const good = {
      ping: async () => 'PONG',
      write: async (key: string, value: string, ttl: number) => {
        expect(ttl).toBe(30_000);
        data.set(key, value);
      },
      read: async (key: string) => data.get(key),
    };
    const ok = await checkHealth(good, { key: 'k' });
    expect(ok).toMatchObject({ ok: true });
    expect(ok.latencyMs).toBeGreaterThanOrEqual(0);
    expect(data.get('k')).toMatch(/^ok-[0-9a-f]{16}$/);

    const stale = await checkHealth({ ...good, read: async () => 'other' }, { key: 'k' });
    expect(stale).toMatchObject({ ok: false, error: expect.any(Error) });
    expect(stale.error?.message).toMatch(/read back "other"/);

    const refused = await checkHealth(
      { ...good, ping: () => Promise.reject(new Error('NOPERM')) },
      { key: 'k' },
    );
    expect(refused.error?.message).toBe('NOPERM');

    const unhandled = await unhandledDuring(async () => {
      let late: (error: Error) => void = () => {};
      const slow = await checkHealth(
        { ...good, ping: () => new Promise((_, reject) => (late = reject)) },
        { key: 'k', timeout: 20 },
      );
      expect(slow.error?.message).toMatch(/within 20 ms/);
      late(new Error('late'));
    });
    expect(unhandled).toEqual([]);
  });
});

describe('Deadlines', () => {
  test('expire each pending call at its own deadline; settled ones never expire', async () => {
    const deadlines = new Deadlines(40);
    const started = performance.now();
    const never = new Promise<string>(() => {});
    const pending = [
      deadlines.race(never, performance.now()),
      deadlines.race(Promise.resolve('fast'), performance.now()),
      deadlines.race(new Promise<string>((resolve) => setTimeout(resolve, 10, 'ten')), performance.now()),
    ];
    await new Promise((resolve) => setTimeout(resolve, 20));
    const late = deadlines.race(never, performance.now());
    const [a, b, c] = await Promise.all(pending);
    expect([a, b, c]).toEqual([EXPIRED, 'fast', 'ten']);
    const afterFirst = performance.now() - started;
    expect(afterFirst).toBeGreaterThanOrEqual(39);
    expect(await late).toBe(EXPIRED);
    expect(performance.now() - started).toBeGreaterThanOrEqual(59);
  });

  test('hold thousands of calls in a ring that grows', async () => {
    const deadlines = new Deadlines(1000);
    const values = await Promise.all(
      Array.from({ length: 5000 }, (_, i) => deadlines.race(Promise.resolve(i), performance.now())),
    );
    expect(values).toEqual(Array.from({ length: 5000 }, (_, i) => i));
  });
});

describe('options are checked at construction', () => {
  const store = new MemoryStore();
  test.each([
    ['failure', { failure: 'maybe' }, /failure must be 'open'.*or 'closed'/],
    ['timeout 0', { timeout: 0 }, /timeout must be a positive number of milliseconds/],
    ['timeout NaN', { timeout: Number.NaN }, /timeout must be a positive/],
    ['timeout too large for a timer', { timeout: 2 ** 31 }, /timeout must be a positive/],
    ['fallback', { fallback: {} }, /fallback must be a Store/],
    ['onEvent', { onEvent: 'log' }, /onEvent must be a function/],
    ['probe delays', { probe: { initialDelay: 500, maxDelay: 100 } }, /probe.maxDelay must be/],
    ['probe delay', { probe: { initialDelay: -1 } }, /probe.initialDelay must be a positive/],
  ] as const)('%s', (_, options, message) => {
    let thrown: unknown;
    try {
      new Ratelimit({ store, rules: { m: '1/day' }, ...(options as unknown as Partial<RatelimitOptions>) });
    } catch (error) {
      thrown = error;
    }
    expect(isInvalidOptionError(thrown)).toBe(true);
    expect((thrown as Error).message).toMatch(message);
  });

  test('timeout: Infinity means no bound', () => {
    expect(
      () => new Ratelimit({ store, rules: { m: '1/day' }, timeout: Number.POSITIVE_INFINITY }),
    ).not.toThrow();
  });
});
