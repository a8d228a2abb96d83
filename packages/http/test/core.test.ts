import {
  clientAddress,
  ipIdentity,
  presets,
  rateLimitBody,
  rateLimitHeaders,
  type TrustProxy,
} from '@periodkey/http';
import { type FetchRateLimitOptions, withRateLimit } from '@periodkey/http/fetch';
import {
  isInvalidOptionError,
  isInvalidRuleError,
  Ratelimit,
  type RatelimitResult,
} from '@periodkey/ratelimit';
import { describe, expect, test } from 'vitest';
import { RecordingStore } from './apps.js';

// The framework-free core: identities, headers, body, presets, and the options every integration shares
// (exercised through the fetch wrapper, called directly).
const NOW = Date.UTC(2026, 10, 15, 10, 0, 30);

describe('ipIdentity', () => {
  test.each([
    ['203.0.113.9', 'ip:203.0.113.9'],
    ['::ffff:203.0.113.9', 'ip:203.0.113.9'],
    ['::ffff:cb00:7109', 'ip:203.0.113.9'],
    ['2001:db8:1:2:3:4:5:6', 'ip:2001:db8:1:2::/64'],
    ['2001:0DB8:0001:0002::', 'ip:2001:db8:1:2::/64'],
    ['2001:db8::1', 'ip:2001:db8::/64'],
    ['::1', 'ip:::/64'],
    ['fe80::1%eth0', 'ip:fe80::/64'],
    ['0:1:0:0:5::', 'ip:0:1::/64'],
    ['1:0:2:0::', 'ip:1:0:2::/64'],
    ['::ffff:1.2.3', 'ip:::ffff:1.2.3'],
    ['2001:db8::1::2', 'ip:2001:db8::1::2'],
    ['1.2.3', 'ip:1.2.3'],
    ['01.2.3.4', 'ip:01.2.3.4'],
    ['unknown', 'ip:unknown'],
  ])('%s is %s', (address, identity) => {
    expect(ipIdentity(address)).toBe(identity);
  });
});

describe('clientAddress', () => {
  test.each<[string | undefined, string | undefined, TrustProxy, string | undefined]>([
    ['127.0.0.1', '203.0.113.9', 0, '127.0.0.1'],
    ['127.0.0.1', '203.0.113.9', [], '127.0.0.1'],
    ['127.0.0.1', '198.51.100.1, 203.0.113.9', 1, '203.0.113.9'],
    ['127.0.0.1', '198.51.100.1, 203.0.113.9', 2, '198.51.100.1'],
    ['127.0.0.1', '203.0.113.9', 5, '203.0.113.9'],
    ['127.0.0.1', undefined, 1, '127.0.0.1'],
    ['10.1.2.3', '198.51.100.1, 203.0.113.9, 10.0.0.7', ['10.0.0.0/8'], '203.0.113.9'],
    ['10.1.2.3', '10.0.0.8, 10.0.0.7', ['10.0.0.0/8'], '10.0.0.8'],
    ['::ffff:10.1.2.3', '203.0.113.9', ['10.0.0.0/8'], '203.0.113.9'],
    ['10.1.2.3', '203.0.113.9', ['::ffff:10.0.0.0/104'], '203.0.113.9'],
    ['10.1.2.3', '203.0.113.9', ['::ffff:10.0.0.0/96'], '203.0.113.9'],
    ['::1', '2001:db8::5', ['::1'], '2001:db8::5'],
    ['fd00::1', '2001:db8::5', ['fd00::/8'], '2001:db8::5'],
    ['fe00::1', '2001:db8::5', ['fd00::/8'], 'fe00::1'],
    ['10.0.0.1', '10.0.0.2', ['10.0.0.0/31'], '10.0.0.2'],
    ['10.0.0.1', '10.0.0.2', ['10.0.0.1/32'], '10.0.0.2'],
    ['10.0.0.1', '10.0.0.2', ['10.0.0.0/0'], '10.0.0.2'],
    ['10.0.0.1', '[2001:db8::5]:443, 203.0.113.9:5678', 1, '203.0.113.9'],
    ['10.0.0.1', '[2001:db8::5]:443, 203.0.113.9:5678', 2, '2001:db8::5'],
    ['10.0.0.1', ' , 203.0.113.9 ,', 1, '203.0.113.9'],
    [undefined, '203.0.113.9', 1, undefined],
  ])('%s with X-Forwarded-For %j trusting %j is %s', (remote, forwardedFor, trust, expected) => {
    expect(clientAddress(remote, forwardedFor, trust)).toBe(expected);
  });

  test.each<unknown>([
    -1,
    1.5,
    Number.NaN,
    '10.0.0.1',
    ['nope'],
    ['10.0.0.0/33'],
    ['::/129'],
    ['::ffff:10.0.0.0/95'],
    ['10.0.0.0/8/1'],
    [7],
  ])('trustProxy %j is refused with a typed error', (trustProxy) => {
    expect(() => clientAddress('127.0.0.1', undefined, trustProxy as TrustProxy)).toThrow(
      expect.objectContaining({ name: 'InvalidOptionError', message: expect.stringContaining('trustProxy') }),
    );
  });
});

