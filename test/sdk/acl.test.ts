import { IORedisStore } from '@periodkey/ioredis';
import { Ratelimit } from '@periodkey/ratelimit';
import { createAclUser, servers, testPrefix } from '@periodkey/test';
import { Redis } from 'ioredis';
import { expect, test } from 'vitest';

// The ACL that packages/ioredis/README.md documents for an application, tested as written: Redis checks
// the commands a script calls against the caller's ACL too.
const COMMANDS =
  '+evalsha +eval +unlink +get +set +incrby +hmget +hset +zrangebyscore +zremrangebyscore +zadd +pexpire +del';

test('the documented least-privilege ACL runs every algorithm, the NOSCRIPT fallback and reset', async () => {
  const prefix = testPrefix();
  const url = await createAclUser(servers().redis.url, [`~${prefix}:*`, ...COMMANDS.split(' ')]);
  const client = new Redis(url, { enableReadyCheck: false });
  const admin = new Redis(servers().redis.url);
  await admin.script('FLUSH'); // the first call must fall back to EVAL
  admin.disconnect();
  const rl = new Ratelimit({
    store: new IORedisStore(client),
    prefix,
    now: () => Date.parse('2026-11-24T10:00:00Z'),
    rules: {
      monthly: '10/month',
      sliding: { limit: 5, per: '1 minute', algorithm: 'sliding' },
      counter: { limit: 5, per: '1 minute', algorithm: 'sliding-counter' },
      bucket: { limit: 5, per: '1 minute', algorithm: 'token-bucket' },
      gcra: { limit: 5, per: '1 minute', algorithm: 'gcra' },
    },
  });
  try {
    expect((await rl.limit('user:1')).success).toBe(true);
    expect((await rl.usage('user:1')).map((r) => r.used)).toEqual([1, 1, 1, 1, 1]);
    await rl.reset('user:1');
    expect((await rl.usage('user:1')).map((r) => r.used)).toEqual([0, 0, 0, 0, 0]);
    // Keys outside the prefix are out of reach.
    const outside = new Ratelimit({
      store: new IORedisStore(client),
      prefix: testPrefix(),
      rules: { d: '1/day' },
    });
    await expect(outside.limit('user:1')).rejects.toThrow(
      /NOPERM.*\(grant the command and the limiter's keys to the user/,
    );
  } finally {
    client.disconnect();
  }
});
