// The tests that every edge runtime passes with the fixture handler (fixtures/edge-handler.ts): limits,
// headers and the 429 body over HTTP, the counts in the Redis behind the Upstash REST server, and the
// limiter's internals (HMAC of tokens, the script's SHA1 and its EVAL fallback, Intl time zones) as the
// runtime runs them.
import { createHash, createHmac } from 'node:crypto';
import { keyExpiry, type Period, periodAt } from '@periodkey/ratelimit/keys';
import { LIMIT_SCRIPT } from '@periodkey/ratelimit/storage';
import { servers, startRedis, startUpstashServer, testPrefix } from '@periodkey/test';
import { Redis } from '@periodkey/test/ioredis';
import { afterAll, describe, expect, test } from 'vitest';
import type { EdgeEnv } from './fixtures/edge-handler.js';

/** The fixture handler running in one runtime, reached over HTTP or the runtime's own dispatch. */
export interface EdgeApp {
  fetch(path: string, init?: RequestInit): Promise<Response>;
  close(): Promise<void>;
}

/** Starts the fixture handler in the runtime with `env` as its environment (bindings, `process.env`). */
export type StartApp = (env: EdgeEnv) => Promise<EdgeApp>;

const LIMIT = 3; // the fixture's rule: monthly, '3/month'
const MONTH = { unit: 'month', step: 1 } as const;
const TOKEN_SECRET = 'edge-test-secret-0123456789';
const BODY_MESSAGE = 'Too many requests. Please try again later.';
/** A count as the script stores it: in millionths, so that fractional costs add up exactly. */
const stored = (count: number) => String(count * 1_000_000);

