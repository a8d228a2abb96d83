import { createAclUser, servers, testPrefix } from '@periodkey/test';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

describe('standalone redis-server from the harness', () => {
  let redis: Redis;
  beforeAll(() => {
    redis = new Redis(servers().redis.url);
  });
  afterAll(() => redis.disconnect());

  test('is a real redis-server on 127.0.0.1 without persistence', async () => {
    expect(servers().redis.url).toMatch(/^redis:\/\/127\.0\.0\.1:\d+$/);
    const info = await redis.info('server');
    expect(info).toMatch(/redis_version:(\d+)\./);
    expect(await redis.config('GET', 'save')).toEqual(['save', '']);
    expect(await redis.config('GET', 'appendonly')).toEqual(['appendonly', 'no']);
    expect(await redis.config('GET', 'bind')).toEqual(['bind', '127.0.0.1']);
  });

  test('an ACL user can do exactly what its rules allow', async () => {
    const prefix = testPrefix();
    const url = await createAclUser(servers().redis.url, ['+get', '+set', `~${prefix}:*`]);
    const limited = new Redis(url, { enableReadyCheck: false });
    try {
      expect(await limited.set(`${prefix}:a`, '1')).toBe('OK');
      expect(await limited.get(`${prefix}:a`)).toBe('1');
      await expect(limited.set('elsewhere:a', '1')).rejects.toThrow(/NOPERM/);
      await expect(limited.del(`${prefix}:a`)).rejects.toThrow(/NOPERM/);
    } finally {
      limited.disconnect();
    }
  });
});
