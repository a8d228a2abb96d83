import { IORedisStore } from '@periodkey/ioredis';
import { Ratelimit } from '@periodkey/ratelimit';
import { LIMIT_SCRIPT } from '@periodkey/ratelimit/storage';
import { servers, testPrefix } from '@periodkey/test';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

describe('the limiter script', () => {
  let redis: Redis;
  beforeAll(() => {
    redis = new Redis(servers().redis.url);
  });
  afterAll(() => redis.disconnect());

  test('ships with a pinned SHA that Redis computes too', async () => {
    // Changing the script changes this SHA: update it knowingly, the old one stays cached on servers.
    expect(LIMIT_SCRIPT.sha).toBe('99a5b13debe7081a3280102990643e2b03a54afc');
    expect(await redis.script('LOAD', LIMIT_SCRIPT.source)).toBe(LIMIT_SCRIPT.sha);
  });

  test('has no shebang flags, which vanilla Redis 7.0 and older reject', () => {
    expect(LIMIT_SCRIPT.source.startsWith('#!')).toBe(false);
  });

  test('is loaded again with EVAL when the server answers NOSCRIPT', async () => {
    const rl = new Ratelimit({ store: new IORedisStore(redis), rules: { d: '2/day' }, prefix: testPrefix() });
    await redis.script('FLUSH');
    expect((await rl.limit('user:1')).remaining).toBe(1);
    expect(await redis.script('EXISTS', LIMIT_SCRIPT.sha)).toEqual([1]);
    expect((await rl.limit('user:1')).remaining).toBe(0);
  });
});