export function edgeRuntimeSuite(runtime: string, start: StartApp): void {
  describe(`the fetch middleware on UpstashStore in ${runtime}`, () => {
    const closing: (() => Promise<void>)[] = [];
    afterAll(async () => {
      await Promise.all(closing.map((close) => close()));
    });

    /** The handler on `upstash` (the harness' REST server unless given) under a fresh prefix. */
    async function app(options: { upstash?: { url: string; token: string }; timeZone?: string } = {}) {
      const { url, token } = options.upstash ?? servers().upstash;
      const prefix = testPrefix('edge');
      const started = await start({
        UPSTASH_REDIS_REST_URL: url,
        UPSTASH_REDIS_REST_TOKEN: token,
        RATELIMIT_PREFIX: prefix,
        RATELIMIT_TOKEN_SECRET: TOKEN_SECRET,
        ...(options.timeZone === undefined ? {} : { RATELIMIT_TIME_ZONE: options.timeZone }),
      });
      closing.push(() => started.close());
      return { ...started, prefix };
    }

    function redis(url = servers().upstash.redisUrl): Redis {
      const client = new Redis(url, { lazyConnect: true });
      closing.push(async () => void client.disconnect());
      return client;
    }

    test('N 200s with the rate-limit headers, then a 429 with the seed 001 body; the count lands in Redis', async () => {
      const { fetch, prefix } = await app();
      const before = Date.now();
      const period = periodAt(MONTH, 'UTC', before);
      const passed: Response[] = [];
      for (let i = 0; i < LIMIT; i++)
        passed.push(await fetch('/api/chat', { headers: { 'x-user-id': 'alice' } }));
      const denied = await fetch('/api/chat', { headers: { 'x-user-id': 'alice' } });
      const after = Date.now();

      for (const [i, response] of passed.entries()) {
        expect(response.status).toBe(200);
        expect(await response.json()).toEqual({ ok: true });
        expectRateLimitHeaders(response, { period, remaining: LIMIT - 1 - i, before, after });
      }
      expect(denied.status).toBe(429);
      expect(denied.headers.get('content-type')).toBe('application/json; charset=utf-8');
      expectRateLimitHeaders(denied, { period, remaining: 0, before, after });
      const retryAfter = Number(denied.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThanOrEqual(Math.ceil((period.end - after) / 1000));
      expect(retryAfter).toBeLessThanOrEqual(Math.ceil((period.end - before) / 1000));
      expect(await denied.json()).toStrictEqual({
        error: { code: 'RATE_LIMIT_EXCEEDED', message: BODY_MESSAGE, retryAfter },
      });

      // `<prefix>:{<identity>}:<scope>:<rule>:<period>`, counted once per admitted request (a denial is not).
      const key = `${prefix}:{alice}:/api/chat:monthly:${period.id}`;
      const client = redis();
      expect(await client.keys(`${prefix}:*`)).toEqual([key]);
      expect(await client.get(key)).toBe(stored(LIMIT));
      const ttl = await client.pttl(key);
      expect(ttl).toBeLessThanOrEqual(keyExpiry(period) - before);
      expect(ttl).toBeGreaterThan(keyExpiry(period) - Date.now() - 1000);
    });

    test('requests at once from one identity, from many requests of the runtime: exactly the limit passes', async () => {
      // Concurrent requests share the isolate's limiter and client: a store call must not be tied to the
      // request that happened to start the client's connection or batch.
      const { fetch, prefix } = await app();
      const statuses = await Promise.all(
        Array.from({ length: 4 * LIMIT }, () =>
          fetch('/api/chat', { headers: { 'x-user-id': 'carol' } }).then((response) => response.status),
        ),
      );
      expect(statuses.filter((status) => status === 200)).toHaveLength(LIMIT);
      expect(statuses.filter((status) => status === 429)).toHaveLength(3 * LIMIT);
      const period = periodAt(MONTH, 'UTC', Date.now());
      expect(await redis().get(`${prefix}:{carol}:/api/chat:monthly:${period.id}`)).toBe(stored(LIMIT));
    });

    test('a { token } identity is counted under its HMAC-SHA256, never in clear, on a calendar in Asia/Kolkata', async () => {
      const timeZone = 'Asia/Kolkata'; // UTC+05:30: the month ends at 18:30 UTC, through Intl in the runtime
      const { fetch, prefix } = await app({ timeZone });
      const apiKey = 'sk_live_edge_0123456789';
      const before = Date.now();
      const period = periodAt(MONTH, timeZone, before);
      const send = () => fetch('/api/chat', { headers: { authorization: `Bearer ${apiKey}` } });
      for (let i = 0; i < LIMIT; i++) {
        const response = await send();
        expect(response.status).toBe(200);
        expect(response.headers.get('x-ratelimit-remaining')).toBe(String(LIMIT - 1 - i));
        expect(response.headers.get('x-ratelimit-reset')).toBe(new Date(period.end).toISOString());
      }
      expect((await send()).status).toBe(429);
      // Another key is another identity.
      expect((await fetch('/api/chat', { headers: { authorization: 'Bearer sk_other' } })).status).toBe(200);

      const hash = (token: string) =>
        createHmac('sha256', TOKEN_SECRET).update(token).digest().subarray(0, 16).toString('base64url');
      const key = (token: string) => `${prefix}:{tk.${hash(token)}}:/api/chat:monthly:${period.id}`;
      const client = redis();
      expect((await client.keys(`${prefix}:*`)).sort()).toEqual([key(apiKey), key('sk_other')].sort());
      expect(await client.get(key(apiKey))).toBe(stored(LIMIT));
      expect(await client.get(key('sk_other'))).toBe(stored(1));
    });

    test("the script's SHA1 made in the runtime is Redis': NOSCRIPT once, EVAL loads it, then EVALSHA", async () => {
      // A Redis of this test's own, so that no other test has loaded the script or counts commands.
      const backend = await startRedis();
      closing.push(() => backend.stop());
      const upstash = await startUpstashServer({ redisUrl: backend.url });
      closing.push(() => upstash.close());
      const { fetch, prefix } = await app({ upstash });
      for (let i = 0; i < LIMIT + 1; i++) {
        const response = await fetch('/api/chat', { headers: { 'x-user-id': 'bob' } });
        expect(response.status).toBe(i < LIMIT ? 200 : 429);
      }

      const client = redis(backend.url);
      const sha = createHash('sha1').update(LIMIT_SCRIPT.source).digest('hex');
      expect(await client.script('EXISTS', sha)).toEqual([1]);
      const stats = commandStats(await client.info('commandstats'));
      // The first call's EVALSHA failed with NOSCRIPT and its EVAL ran the script; every later call's
      // EVALSHA found it, so the runtime named it by the SHA1 that Redis computed.
      expect(stats.evalsha).toEqual({ calls: LIMIT + 1, failed: 1 });
      expect(stats.eval).toEqual({ calls: 1, failed: 0 });
      expect(
        await client.get(`${prefix}:{bob}:/api/chat:monthly:${periodAt(MONTH, 'UTC', Date.now()).id}`),
      ).toBe(stored(LIMIT));
    });
  });
}

/** The headers of packages/http/src/headers.ts for the fixture's one rule, `monthly`. */
function expectRateLimitHeaders(
  response: Response,
  expected: { period: Period; remaining: number; before: number; after: number },
): void {
  const { period, remaining, before, after } = expected;
  const headers = response.headers;
  expect(headers.get('x-ratelimit-limit')).toBe(String(LIMIT));
  expect(headers.get('x-ratelimit-remaining')).toBe(String(remaining));
  expect(headers.get('x-ratelimit-reset')).toBe(new Date(period.end).toISOString());
  const window = Math.round((period.end - period.start) / 1000);
  expect(headers.get('ratelimit-policy')).toBe(`"monthly";q=${LIMIT};w=${window}`);
  const match = /^"monthly";r=(\d+);t=(\d+)$/.exec(headers.get('ratelimit') ?? '');
  expect(match?.[1]).toBe(String(remaining));
  const t = Number(match?.[2]);
  expect(t).toBeGreaterThanOrEqual(Math.ceil((period.end - after) / 1000));
  expect(t).toBeLessThanOrEqual(Math.ceil((period.end - before) / 1000));
}

/** `INFO commandstats` by command: calls and failed calls. */
function commandStats(info: string): Record<string, { calls: number; failed: number }> {
  const stats: Record<string, { calls: number; failed: number }> = {};
  for (const [, name, calls, failed] of info.matchAll(/^cmdstat_(\w+):calls=(\d+),.*failed_calls=(\d+)/gm)) {
    stats[name as string] = { calls: Number(calls), failed: Number(failed) };
  }
  return stats;
}
