import {
  isInvalidOptionError,
  isInvalidRuleError,
  isInvalidTimeZoneError,
  MemoryStore,
  Ratelimit,
  type RatelimitOptions,
} from '@periodkey/ratelimit';
import type { Store, StoreRequest } from '@periodkey/ratelimit/store';
import { describe, expect, test } from 'vitest';

/** A memory store that counts the calls that reach it. */
class CountingStore extends MemoryStore {
  calls = 0;
  override evaluate(request: StoreRequest) {
    this.calls++;
    return super.evaluate(request);
  }
}

const NOW = Date.parse('2026-11-24T10:00:00Z');

function limiter(options: Partial<RatelimitOptions> = {}) {
  const store = new CountingStore();
  const clock = { t: NOW };
  const rl = new Ratelimit({ store, rules: { monthly: '3/month' }, now: () => clock.t, ...options });
  return { rl, store, clock };
}

describe('Ratelimit without a store round trip', () => {
  test('the allowlist always passes and never touches the store', async () => {
    const { rl, store } = limiter({ allowlist: ['alice'] });
    for (let i = 0; i < 10; i++) {
      expect(await rl.limit('alice')).toMatchObject({ success: true, reason: 'allowlist', remaining: 3 });
    }
    expect(store.calls).toBe(0);
    expect((await rl.limit('bob')).reason).toBe('store');
  });

  test('the denylist always denies and never touches the store; a function works too', async () => {
    const { rl, store } = limiter({
      denylist: (id) => typeof id === 'string' && id.startsWith('ip:10.'),
      allowlist: ['ip:10.0.0.1'],
    });
    expect(await rl.limit('ip:10.0.0.1')).toMatchObject({ success: false, reason: 'denylist', remaining: 0 });
    expect(store.calls).toBe(0);
  });

  test('the block cache answers a denied identity locally until its reset', async () => {
    const { rl, store, clock } = limiter();
    for (let i = 0; i < 4; i++) await rl.limit('user:1');
    expect(store.calls).toBe(4);
    for (let i = 0; i < 100; i++) expect((await rl.limit('user:1')).reason).toBe('cache');
    expect(store.calls).toBe(4);
    // A smaller cost might fit, so it goes to the store; other identities are unaffected.
    expect((await rl.limit('user:1', { cost: 0.5 })).reason).toBe('store');
    expect((await rl.limit('user:2')).success).toBe(true);
    clock.t = Date.parse('2026-12-01T00:00:00Z');
    expect(await rl.limit('user:1')).toMatchObject({ success: true, reason: 'store' });
  });

  test('the block cache can be switched off', async () => {
    const { rl, store } = limiter({ blockCache: false });
    for (let i = 0; i < 10; i++) await rl.limit('user:1');
    expect(store.calls).toBe(10);
  });

  test('a reset clears the block cache', async () => {
    const { rl } = limiter();
    for (let i = 0; i < 4; i++) await rl.limit('user:1');
    await rl.reset('user:1');
    expect(await rl.limit('user:1')).toMatchObject({ success: true, remaining: 2 });
  });
});

describe('exact amounts', () => {
  test('a million fractional costs add up with no drift', async () => {
    const store = new MemoryStore();
    const rl = new Ratelimit({ store, rules: { budget: '25000/month' }, now: () => NOW });
    for (let i = 0; i < 1_000_000; i++) await rl.limit('key', { cost: 0.0042 });
    expect((await rl.usage('key'))[0]).toMatchObject({ used: 4200, remaining: 20800 });
  });
});

describe('bad options throw typed errors that say what to change', () => {
  const store: Store = new MemoryStore();
  test.each([
    ['no rules', { rules: {} }, isInvalidOptionError, /at least one rule/],
    ['a zero limit', { rules: { m: '0/month' } }, isInvalidRuleError, /0\/month/],
    [
      'an unknown algorithm',
      { rules: { m: { limit: 1, per: 'minute', algorithm: 'leaky' } } },
      isInvalidRuleError,
      /leaky/,
    ],
    [
      'a bad zone',
      { rules: { m: '1/day' }, timeZone: 'Mars/Olympus' },
      isInvalidTimeZoneError,
      /Mars\/Olympus/,
    ],
    ['a bad store', { rules: { m: '1/day' }, store: {} }, isInvalidOptionError, /store/],
  ] as const)('%s', (_, options, guard, message) => {
    let thrown: unknown;
    try {
      new Ratelimit({ store, ...(options as unknown as RatelimitOptions) });
    } catch (error) {
      thrown = error;
    }
    expect(guard(thrown)).toBe(true);
    expect((thrown as Error).message).toMatch(message);
  });

  test.each([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY])(
    'a cost of %s',
    async (cost) => {
      const rl = new Ratelimit({ store, rules: { m: '1/day' } });
      await expect(rl.limit('x', { cost })).rejects.toSatisfy(isInvalidOptionError);
    },
  );

  test('a store URL with an unknown scheme, at construction', () => {
    expect(() => new Ratelimit({ store: 'mongodb://localhost', rules: { m: '1/day' } })).toThrow(
      /scheme "mongodb:", which is not supported; use redis:\/\/\[user:password@\]host:6379\[\/db\], rediss:\/\/.*redis\+cluster:\/\//,
    );
  });

  test('a limit override that is not positive', async () => {
    const rl = new Ratelimit({ store, rules: { m: '1/day' } });
    await expect(rl.limit('x', { limits: { m: 0 } })).rejects.toThrow(/limit override for rule "m"/);
  });
});

describe('the order of the option checks', () => {
  test('every other option is checked before the rules and the key parts, so its error is the one reported', () => {
    const error = (options: object) => {
      try {
        new Ratelimit(options as RatelimitOptions);
      } catch (caught) {
        return (caught as Error).message;
      }
      return 'no error';
    };
    expect(error({ rules: { a: 'bad' }, failure: 'x' })).toMatch(/^failure must be/);
    expect(error({ rules: { a: '1/minute' }, prefix: 'a b', store: 'foo://' })).toMatch(
      /^store URL has the scheme/,
    );
    expect(error({ rules: { a: '1/minute' }, now: 5, onEvent: 5 })).toMatch(/^now must be/);
  });
});