describe('rateLimitHeaders and rateLimitBody', () => {
  const denied: RatelimitResult = {
    success: false,
    limit: 2.5,
    remaining: 0.5,
    reset: NOW + 45_000,
    retryAfter: 45,
    rule: 'spend',
    reason: 'store',
    rules: [
      {
        rule: 'spend',
        success: false,
        limit: 2.5,
        used: 2,
        remaining: 0.5,
        reset: NOW + 45_000,
        windowMs: 60_000,
        period: null,
      },
      {
        rule: 'daily',
        success: true,
        limit: 100,
        used: 3,
        remaining: 97,
        reset: NOW + 3_600_500,
        windowMs: 82_800_000, // a 23-hour day: the clocks went forward
        period: { id: '20261115', start: NOW + 3_600_500 - 82_800_000, end: NOW + 3_600_500 },
      },
    ],
    at: NOW,
  };

  test('legacy fields show the binding rule as it is; IETF fields are integers, one member per rule', () => {
    expect(rateLimitHeaders(denied)).toEqual({
      'X-RateLimit-Limit': '2.5',
      'X-RateLimit-Remaining': '0.5',
      'X-RateLimit-Reset': '2026-11-15T10:01:15.000Z',
      'RateLimit-Policy': '"spend";q=2;w=60, "daily";q=100;w=82800',
      RateLimit: '"spend";r=0;t=45, "daily";r=97;t=3601',
      'Retry-After': '45',
    });
  });

  test('families switch off independently; Retry-After only when denied', () => {
    expect(Object.keys(rateLimitHeaders(denied, { legacy: false, ietf: false }))).toEqual(['Retry-After']);
    const passed = { ...denied, success: true, retryAfter: undefined };
    expect(Object.keys(rateLimitHeaders(passed, { ietf: false }))).toEqual([
      'X-RateLimit-Limit',
      'X-RateLimit-Remaining',
      'X-RateLimit-Reset',
    ]);
  });

  test('a failure-policy answer (the store failed) carries no counts, only Retry-After when denied', () => {
    expect(rateLimitHeaders({ ...denied, reason: 'error', retryAfter: 1 })).toEqual({ 'Retry-After': '1' });
    expect(rateLimitHeaders({ ...denied, reason: 'timeout', success: true, retryAfter: undefined })).toEqual(
      {},
    );
  });

  test('the body is seed 001’s, byte for byte', () => {
    expect(JSON.stringify(rateLimitBody(denied))).toBe(
      '{"error":{"code":"RATE_LIMIT_EXCEEDED","message":"Too many requests. Please try again later.","retryAfter":45}}',
    );
  });
});

describe('presets', () => {
  test.each([
    ['read', 100],
    ['write', 50],
    ['auth', 5],
    ['public', 10],
    ['health', 1000],
  ] as const)('%s allows %i requests per calendar minute', async (name, limit) => {
    const limiter = new Ratelimit({ rules: presets[name], store: new RecordingStore(), now: () => NOW });
    const result = await limiter.limit('ip:203.0.113.9', { cost: limit });
    expect(result).toMatchObject({
      success: true,
      limit,
      remaining: 0,
      rule: name,
      reset: Date.UTC(2026, 10, 15, 10, 1),
    });
    expect((await limiter.limit('ip:203.0.113.9')).success).toBe(false);
  });
});

