import { servers, testPrefix } from '@periodkey/test';
import { Redis } from '@periodkey/test/ioredis';
import type { Miniflare } from 'miniflare';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { bundleFixture, startWorker, WORKERD } from './fixtures/bundle.js';

// @periodkey/http/hono in workerd: a Hono app whose /api/* group is limited per client address.
const prefix = testPrefix('hono');
let worker: Miniflare;
let redis: Redis;

beforeAll(async () => {
  const { url, token, redisUrl } = servers().upstash;
  worker = await startWorker(await bundleFixture('./hono-worker.ts', WORKERD), {
    bindings: { UPSTASH_REDIS_REST_URL: url, UPSTASH_REDIS_REST_TOKEN: token, RATELIMIT_PREFIX: prefix },
  });
  redis = new Redis(redisUrl);
});
afterAll(async () => {
  await Promise.all([worker?.dispose(), redis?.quit()]);
});

async function get(path: string, address: string) {
  const response = await worker.dispatchFetch(`http://worker${path}`, {
    headers: { 'cf-connecting-ip': address },
  });
  return {
    status: response.status,
    remaining: response.headers.get('x-ratelimit-remaining'),
    body: await response.json(),
  };
}

test('the routes of a group share one count per client address; the third request gets the 429', async () => {
  expect(await get('/api/chat', '203.0.113.7')).toEqual({
    status: 200,
    remaining: '1',
    body: { route: 'chat' },
  });
  expect(await get('/api/search', '203.0.113.7')).toEqual({
    status: 200,
    remaining: '0',
    body: { route: 'search' },
  });
  const denied = await get('/api/chat', '203.0.113.7');
  expect(denied).toMatchObject({
    status: 429,
    remaining: '0',
    body: { error: { code: 'RATE_LIMIT_EXCEEDED' } },
  });
  // Another address, and an IPv6 client counted by its /64.
  expect(await get('/api/chat', '198.51.100.1')).toMatchObject({ status: 200, remaining: '1' });
  expect(await get('/api/chat', '2001:db8:1:2::a')).toMatchObject({ status: 200, remaining: '1' });
  expect(await get('/api/chat', '2001:db8:1:2::b')).toMatchObject({ status: 200, remaining: '0' });

  // The group's scope, /api/*, with its glob character escaped (KEYS.md), so that no SCAN pattern matches it.
  const keys = (await redis.keys(`${prefix}:*`)).sort();
  expect(keys).toEqual([
    expect.stringMatching(new RegExp(`^${prefix}:\\{ip:198\\.51\\.100\\.1\\}:/api/%2A:daily:\\d{8}$`)),
    expect.stringMatching(new RegExp(`^${prefix}:\\{ip:2001:db8:1:2::/64\\}:/api/%2A:daily:\\d{8}$`)),
    expect.stringMatching(new RegExp(`^${prefix}:\\{ip:203\\.0\\.113\\.7\\}:/api/%2A:daily:\\d{8}$`)),
  ]);
});
