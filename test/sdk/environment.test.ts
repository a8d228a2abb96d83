import { IORedisStore } from '@periodkey/ioredis';
import { MemoryStore, Ratelimit } from '@periodkey/ratelimit';
import { servers, testPrefix } from '@periodkey/test';
import { UpstashStore } from '@periodkey/upstash';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, test, vi } from 'vitest';

const ENV = ['UPSTASH_REDIS_REST_URL', 'UPSTASH_REDIS_REST_TOKEN', 'REDIS_URL'] as const;

function setEnv(values: Partial<Record<(typeof ENV)[number], string>>) {
  for (const name of ENV) vi.stubEnv(name, values[name] ?? '');
}

describe('the store chosen from the environment', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.restoreAllMocks();
  });

  test('Upstash first, when both its URL and token are set', async () => {
    const { upstash, redis } = servers();
    setEnv({
      UPSTASH_REDIS_REST_URL: upstash.url,
      UPSTASH_REDIS_REST_TOKEN: upstash.token,
      REDIS_URL: redis.url,
    });
    const prefix = testPrefix();
    const rl = new Ratelimit({ rules: { daily: '5/day' }, prefix });
    expect(await rl.store()).toBeInstanceOf(UpstashStore);
    expect(await rl.limit('user:1')).toMatchObject({ success: true, remaining: 4 });
    const direct = new Redis(upstash.redisUrl);
    expect(await direct.keys(`${prefix}:*`)).toHaveLength(1);
    direct.disconnect();
  });

  test('then REDIS_URL, over ioredis', async () => {
    setEnv({ REDIS_URL: servers().redis.url, UPSTASH_REDIS_REST_URL: 'https://only-the-url.example' });
    const rl = new Ratelimit({ rules: { daily: '5/day' }, prefix: testPrefix() });
    const store = await rl.store();
    expect(store).toBeInstanceOf(IORedisStore);
    expect(await rl.limit('user:1')).toMatchObject({ success: true, remaining: 4 });
    rl.close();
  });

  test('otherwise in memory, with one warning per process', async () => {
    setEnv({});
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const first = new Ratelimit({ rules: { daily: '5/day' } });
    const second = new Ratelimit({ rules: { daily: '5/day' } });
    expect(await first.store()).toBeInstanceOf(MemoryStore);
    expect(await second.store()).toBeInstanceOf(MemoryStore);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]?.[0]).toMatch(/UPSTASH_REDIS_REST_URL\+TOKEN or REDIS_URL/);
  });

  test('a URL picks the store too: memory:// and redis://', async () => {
    expect(await new Ratelimit({ store: 'memory://', rules: { d: '1/day' } }).store()).toBeInstanceOf(
      MemoryStore,
    );
    const rl = new Ratelimit({ store: servers().redis.url, rules: { d: '1/day' }, prefix: testPrefix() });
    const store = await rl.store();
    expect(store).toBeInstanceOf(IORedisStore);
    expect((await rl.limit('user:1')).success).toBe(true);
    rl.close();
  });
});