describe('options', () => {
  const ok = () => new Response('ok');
  const request = (headers: Record<string, string> = {}) =>
    new Request('http://127.0.0.1/api/chat', { headers });
  const base = { scope: '/api/chat', remoteAddress: () => '203.0.113.9' };
  const make = (options: Record<string, unknown>) => () =>
    withRateLimit(ok, { ...base, ...options } as unknown as FetchRateLimitOptions<[]>);

  test.each([
    ['neither limiter nor rules', {}, 'either limiter'],
    [
      'both limiter and rules',
      { limiter: new Ratelimit({ rules: { a: '1/minute' } }), rules: { a: '1/minute' } },
      'either limiter',
    ],
    ['no scope', { rules: { a: '1/minute' }, scope: undefined }, 'scope is required'],
    ['a scope of another type', { rules: { a: '1/minute' }, scope: 7 }, 'scope must be'],
    ['no address and no identify', { rules: { a: '1/minute' }, remoteAddress: undefined }, 'remoteAddress'],
    ['a cost of another type', { rules: { a: '1/minute' }, cost: '2' }, 'cost must be'],
    ['a skip of another type', { rules: { a: '1/minute' }, skip: true }, 'skip must be'],
    ['an identify of another type', { rules: { a: '1/minute' }, identify: 'user' }, 'identify must be'],
    ['an enabled of another type', { rules: { a: '1/minute' }, enabled: 'no' }, 'enabled must be'],
    ['a limiter that is none', { limiter: {} }, 'limiter must be'],
    ['a cost of -1 (a refund per request)', { rules: { a: '1/minute' }, cost: -1 }, 'positive finite'],
    ['a cost of 0', { rules: { a: '1/minute' }, cost: 0 }, 'positive finite'],
    [
      'a headers typo',
      { rules: { a: '1/minute' }, headers: { legacy: false, ieft: false } },
      'did you mean "ietf"',
    ],
    ['headers of another type', { rules: { a: '1/minute' }, headers: { legacy: 'no' } }, 'headers.legacy'],
    [
      'finding 3: a cost of NaN',
      { rules: { a: '1/minute' }, cost: Number.NaN },
      'cost must be a positive finite',
    ],
    [
      'finding 3: a cost of Infinity',
      { rules: { a: '1/minute' }, cost: 1 / 0 },
      'cost must be a positive finite',
    ],
    [
      'finding 3: an unknown option',
      { rules: { a: '1/minute' }, trustproxy: 1 },
      'did you mean "trustProxy"',
    ],
    [
      'finding 3: a limiter option typo',
      { rules: { a: '1/minute' }, failur: 'closed' },
      'did you mean "failure"',
    ],
    [
      'finding 3: a Ratelimit option beside a limiter',
      { limiter: new Ratelimit({ rules: { a: '1/minute' } }), failure: 'closed' },
      'Unknown rate-limit option "failure"',
    ],
  ])('%s is refused at construction', (_, options, message) => {
    expect(make(options)).toThrow(
      expect.objectContaining({ name: 'InvalidOptionError', message: expect.stringContaining(message) }),
    );
  });

  test('skip must answer true or false: a truthy header value never skips limiting', async () => {
    const handler = withRateLimit(ok, {
      ...base,
      rules: { a: '1/minute' },
      skip: (req: Request) => req.headers.get('x-internal') as unknown as boolean,
    });
    await expect(handler(request({ 'x-internal': 'false' }))).rejects.toThrow(
      /skip must answer true or false/,
    );
  });

  test('a cost function may not refund: a negative cost from the request is an error', async () => {
    const handler = withRateLimit(ok, { ...base, rules: { a: '5/minute' }, cost: () => -1000 });
    await expect(handler(request())).rejects.toThrow(/must not be negative/);
  });

  test('a bad rule is refused even with enabled: false', () => {
    let error: unknown;
    try {
      make({ rules: { a: '1/fortnight' }, enabled: false })();
    } catch (caught) {
      error = caught;
    }
    expect(isInvalidRuleError(error)).toBe(true);
  });

  test('with a shared limiter, the headers come from its result: its clock drives t, its rules the window', async () => {
    const limiter = new Ratelimit({
      rules: { burst: '2/minute' },
      store: new RecordingStore(),
      now: () => NOW,
    });
    const first = withRateLimit(ok, { ...base, limiter });
    const second = withRateLimit(ok, { ...base, scope: '/api/other', limiter });
    const response = await first(request());
    expect(response.headers.get('RateLimit-Policy')).toBe('"burst";q=2;w=60');
    expect(response.headers.get('RateLimit')).toBe('"burst";r=1;t=30');
    expect((await second(request())).headers.get('RateLimit')).toBe('"burst";r=1;t=30');
  });

  test('{ token } identities are stored as a keyed hash, never in clear', async () => {
    const store = new RecordingStore();
    const handler = withRateLimit(ok, {
      scope: '/api/chat',
      rules: { burst: '2/minute' },
      store,
      tokenSecret: 'a-secret-of-sixteen-bytes-or-more',
      identify: (req) => {
        const key = req.headers.get('x-api-key');
        return key === null ? undefined : { token: key };
      },
    });
    expect((await handler(request({ 'x-api-key': 'sk_live_123' }))).status).toBe(200);
    const [key = ''] = store.keys;
    expect(key).toMatch(/^ratelimit:\{tk\.[A-Za-z0-9_-]{22}\}:\/api\/chat:burst:/);
    expect(key).not.toContain('sk_live_123');
  });

  test('without an address the request fails with a typed error that names the fix', async () => {
    const handler = withRateLimit(ok, {
      ...base,
      rules: { a: '1/minute' },
      identify: () => undefined,
      remoteAddress: () => undefined,
    });
    const error = await handler(request()).catch((caught: unknown) => caught);
    expect(isInvalidOptionError(error)).toBe(true);
    expect((error as Error).message).toContain('pass identify, or remoteAddress');
  });

  test('headers are added to a response whose headers are immutable', async () => {
    const handler = withRateLimit(() => Response.redirect('http://127.0.0.1/elsewhere', 302), {
      ...base,
      rules: { a: '1/minute' },
      store: new RecordingStore(),
      now: () => NOW,
    });
    const response = await handler(request());
    expect(response.status).toBe(302);
    expect(response.headers.get('Location')).toBe('http://127.0.0.1/elsewhere');
    expect(response.headers.get('X-RateLimit-Remaining')).toBe('0');
  });
});
