import { withRateLimit } from '@periodkey/http/fetch';
import { startRedis, testPrefix } from '@periodkey/test';
import { Redis } from 'ioredis';
import { afterEach, expect, test, vi } from 'vitest';

afterEach(() => {
  vi.unstubAllEnvs();
});

test('20 routes limited from REDIS_URL open one Redis connection between them', async () => {
  const server = await startRedis();
  const own = new Redis(server.url);
  try {
    vi.stubEnv('UPSTASH_REDIS_REST_URL', '');
    vi.stubEnv('REDIS_URL', server.url);
    const prefix = testPrefix('http');
    const routes = Array.from({ length: 20 }, (_, i) =>
      withRateLimit(async () => new Response('ok'), {
        rules: { minute: '1/minute' },
        prefix,
        scope: `/api/route-${i}`,
        identify: () => 'user:1',
      }),
    );
    const statuses = [];
    for (const route of routes) statuses.push((await route(new Request('http://x/'))).status);
    expect(statuses).toEqual(Array(20).fill(200));
    expect((await routes[0]?.(new Request('http://x/')))?.status).toBe(429);
    const clients = String(await own.client('LIST'))
      .trim()
      .split('\n');
    expect(clients).toHaveLength(2); // the routes' one, and this test's
  } finally {
    own.disconnect();
    await server.stop();
  }
});
