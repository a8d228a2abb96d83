import {
  type Identity,
  MemoryStore,
  type Period,
  Ratelimit,
  type RatelimitOptions,
  type RatelimitResult,
  type ResultReason,
  type RuleObject,
  type RuleResult,
} from '@periodkey/ratelimit';
import type { RuleOutcome, Store, StoreCapabilities, StoreRequest } from '@periodkey/ratelimit/store';
import { describe, expectTypeOf, test } from 'vitest';

// The public types users write against: a change here is a change of the API.

describe('Ratelimit options', () => {
  test('rules as strings or objects, a store as an instance or a URL, the failure policy by name', () => {
    expectTypeOf<RatelimitOptions>().toHaveProperty('rules');
    expectTypeOf<RatelimitOptions['rules']>().toEqualTypeOf<Readonly<Record<string, string | RuleObject>>>();
    expectTypeOf<RatelimitOptions['store']>().toEqualTypeOf<Store | string | undefined>();
    expectTypeOf<RatelimitOptions['failure']>().toEqualTypeOf<'open' | 'closed' | undefined>();
    new Ratelimit({ rules: { monthly: '10/month' } });
    new Ratelimit({
      rules: { burst: { limit: 5, per: '1 minute', algorithm: 'sliding' } },
      store: new MemoryStore(),
      failure: 'closed',
    });
    new Ratelimit({ rules: { m: '1/minute' }, store: 'redis://127.0.0.1:6379' });
    // @ts-expect-error a typo is not an option
    new Ratelimit({ rules: { m: '1/minute' }, failur: 'closed' });
    // @ts-expect-error the failure policy is open or closed
    new Ratelimit({ rules: { m: '1/minute' }, failure: 'fail-open' });
    // @ts-expect-error rules are required
    new Ratelimit({});
  });

  test('an identity is a string or a token', () => {
    expectTypeOf<Identity>().toEqualTypeOf<string | { readonly token: string }>();
    const rl = new Ratelimit({ rules: { m: '1/minute' }, tokenSecret: 'a-secret-of-16-bytes-at-least' });
    expectTypeOf(rl.limit).toBeCallableWith('user:42');
    expectTypeOf(rl.limit).toBeCallableWith({ token: 'sk_live_abc' }, { scope: '/api', cost: 0.5 });
    // @ts-expect-error a number is not an identity
    rl.limit(42);
  });
});

describe('results', () => {
  test('limit() resolves a RatelimitResult with every rule, its window and the decision’s instant', () => {
    const rl = new Ratelimit({ rules: { m: '1/minute' } });
    expectTypeOf(rl.limit('user:1')).resolves.toEqualTypeOf<RatelimitResult>();
    expectTypeOf<RatelimitResult>().toEqualTypeOf<{
      readonly success: boolean;
      readonly limit: number;
      readonly remaining: number;
      readonly reset: number;
      readonly retryAfter: number | undefined;
      readonly rule: string;
      readonly reason: ResultReason;
      readonly rules: readonly RuleResult[];
      readonly at: number;
    }>();
    expectTypeOf<RuleResult>().toEqualTypeOf<{
      readonly rule: string;
      readonly success: boolean;
      readonly limit: number;
      readonly used: number;
      readonly remaining: number;
      readonly reset: number;
      readonly windowMs: number;
      readonly period: Period | null;
    }>();
    expectTypeOf<Period>().toEqualTypeOf<{
      readonly id: string;
      readonly start: number;
      readonly end: number;
    }>();
  });

  test('the reasons are a closed union', () => {
    expectTypeOf<ResultReason>().toEqualTypeOf<
      'store' | 'cache' | 'allowlist' | 'denylist' | 'fallback' | 'timeout' | 'error' | 'cost-exceeds-limit'
    >();
  });
});

describe('the store SPI', () => {
  test('a store evaluates requests and deletes keys, and may declare capabilities', () => {
    expectTypeOf<Store['evaluate']>().toEqualTypeOf<(request: StoreRequest) => Promise<RuleOutcome[]>>();
    expectTypeOf<Store['capabilities']>().toEqualTypeOf<StoreCapabilities | undefined>();
    expectTypeOf<StoreCapabilities>().toEqualTypeOf<{ readonly local?: boolean }>();
    const minimal: Store = { evaluate: async () => [], delete: async () => {} };
    expectTypeOf(minimal).toMatchTypeOf<Store>();
    expectTypeOf(new MemoryStore()).toMatchTypeOf<Store>();
  });
});
