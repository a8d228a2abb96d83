import { IORedisStore } from '@periodkey/ioredis';
import { type NodeRedisClient, NodeRedisStore } from '@periodkey/node-redis';
import { Ratelimit } from '@periodkey/ratelimit';
import type { Store } from '@periodkey/ratelimit/store';
import { createAclUser, servers, testPrefix } from '@periodkey/test';
import { Redis } from 'ioredis';
import { Redis as Redis6 } from 'ioredis6';
import { createClient } from 'redis';
import { createClient as createClient5 } from 'redis5';
import { expect, test } from 'vitest';

// The ACL that packages/ioredis/README.md documents for an application, tested as written: Redis checks
// the commands a script calls against the caller's ACL too.
const COMMANDS =
  '+evalsha +eval +unlink +get +set +incrby +hmget +hset +zrangebyscore +zremrangebyscore +zadd +pexpire +del';

/** A store on a client logged in as the ACL user, and how to close it. */
type Open = (url: string) => Promise<{ store: Store; close(): Promise<unknown> }>;
const ioredis = (client: Redis | Redis6) => ({
  store: new IORedisStore(client),
  close: async () => client.disconnect(),
});
const nodeRedis = async (connecting: Promise<NodeRedisClient & { close(): Promise<unknown> }>) => {
  const client = await connecting;
  return { store: new NodeRedisStore(client), close: () => client.close() };
};
// ioredis checks readiness with INFO, which the ACL does not grant; node-redis needs nothing more.
const CLIENTS: readonly (readonly [string, Open])[] = [
  ['ioredis 5', async (url) => ioredis(new Redis(url, { enableReadyCheck: false }))],
  ['ioredis 6', async (url) => ioredis(new Redis6(url, { enableReadyCheck: false }))],
  ['node-redis 6', (url) => nodeRedis(createClient({ url }).connect())],
  ['node-redis 5', (url) => nodeRedis(createClient5({ url }).connect())],
];

test.each(CLIENTS)(
  'the documented least-privilege ACL runs every algorithm, the NOSCRIPT fallback and reset, on %s',
  async (_, open) => {
    const prefix = testPrefix();
    const url = await createAclUser(servers().redis.url, [`~${prefix}:*`, ...COMMANDS.split(' ')]);
    const { store, close } = await open(url);
    const admin = new Redis(servers().redis.url);
    await admin.script('FLUSH'); // the first call must fall back to EVAL
    admin.disconnect();
    const rl = new Ratelimit({
      store,
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
        store,
        prefix: testPrefix(),
        rules: { d: '1/day' },
      });
      await expect(outside.limit('user:1')).rejects.toThrow(
        /NOPERM.*\(grant the command and the limiter's keys to the user/,
      );
    } finally {
      await close();
    }
  },
);
