import { afterEach, describe, expect, test } from 'vitest';
import { type App, type AppOptions, FRAMEWORKS, type Framework, startApp } from './apps.js';

// The HTTP contract, the same for every framework: real servers on 127.0.0.1, real requests, an injected clock.
// The clock starts at 2026-11-15T10:00:30Z: 30 s before the minute ends, 1346370 s before December.
const MONTH_T = (Date.UTC(2026, 11, 1) - Date.UTC(2026, 10, 15, 10, 0, 30)) / 1000;
const BODY_30 =
  '{"error":{"code":"RATE_LIMIT_EXCEEDED","message":"Too many requests. Please try again later.","retryAfter":30}}';
const LEGACY = ['X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-RateLimit-Reset'];
const IETF = ['RateLimit-Policy', 'RateLimit'];

describe.each(FRAMEWORKS)('%s', (framework: Framework) => {
  let app: App | undefined;
  const start = async (options?: AppOptions) => {
    app = await startApp(framework, options);
    return app;
  };
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  /** Sends `count` requests and returns the statuses. */
  const statuses = async (app: App, count: number, path: string, options?: Parameters<App['get']>[1]) => {
    const result: number[] = [];
    for (let i = 0; i < count; i++) result.push((await app.get(path, options)).status);
    return result;
  };

  test('a counted request passes with every rate-limit header', async () => {
    const reply = await (await start()).get('/users/1');
    expect(reply.status).toBe(200);
    expect(reply.body).toBe('ok /users/:id');
    expect(reply.headers.get('X-RateLimit-Limit')).toBe('3');
    expect(reply.headers.get('X-RateLimit-Remaining')).toBe('2');
    expect(reply.headers.get('X-RateLimit-Reset')).toBe('2026-11-15T10:01:00.000Z');
    expect(reply.headers.get('RateLimit-Policy')).toBe('"monthly";q=10;w=2592000, "burst";q=3;w=60');
    expect(reply.headers.get('RateLimit')).toBe(`"monthly";r=9;t=${MONTH_T}, "burst";r=2;t=30`);
    expect(reply.headers.has('Retry-After')).toBe(false);
  });

  test('the request over the limit gets 429, Retry-After, the headers and the JSON body', async () => {
    const app = await start();
    expect(await statuses(app, 3, '/users/1')).toEqual([200, 200, 200]);
    const reply = await app.get('/users/1');
    expect(reply.status).toBe(429);
    expect(reply.body).toBe(BODY_30);
    expect(reply.headers.get('Content-Type')).toBe('application/json; charset=utf-8');
    expect(reply.headers.get('Retry-After')).toBe('30');
    expect(reply.headers.get('X-RateLimit-Limit')).toBe('3');
    expect(reply.headers.get('X-RateLimit-Remaining')).toBe('0');
    expect(reply.headers.get('X-RateLimit-Reset')).toBe('2026-11-15T10:01:00.000Z');
    expect(reply.headers.get('RateLimit-Policy')).toBe('"monthly";q=10;w=2592000, "burst";q=3;w=60');
    expect(reply.headers.get('RateLimit')).toBe(`"monthly";r=7;t=${MONTH_T}, "burst";r=0;t=30`);
  });

  test('the next minute admits again; the monthly count goes on', async () => {
    const app = await start();
    expect(await statuses(app, 4, '/users/1')).toEqual([200, 200, 200, 429]);
    app.now += 30_000;
    const reply = await app.get('/users/1');
    expect(reply.status).toBe(200);
    expect(reply.headers.get('RateLimit')).toBe(`"monthly";r=6;t=${MONTH_T - 30}, "burst";r=2;t=60`);
  });

  test('routes count under their pattern: /users/1 and /users/2 share one count, /posts/:id has its own rules', async () => {
    const app = await start();
    expect(await statuses(app, 1, '/users/1')).toEqual([200]);
    expect(await statuses(app, 1, '/users/2')).toEqual([200]);
    expect(await statuses(app, 2, '/users/3')).toEqual([200, 429]);
    const posts = await app.get('/posts/1');
    expect(posts.status).toBe(200);
    expect(posts.headers.get('RateLimit-Policy')).toBe('"posts";q=2;w=60');
    expect(posts.headers.get('X-RateLimit-Remaining')).toBe('1');
    expect(await statuses(app, 2, '/posts/2')).toEqual([200, 429]);
    expect([...app.store.keys].sort()).toEqual([
      'ratelimit:{ip:127.0.0.1}:/posts/%3Aid:posts:202611151000',
      'ratelimit:{ip:127.0.0.1}:/users/%3Aid:burst:202611151000',
      'ratelimit:{ip:127.0.0.1}:/users/%3Aid:monthly:202611',
    ]);
  });

  test('skip: skipped requests pass uncounted and without rate-limit headers', async () => {
    const app = await start();
    for (let i = 0; i < 5; i++) {
      const reply = await app.get('/users/1', { headers: { 'x-skip': 'yes' } });
      expect(reply.status).toBe(200);
      for (const name of [...LEGACY, ...IETF]) expect(reply.headers.has(name)).toBe(false);
    }
    expect((await app.get('/users/1')).headers.get('X-RateLimit-Remaining')).toBe('2');
  });

  test('cost: a request may consume several units', async () => {
    const app = await start();
    const reply = await app.get('/users/1', { headers: { 'x-cost': '3' } });
    expect(reply.status).toBe(200);
    expect(reply.headers.get('RateLimit')).toBe(`"monthly";r=7;t=${MONTH_T}, "burst";r=0;t=30`);
    expect((await app.get('/users/1')).status).toBe(429);
  });

  test('identify: users count by id, anonymous clients by IP', async () => {
    const app = await start();
    expect(await statuses(app, 3, '/me', { headers: { 'x-user': 'ann' } })).toEqual([200, 200, 429]);
    expect(await statuses(app, 1, '/me', { headers: { 'x-user': 'bob' } })).toEqual([200]);
    expect(await statuses(app, 3, '/me')).toEqual([200, 200, 429]);
    expect([...app.store.keys].sort()).toEqual([
      'ratelimit:{ip:127.0.0.1}:/me:me:202611151000',
      'ratelimit:{user:ann}:/me:me:202611151000',
      'ratelimit:{user:bob}:/me:me:202611151000',
    ]);
  });

  test('finding 12: a denylisted client gets a 429 whose Retry-After (the longest window) the body repeats', async () => {
    const app = await start();
    const reply = await app.get('/banned');
    expect(reply.status).toBe(429);
    expect(reply.headers.get('Retry-After')).toBe('3600');
    expect(JSON.parse(reply.body)).toMatchObject({
      error: { code: 'RATE_LIMIT_EXCEEDED', retryAfter: 3600 },
    });
    expect((await app.get('/banned', { from: '127.0.0.2' })).status).toBe(200);
  });

  test('finding 12: a request that costs more than a limit gets a 413 that says so, without Retry-After', async () => {
    const app = await start();
    const reply = await app.get('/users/1', { headers: { 'x-cost': '4' } });
    expect(reply.status).toBe(413);
    expect(reply.headers.has('Retry-After')).toBe(false);
    expect(JSON.parse(reply.body)).toEqual({
      error: {
        code: 'COST_EXCEEDS_LIMIT',
        message: 'This request costs more than the limit of rule "burst" (3), so it can never pass.',
        rule: 'burst',
        limit: 3,
      },
    });
    // Nothing was counted: the next request has the whole burst.
    expect((await app.get('/users/1')).headers.get('X-RateLimit-Remaining')).toBe('2');
  });

  test('finding 3: a request cost that is not a number is an error, never a free pass', async () => {
    const app = await start();
    const reply = await app.get('/users/1', { headers: { 'x-cost': 'lots' } });
    expect(reply.status).toBe(500);
    expect(reply.body).toMatch(/^error: cost must be a finite number/);
  });

  test('onLimited replaces the 429, which still carries the rate-limit headers', async () => {
    const app = await start();
    expect((await app.get('/custom')).status).toBe(200);
    const reply = await app.get('/custom');
    expect(reply.status).toBe(503);
    expect(reply.body).toBe('slow down');
    expect(reply.headers.get('Retry-After')).toBe('30');
    expect(reply.headers.get('X-RateLimit-Remaining')).toBe('0');
    expect(reply.headers.get('RateLimit')).toBe('"custom";r=0;t=30');
  });

  test('a limiter that throws goes to the error handler, and the server keeps serving', async () => {
    const app = await start();
    const reply = await app.get('/broken');
    expect(reply.status).toBe(500);
    expect(reply.body).toBe('error: limiter broken');
    expect((await app.get('/users/1')).status).toBe(200);
  });

  test('with the store down, the failure policy answers, without the counts it does not know', async () => {
    const app = await start();
    const open = await app.get('/down-open');
    expect(open.status).toBe(200);
    for (const name of [...LEGACY, ...IETF, 'Retry-After']) expect(open.headers.has(name)).toBe(false);
    const closed = await app.get('/down-closed');
    expect(closed.status).toBe(429);
    expect(JSON.parse(closed.body)).toEqual({ error: expect.objectContaining({ retryAfter: 1 }) });
    expect(closed.headers.get('Retry-After')).toBe('1');
    for (const name of [...LEGACY, ...IETF]) expect(closed.headers.has(name)).toBe(false);
  });

  test('IPv4 clients count per address', async () => {
    const app = await start();
    expect(await statuses(app, 4, '/users/1')).toEqual([200, 200, 200, 429]);
    expect(await statuses(app, 1, '/users/1', { from: '127.0.0.2' })).toEqual([200]);
    expect(app.store.keys).toContain('ratelimit:{ip:127.0.0.2}:/users/%3Aid:burst:202611151000');
  });

  test('X-Forwarded-For is ignored without a trusted proxy: spoofing it changes nothing', async () => {
    const app = await start();
    const spoofed = (i: number) => ({ headers: { 'x-forwarded-for': `203.0.113.${i}` } });
    const replies = [];
    for (let i = 1; i <= 4; i++) replies.push((await app.get('/users/1', spoofed(i))).status);
    expect(replies).toEqual([200, 200, 200, 429]);
    expect([...app.store.keys].every((key) => key.startsWith('ratelimit:{ip:127.0.0.1}:'))).toBe(true);
  });

  test('behind a trusted proxy list, the right-most untrusted X-Forwarded-For entry is the client', async () => {
    const app = await start({ trustProxy: ['127.0.0.0/8', '10.0.0.0/8'] });
    const via = (forwardedFor: string) => ({ headers: { 'x-forwarded-for': forwardedFor } });
    expect(await statuses(app, 3, '/users/1', via('203.0.113.7'))).toEqual([200, 200, 200]);
    // What the client wrote left of the address the proxy recorded does not matter.
    expect(await statuses(app, 1, '/users/1', via('198.51.100.1, 203.0.113.7, 10.0.0.5'))).toEqual([429]);
    expect(await statuses(app, 1, '/users/1', via('203.0.113.8'))).toEqual([200]);
    expect(await statuses(app, 1, '/users/1')).toEqual([200]);
    expect([...app.store.keys].filter((key) => key.includes(':burst:')).sort()).toEqual([
      'ratelimit:{ip:127.0.0.1}:/users/%3Aid:burst:202611151000',
      'ratelimit:{ip:203.0.113.7}:/users/%3Aid:burst:202611151000',
      'ratelimit:{ip:203.0.113.8}:/users/%3Aid:burst:202611151000',
    ]);
  });

  test('behind one trusted hop, the last X-Forwarded-For entry is the client', async () => {
    const app = await start({ trustProxy: 1 });
    await app.get('/users/1', { headers: { 'x-forwarded-for': '198.51.100.1, 203.0.113.9' } });
    expect([...app.store.keys]).toContain('ratelimit:{ip:203.0.113.9}:/users/%3Aid:burst:202611151000');
  });

  test('IPv6 clients count per /64 network', async () => {
    const app = await start({ trustProxy: ['127.0.0.1'] });
    const from = (address: string) => ({ headers: { 'x-forwarded-for': address } });
    expect(await statuses(app, 1, '/users/1', from('2001:db8:1:2::a'))).toEqual([200]);
    expect(await statuses(app, 1, '/users/1', from('2001:db8:1:2:ffff:ffff:ffff:ffff'))).toEqual([200]);
    expect(await statuses(app, 2, '/users/1', from('2001:0db8:0001:0002::b'))).toEqual([200, 429]);
    expect(await statuses(app, 1, '/users/1', from('2001:db8:1:3::a'))).toEqual([200]);
    expect([...app.store.keys].filter((key) => key.includes(':burst:')).sort()).toEqual([
      'ratelimit:{ip:2001:db8:1:2::/64}:/users/%3Aid:burst:202611151000',
      'ratelimit:{ip:2001:db8:1:3::/64}:/users/%3Aid:burst:202611151000',
    ]);
  });

  test('each header family can be switched off; Retry-After stays on the 429', async () => {
    const legacyOnly = await start({ headers: { ietf: false } });
    await statuses(legacyOnly, 3, '/users/1');
    const denied = await legacyOnly.get('/users/1');
    for (const name of LEGACY) expect(denied.headers.has(name)).toBe(true);
    for (const name of IETF) expect(denied.headers.has(name)).toBe(false);
    expect(denied.headers.get('Retry-After')).toBe('30');
    await legacyOnly.close();

    const ietfOnly = await start({ headers: { legacy: false } });
    const passed = await ietfOnly.get('/users/1');
    for (const name of LEGACY) expect(passed.headers.has(name)).toBe(false);
    for (const name of IETF) expect(passed.headers.has(name)).toBe(true);
  });

  test('enabled: false lets every request through, uncounted and without headers', async () => {
    const app = await start({ enabled: false });
    expect(await statuses(app, 10, '/users/1')).toEqual(Array(10).fill(200));
    const reply = await app.get('/broken');
    expect(reply.status).toBe(200);
    for (const name of [...LEGACY, ...IETF]) expect(reply.headers.has(name)).toBe(false);
    expect(app.store.keys.size).toBe(0);
  });
});
