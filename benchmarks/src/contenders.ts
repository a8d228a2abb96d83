import { IORedisStore } from '@periodkey/ioredis';
import { MemoryStore, Ratelimit, type RatelimitOptions } from '@periodkey/ratelimit';
import type { Store } from '@periodkey/ratelimit/store';
import { Ratelimit as UpstashRatelimit } from '@upstash/ratelimit';
import type { Redis as UpstashRedis } from '@upstash/redis';
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis } from 'rate-limiter-flexible';
import { upstashRatelimitClient } from './peers.js';
import { ROW } from './targets.js';

// The limiters compared, each as a call for the i-th request, over one ioredis client with default
// settings. Identities rotate over 10,000 so no call is denied and no key is hot; limits are huge.

export interface Contender {
  readonly name: string;
  readonly call: (i: number) => Promise<unknown>;
  /** Whether it calls Redis (the others keep their counts in this process). */
  readonly redis: boolean;
}

const IDENTITIES = 10_000;
const HUGE = 1_000_000_000;

const FLOOR = `local c = redis.call('INCR', KEYS[1])
if c == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return c`;

const identity = (i: number) => `user:${i % IDENTITIES}`;

/**
 * `storeTimeout`: periodkey's bound on a store call (ms); its default unless given, which a Redis slowed
 * down on purpose (callgrind) needs.
 */
export async function contenders(redis: Redis, storeTimeout?: number): Promise<Contender[]> {
  const list: Contender[] = [];
  const floorSha = (await redis.script('LOAD', FLOOR)) as string;
  list.push({
    name: ROW.floor,
    call: (i) => redis.evalsha(floorSha, 1, `floor:{${identity(i)}}`, '2678400000'),
    redis: true,
  });
  const store = new IORedisStore(redis);
  const periodkey = (name: string, rules: RatelimitOptions['rules'], s: Store = store) => {
    const limiter = new Ratelimit({
      store: s,
      rules,
      prefix: 'bench',
      ...(storeTimeout === undefined ? {} : { timeout: storeTimeout }),
    });
    list.push({
      name,
      call: async (i) => {
        // A default limiter admits a call whose store did not answer in time: never count that one.
        const { reason } = await limiter.limit(identity(i));
        if (reason !== 'store') throw new Error(`${name}: a call was answered by '${reason}', not the store`);
      },
      redis: s === store,
    });
  };
  periodkey(ROW.fixed, { monthly: `${HUGE}/month` });
  periodkey(ROW.twoRules, { minute: `${HUGE}/minute`, monthly: `${HUGE}/month` });
  for (const algorithm of ['sliding', 'sliding-counter', 'token-bucket', 'gcra'] as const) {
    periodkey(`periodkey ${algorithm}`, { r: { limit: HUGE, per: '1 minute', algorithm } });
  }
  // In memory both sides count per day: RateLimiterMemory keeps a timer per key, and Node timers stop at
  // 2^31 ms (24.8 days), so a 30-day RateLimiterMemory expires its keys after 1 ms.
  periodkey(ROW.memory, { daily: `${HUGE}/day` }, new MemoryStore());

  const upstash = new UpstashRatelimit({
    redis: upstashRatelimitClient(redis) as unknown as UpstashRedis,
    limiter: UpstashRatelimit.fixedWindow(HUGE, '30 d'),
    prefix: 'bench-upstash',
    ephemeralCache: false,
  });
  list.push({ name: ROW.upstash, call: (i) => upstash.limit(identity(i)), redis: true });
  const flexible = (keyPrefix: string, duration: number) =>
    new RateLimiterRedis({ storeClient: redis, keyPrefix, points: HUGE, duration });
  const month = flexible('rlf-month', 2_592_000);
  const minute = flexible('rlf-minute', 60);
  list.push({ name: ROW.flexible, call: (i) => month.consume(identity(i)), redis: true });
  list.push({
    name: ROW.flexibleTwo,
    call: (i) => Promise.all([minute.consume(identity(i)), month.consume(identity(i))]),
    redis: true,
  });
  const rlfMemory = new RateLimiterMemory({ points: HUGE, duration: 86_400 });
  list.push({ name: ROW.flexibleMemory, call: (i) => rlfMemory.consume(identity(i)), redis: false });
  return list;
}
