import { rateLimitHeaders } from '@periodkey/http';
import { withRateLimit } from '@periodkey/http/fetch';
import { MemoryStore, Ratelimit, type RatelimitResult } from '@periodkey/ratelimit';
import { describe, expectTypeOf, test } from 'vitest';

const ok = () => new Response('ok');

describe('@periodkey/http options', () => {
  test('a limiter to share, or the options to build one, not both', () => {
    const limiter = new Ratelimit({ rules: { m: '1/minute' }, store: new MemoryStore() });
    withRateLimit(ok, { limiter, scope: '/api' });
    withRateLimit(ok, { rules: { m: '1/minute' }, scope: '/api', trustProxy: 1 });
    // @ts-expect-error either limiter or rules
    withRateLimit(ok, { limiter, rules: { m: '1/minute' }, scope: '/api' });
    // @ts-expect-error a shared limiter has its own clock: the headers come from its result
    withRateLimit(ok, { limiter, now: () => 0, scope: '/api' });
  });

  test('headers come from a result alone', () => {
    expectTypeOf(rateLimitHeaders).parameters.toEqualTypeOf<
      [result: RatelimitResult, options?: { readonly legacy?: boolean; readonly ietf?: boolean }]
    >();
    expectTypeOf(rateLimitHeaders).returns.toEqualTypeOf<Record<string, string>>();
  });
});
