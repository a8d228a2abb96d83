import { MemoryStore, Ratelimit, type RatelimitOptions, type RatelimitResult } from '@periodkey/ratelimit';
import type { RuleOutcome, Store, StoreRequest } from '@periodkey/ratelimit/store';
import { describe, expect, test } from 'vitest';

// What a result tells besides the decision: the instant it was made and each rule's window and period, so
// that headers (`RateLimit-Policy`'s `w`, `RateLimit`'s `t`) come from the result alone, whoever answered.

const at = (iso: string) => Date.parse(iso);
const NOW = at('2026-11-24T10:00:30Z');
const DAY = 86_400_000;

function limiter(options: Partial<RatelimitOptions> = {}, clock = { t: NOW }) {
  return new Ratelimit({
    store: new MemoryStore(),
    rules: { monthly: '3/month', sliding: { limit: 2, per: '1 minute', algorithm: 'sliding' } },
    now: () => clock.t,
    ...options,
  });
}

/** What every rule of a result says about its window, whoever answered. */
function windows(result: RatelimitResult) {
  return result.rules.map(({ rule, windowMs, period }) => ({ rule, windowMs, period }));
}

const NOVEMBER = { id: '202611', start: at('2026-11-01T00:00:00Z'), end: at('2026-12-01T00:00:00Z') };
const EXPECTED = [
  { rule: 'monthly', windowMs: 30 * DAY, period: NOVEMBER },
  { rule: 'sliding', windowMs: 60_000, period: null },
];

/** A store that always fails, as Redis down does. */
const down: Store = {
  evaluate: () => Promise.reject(new Error('down')),
  delete: () => Promise.reject(new Error('down')),
};

describe('every result carries its instant and each rule’s window and period', () => {
  test.each([
    ['store', {}, 'user:1'],
    ['allowlist', { allowlist: ['vip'] }, 'vip'],
    ['denylist', { denylist: ['bot'] }, 'bot'],
    ['error', { store: down }, 'user:1'],
    ['fallback', { store: down, fallback: new MemoryStore() }, 'user:1'],
  ] as const)('answered by %s', async (reason, options, identity) => {
    const result = await limiter(options).limit(identity);
    expect(result.reason).toBe(reason);
    expect(result.at).toBe(NOW);
    expect(windows(result)).toEqual(EXPECTED);
  });

  test('answered by the block cache: at is the cached call’s instant, not the first denial’s', async () => {
    const clock = { t: NOW };
    const rl = limiter({}, clock);
    for (let i = 0; i < 2; i++) await rl.limit('user:1');
    expect(await rl.limit('user:1')).toMatchObject({ success: false, reason: 'store' });
    clock.t = NOW + 5_000;
    const cached = await rl.limit('user:1');
    expect(cached).toMatchObject({ reason: 'cache', at: NOW + 5_000 });
    expect(windows(cached)).toEqual(EXPECTED);
  });

  test('a cost above a limit', async () => {
    const result = await limiter().limit('user:1', { cost: 5 });
    expect(result).toMatchObject({ reason: 'cost-exceeds-limit', at: NOW });
    expect(windows(result)).toEqual(EXPECTED);
  });

  test('usage() reports the same windows', async () => {
    const rules = await limiter().usage('user:1');
    expect(rules.map(({ rule, windowMs, period }) => ({ rule, windowMs, period }))).toEqual(EXPECTED);
  });

  test('a calendar window is the current period’s own length: February, a short day, a long day', async () => {
    const rules = { month: '1/month', day: '1/day' };
    const feb = await limiter({ rules }, { t: at('2027-02-10T12:00:00Z') }).limit('user:1');
    expect(feb.rules[0]).toMatchObject({ windowMs: 28 * DAY, period: { id: '202702' } });
    // Berlin moves its clocks forward on 29 March 2026 (a 23-hour day) and back on 25 October (25 hours).
    const berlin = { rules, timeZone: 'Europe/Berlin' };
    const spring = await limiter(berlin, { t: at('2026-03-29T12:00:00Z') }).limit('user:1');
    expect(spring.rules[1]).toMatchObject({
      windowMs: 23 * 3_600_000,
      period: { id: '20260329', start: at('2026-03-28T23:00:00Z'), end: at('2026-03-29T22:00:00Z') },
    });
    const autumn = await limiter(berlin, { t: at('2026-10-25T12:00:00Z') }).limit('user:1');
    expect(autumn.rules[1]).toMatchObject({ windowMs: 25 * 3_600_000 });
  });
});

describe('a store is treated by the capabilities it declares, not by its class', () => {
  /** A store that counts the calls reaching it and declares what the test says. */
  function declaring(capabilities: Store['capabilities']) {
    const inner = new MemoryStore();
    const store: Store & { calls: number } = {
      calls: 0,
      ...(capabilities === undefined ? {} : { capabilities }),
      evaluate(request: StoreRequest): Promise<RuleOutcome[]> {
        store.calls++;
        return inner.evaluate(request);
      },
      delete: (keys) => inner.delete(keys),
    };
    return store;
  }

  test('a local store is called directly: no timeout, no guard, no store calls in stats', async () => {
    const store = declaring({ local: true });
    const rl = new Ratelimit({ store, rules: { m: '5/minute' }, timeout: 1 });
    for (let i = 0; i < 3; i++) await rl.limit('user:1');
    expect(store.calls).toBe(3);
    expect(rl.stats()).toMatchObject({ calls: 3, storeCalls: 0 });
  });

  test('a store without capabilities, or not local, goes through the guard and is counted', async () => {
    for (const capabilities of [undefined, { local: false }, {}]) {
      const store = declaring(capabilities);
      const rl = new Ratelimit({ store, rules: { m: '5/minute' } });
      for (let i = 0; i < 3; i++) await rl.limit('user:1');
      expect(rl.stats().storeCalls).toBe(3);
    }
  });

  test('MemoryStore declares itself local, and so does a subclass', async () => {
    class Recording extends MemoryStore {}
    expect(new MemoryStore().capabilities).toEqual({ local: true });
    const rl = new Ratelimit({ store: new Recording(), rules: { m: '5/minute' } });
    await rl.limit('user:1');
    expect(rl.stats().storeCalls).toBe(0);
  });
});
