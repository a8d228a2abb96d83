import {
  type Identity,
  isInvalidKeyPartError,
  isInvalidOptionError,
  isInvalidRuleError,
  isPeriodkeyError,
  MemoryStore,
  Ratelimit,
  type RatelimitOptions,
} from '@periodkey/ratelimit';
import type { StoreRequest } from '@periodkey/ratelimit/store';
import { describe, expect, test } from 'vitest';

// Issue 11: no input, option or store state makes the limiter silently admit what it should deny. One test
// (or more) per finding, named after it; the Redis-side findings are in test/sdk/trust.test.ts.

const NOW = Date.parse('2026-11-24T10:00:00Z');
const SECRET = 'trust-suite-token-secret-0123456789';

class CountingStore extends MemoryStore {
  readonly requests: StoreRequest[] = [];
  override evaluate(request: StoreRequest) {
    this.requests.push(request);
    return super.evaluate(request);
  }
}

function limiter(options: Partial<RatelimitOptions> = {}) {
  const store = new CountingStore();
  const clock = { t: NOW };
  const rl = new Ratelimit({ store, rules: { monthly: '3/month' }, now: () => clock.t, ...options });
  return { rl, store, clock };
}

/** The error that `fn` throws or rejects with. */
async function failure(fn: () => unknown): Promise<Error> {
  try {
    await fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a throw');
}

/** Calls `new Ratelimit(options)` with options a type checker would reject, as plain JavaScript can. */
function construct(options: unknown): Ratelimit {
  return new Ratelimit(options as RatelimitOptions);
}

describe('finding 1: costs below the resolution are never free', () => {
  test('100,000 calls at cost 4e-7 on an exhausted 0.001 budget are all denied', async () => {
    const { rl } = limiter({ rules: { budget: { limit: 0.001, per: 'month' } }, blockCache: false });
    expect((await rl.limit('key:a', { cost: 0.001 })).success).toBe(true);
    let admitted = 0;
    for (let i = 0; i < 100_000; i++) if ((await rl.limit('key:a', { cost: 4e-7 })).success) admitted++;
    expect(admitted).toBe(0);
  });

  test('a cost below a millionth is charged a millionth: 0.001 admits exactly 1000 of them', async () => {
    const { rl } = limiter({ rules: { budget: { limit: 0.001, per: 'month' } } });
    let admitted = 0;
    for (let i = 0; i < 1500; i++) if ((await rl.limit('key:b', { cost: 4e-7 })).success) admitted++;
    expect(admitted).toBe(1000);
  });

  test('1.4e-6 is charged 2e-6 (rounded up), while 0.0042 stays exact', async () => {
    const { rl } = limiter({ rules: { budget: '1/month' } });
    await rl.limit('key:c', { cost: 1.4e-6 });
    expect((await rl.usage('key:c'))[0]?.used).toBe(0.000002);
    for (let i = 0; i < 100; i++) await rl.limit('key:d', { cost: 0.0042 });
    expect((await rl.usage('key:d'))[0]?.used).toBe(0.42);
  });

  test('a refund is never larger than asked: -1.4e-6 refunds 1e-6', async () => {
    const { rl } = limiter({ rules: { budget: '1/month' } });
    await rl.limit('key:e', { cost: 0.5 });
    await rl.limit('key:e', { cost: -1.4e-6 });
    expect((await rl.usage('key:e'))[0]?.used).toBe(0.499999);
  });

  test.each([
    ['a string', '1'],
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['too large to count exactly', 1e13],
    ['null', null],
  ])('a cost that is %s is a typed error', async (_, cost) => {
    const { rl } = limiter();
    const error = await failure(() => rl.limit('key:f', { cost: cost as number }));
    expect(isInvalidOptionError(error)).toBe(true);
    expect(error.message).toMatch(/cost/);
  });

  test('a limit override below the resolution or with more than 6 decimals is a typed error', async () => {
    const { rl } = limiter();
    for (const limit of [4e-7, 1.0000004, Number.NaN, -1, 0]) {
      const error = await failure(() => rl.limit('key:g', { limits: { monthly: limit } }));
      expect(isInvalidOptionError(error)).toBe(true);
    }
  });
});

describe('finding 2: a list given as a string', () => {
  test.each([
    ['a string', 'baduser'],
    ['a number', 42],
    ['an object', { baduser: true }],
    ['a list with a non-string', ['ok', 42]],
  ])('a denylist that is %s is a typed error at construction', (_, denylist) => {
    const error = (() => {
      try {
        construct({ rules: { m: '3/month' }, denylist });
      } catch (e) {
        return e as Error;
      }
    })();
    expect(isInvalidOptionError(error)).toBe(true);
    expect(error?.message).toMatch(/denylist/);
  });

  test('the string form says what to pass instead', () => {
    expect(() => construct({ rules: { m: '3/month' }, allowlist: 'alice' })).toThrow(/\["alice"\]/);
  });

  test('arrays, sets and predicates work', async () => {
    for (const denylist of [['baduser'], new Set(['baduser']), (id: Identity) => id === 'baduser']) {
      const { rl } = limiter({ denylist });
      expect((await rl.limit('baduser')).reason).toBe('denylist');
      expect((await rl.limit('b')).reason).toBe('store');
    }
  });
});

describe('finding 3: unknown and wrongly typed options', () => {
  test.each([
    ['failur', 'failure'],
    ['timezone', 'timeZone'],
    ['blockcache', 'blockCache'],
    ['tokensecret', 'tokenSecret'],
    ['deny', 'denylist'],
  ])('the option %s is a typed error suggesting %s', (typo, suggested) => {
    const error = (() => {
      try {
        construct({ rules: { m: '3/month' }, [typo]: 'x' });
      } catch (e) {
        return e as Error;
      }
    })();
    expect(isInvalidOptionError(error)).toBe(true);
    expect(error?.message).toContain(`"${typo}"`);
    expect(error?.message).toContain(`did you mean "${suggested}"`);
  });

  test('a key of a rule object that does not exist (burst) is a typed error', () => {
    expect(() =>
      construct({ rules: { tb: { algorithm: 'token-bucket', limit: 10, per: '1 second', burst: 50 } } }),
    ).toThrow(/burst/);
    try {
      construct({ rules: { m: { limit: 10, per: 'month', algoritm: 'sliding' } } });
    } catch (error) {
      expect(isInvalidRuleError(error)).toBe(true);
      expect((error as Error).message).toContain('did you mean "algorithm"');
    }
  });

  test.each([
    ['tokenSecret', 42],
    ['tokenSecret', { secret: 'x' }],
    ['countDenied', 'false'],
    ['blockCache', 0],
    ['prefix', 7],
    ['timeZone', 1],
    ['rules', '10/month'],
    ['probe', 100],
    ['probe', { initialdelay: 100 }],
    ['store', 'redis://localhost:notaport'],
    ['store', 'redis://localhost:6379/abc'],
    ['store', 'mysql://localhost'],
    ['store', 'redis:/'],
    ['store', 42],
  ])('%s: %j is a typed error at construction', (name, value) => {
    const options: Record<string, unknown> = { rules: { m: '3/month' }, [name]: value };
    try {
      construct(options);
      expect.unreachable();
    } catch (error) {
      expect(isPeriodkeyError(error)).toBe(true);
      expect((error as Error).message).toMatch(new RegExp(name.slice(0, 4), 'i'));
    }
  });

  test('options that are not an object are a typed error', () => {
    for (const options of [undefined, null, 'rules', 42]) {
      expect(() => construct(options)).toThrow(expect.objectContaining({ name: 'InvalidOptionError' }));
    }
  });

  test('an unknown key of a call is a typed error, so a typo never drops the scope', async () => {
    const { rl } = limiter();
    const error = await failure(() => rl.limit('user:1', { scop: '/api' } as never));
    expect(isInvalidOptionError(error)).toBe(true);
    expect(error.message).toContain('did you mean "scope"');
  });
});

describe('finding 4: identity and scope', () => {
  test.each([
    ['a number', 42],
    ['undefined', undefined],
    ['null', null],
    ['an array', ['user:1']],
    ['an object without token', { id: 'user:1' }],
    ['an empty string', ''],
  ])('an identity that is %s is a typed error that says what to pass', async (_, identity) => {
    const { rl } = limiter();
    const error = await failure(() => rl.limit(identity as Identity));
    expect(isInvalidKeyPartError(error)).toBe(true);
    expect(error.message).toMatch(/identity/i);
    expect(error.message).not.toMatch(/tokenSecret/);
  });

  test('a non-string scope is a typed error: ["x", "y"] never shares a count with "x,y"', async () => {
    const { rl } = limiter();
    for (const scope of [['x', 'y'], 42, null, { route: '/a' }]) {
      const error = await failure(() => rl.limit('user:1', { scope: scope as unknown as string }));
      expect(isInvalidKeyPartError(error)).toBe(true);
      expect(error.message).toMatch(/scope/);
    }
  });

  test("limit(id, '/api') is a typed error, not a call without the scope", async () => {
    const { rl } = limiter();
    const error = await failure(() => rl.limit('user:1', '/api' as never));
    expect(isInvalidOptionError(error)).toBe(true);
    expect(error.message).toContain("{ scope: '/api' }");
  });

  test('an identity or scope past its bound is a typed error; the bounds are options', async () => {
    const { rl } = limiter();
    expect((await rl.limit('u'.repeat(256))).success).toBe(true);
    expect(isInvalidKeyPartError(await failure(() => rl.limit('u'.repeat(257))))).toBe(true);
    expect(isInvalidKeyPartError(await failure(() => rl.limit('u'.repeat(1_000_000))))).toBe(true);
    expect(isInvalidKeyPartError(await failure(() => rl.limit('u', { scope: 's'.repeat(257) })))).toBe(true);
    const roomy = limiter({ maxIdentityLength: 2000, maxScopeLength: 10 }).rl;
    expect((await roomy.limit('u'.repeat(2000))).success).toBe(true);
    expect(isInvalidKeyPartError(await failure(() => roomy.limit('u', { scope: 's'.repeat(11) })))).toBe(
      true,
    );
    expect(() => limiter({ maxIdentityLength: 0 })).toThrow(/maxIdentityLength/);
    expect(() => limiter({ maxScopeLength: Number.NaN })).toThrow(/maxScopeLength/);
  });

  test('a huge token is bounded too, and never reaches a key', async () => {
    const { rl } = limiter({ tokenSecret: SECRET });
    expect((await rl.limit({ token: 't'.repeat(4096) })).success).toBe(true);
    expect(isInvalidKeyPartError(await failure(() => rl.limit({ token: 't'.repeat(4097) })))).toBe(true);
  });
});

describe('finding 5: rule names that are names of Object.prototype', () => {
  const NAMES = ['__proto__', 'constructor', 'toString', 'valueOf', 'hasOwnProperty'];

  test('every rule name works, with and without limits', async () => {
    const rules = Object.fromEntries(NAMES.map((name) => [name, '2/month']));
    const { rl } = limiter({ rules, limits: () => ({ monthly: undefined }) as never });
    expect(Object.keys(rules)).toContain('__proto__');
    const first = await rl.limit('user:1', { limits: {} });
    expect(first.rules.map((r) => [r.rule, r.remaining])).toEqual(NAMES.map((n) => [n, 1]));
    const overrides = Object.fromEntries([['constructor', 5]]);
    const second = await rl.limit('user:1', { limits: overrides });
    expect(second.rules.map((r) => r.limit)).toEqual([2, 5, 2, 2, 2]);
  });

  test('a limit override for a rule that does not exist is a typed error naming the rules', async () => {
    const { rl } = limiter();
    const error = await failure(() => rl.limit('user:1', { limits: { montly: 10 } }));
    expect(isInvalidOptionError(error)).toBe(true);
    expect(error.message).toContain('did you mean "monthly"');
    const prototypeName = await failure(() => rl.limit('user:1', { limits: { toString: 10 } }));
    expect(isInvalidOptionError(prototypeName)).toBe(true);
  });
});

describe('finding 6: a clock with sub-millisecond precision', () => {
  test('the store sees whole milliseconds; a clock that is not a finite time is a typed error', async () => {
    const { rl, store, clock } = limiter();
    clock.t = NOW + 0.123_456;
    await rl.limit('user:1');
    expect(store.requests[0]?.now).toBe(NOW);
    for (const t of [Number.NaN, Number.POSITIVE_INFINITY, -1]) {
      clock.t = t;
      expect(isInvalidOptionError(await failure(() => rl.limit('user:1')))).toBe(true);
    }
  });
});

describe('finding 8: { token } identities get limits, allowlist and denylist', () => {
  test('a revoked API key on the denylist is denied; the lists hold { token } entries', async () => {
    const { rl, store } = limiter({
      tokenSecret: SECRET,
      denylist: [{ token: 'sk_revoked' }, 'sk_clear'],
      allowlist: [{ token: 'sk_internal' }],
    });
    expect(await rl.limit({ token: 'sk_revoked' })).toMatchObject({ success: false, reason: 'denylist' });
    expect(await rl.limit({ token: 'sk_internal' })).toMatchObject({ success: true, reason: 'allowlist' });
    // A token never matches a clear entry with the same text, nor the reverse.
    expect((await rl.limit({ token: 'sk_clear' })).reason).toBe('store');
    expect((await rl.limit('sk_revoked')).reason).toBe('store');
    expect(store.requests).toHaveLength(2);
  });

  test('predicates and limits receive the identity as given', async () => {
    const seen: Identity[] = [];
    const { rl } = limiter({
      tokenSecret: SECRET,
      denylist: (identity) => typeof identity !== 'string' && identity.token === 'sk_bad',
      limits: (identity) => {
        seen.push(identity);
        return typeof identity === 'string' ? undefined : { monthly: 1 };
      },
    });
    expect((await rl.limit({ token: 'sk_bad' })).reason).toBe('denylist');
    expect(await rl.limit({ token: 'sk_good' })).toMatchObject({ success: true, limit: 1 });
    expect((await rl.limit({ token: 'sk_good' })).success).toBe(false);
    expect(seen).toEqual([{ token: 'sk_good' }, { token: 'sk_good' }]);
  });
});

describe('finding 9: the block cache key is injective', () => {
  test("('a\\0b', 'c') and ('a', 'b\\0c') never share a block", async () => {
    const { rl } = limiter({ rules: { m: '1/month' } });
    await rl.limit('a\u0000b', { scope: 'c' });
    expect((await rl.limit('a\u0000b', { scope: 'c' })).success).toBe(false);
    expect(await rl.limit('a', { scope: 'b\u0000c' })).toMatchObject({ success: true, reason: 'store' });
  });
});

describe('finding 12: what a denial says about retrying', () => {
  test('a denylisted identity is told to retry after the longest rule window, never at once', async () => {
    const { rl } = limiter({ rules: { minute: '5/minute', day: '100/day' }, denylist: ['bad'] });
    expect(await rl.limit('bad')).toMatchObject({ success: false, reason: 'denylist', retryAfter: 86_400 });
  });

  test('a cost above a rule limit can never pass: its own reason, no retryAfter, no store call', async () => {
    const { rl, store } = limiter({ rules: { minute: '5/minute', month: '100/month' } });
    const r = await rl.limit('user:1', { cost: 6 });
    expect(r).toMatchObject({ success: false, reason: 'cost-exceeds-limit', rule: 'minute', limit: 5 });
    expect(r.retryAfter).toBeUndefined();
    expect(store.requests).toHaveLength(0);
    expect(await rl.limit('user:1', { cost: 6, limits: { minute: 6 } })).toMatchObject({ success: true });
  });
});

describe('an adversarial review of the above', () => {
  test('a refund on a sliding log never goes below zero: no credit for later calls', async () => {
    const { rl } = limiter({
      rules: { r: { limit: 5, per: '1 hour', algorithm: 'sliding' } },
      blockCache: false,
    });
    await rl.limit('fresh', { cost: -100 });
    let admitted = 0;
    for (let i = 0; i < 200; i++) if ((await rl.limit('fresh')).success) admitted++;
    expect(admitted).toBe(5);
  });

  test('a refund after the refunded call aged out gives no credit', async () => {
    const { rl, clock } = limiter({ rules: { r: { limit: 5, per: '1 hour', algorithm: 'sliding' } } });
    for (let i = 0; i < 5; i++) await rl.limit('u');
    clock.t += 50 * 60_000;
    await rl.limit('u', { cost: -5 });
    clock.t += 20 * 60_000;
    let admitted = 0;
    for (let i = 0; i < 20; i++) if ((await rl.limit('u')).success) admitted++;
    expect(admitted).toBe(5);
  });

  test('a token getter is read once: a denylisted token cannot turn into another one mid-call', async () => {
    const { rl } = limiter({ tokenSecret: SECRET, denylist: [{ token: 'revoked' }] });
    let reads = 0;
    const shifty = {
      get token() {
        return reads++ < 1 ? 'revoked' : 'other';
      },
    };
    expect((await rl.limit(shifty)).reason).toBe('denylist');
    let n = 0;
    const untyped = {
      get token() {
        return (n++ < 1 ? 'abc' : 42) as string;
      },
    };
    expect((await rl.limit(untyped)).reason).toBe('store');
  });

  test('limit overrides that are not plain objects are a typed error, not the default limit', async () => {
    const { rl } = limiter();
    class Plan {
      get monthly() {
        return 1;
      }
    }
    for (const limits of [new Map([['monthly', 1]]), new Plan(), Object.create({ monthly: 1 })]) {
      expect(isInvalidOptionError(await failure(() => rl.limit('user:1', { limits })))).toBe(true);
    }
    expect(
      (await rl.limit('user:1', { limits: Object.assign(Object.create(null), { monthly: 1 }) })).limit,
    ).toBe(1);
  });

  test('a large cost a fraction of a millionth above a whole one is rounded up too', async () => {
    const { rl } = limiter({ rules: { budget: '1000000/month' } });
    await rl.limit('key:big', { cost: 1000.0000004 });
    expect((await rl.usage('key:big'))[0]?.used).toBe(1000.000001);
  });
});
