import { IORedisStore } from '@periodkey/ioredis';
import { Ratelimit, type RuleObject } from '@periodkey/ratelimit';
import { Redis } from 'ioredis';

// One of the processes of `exactness.ts` (argv: Redis URL, JSON { prefix, rule, attempts, concurrency }).
// It connects and says 'ready'; on 'go' it sends `attempts` limit() calls for one identity from
// `concurrency` loops and sends back how many were admitted.

interface Job {
  readonly prefix: string;
  readonly rule: string | RuleObject;
  readonly attempts: number;
  readonly concurrency: number;
}

const [url = '', json = '{}'] = process.argv.slice(2);
const job = JSON.parse(json) as Job;
const redis = new Redis(url);
const limiter = new Ratelimit({
  store: new IORedisStore(redis),
  rules: { hammered: job.rule },
  prefix: job.prefix,
  // Every call goes to Redis: no local answers for an identity known to be denied, no timeout.
  blockCache: false,
  timeout: Number.POSITIVE_INFINITY,
});
await redis.ping();

process.once('message', async () => {
  let next = 0;
  let admitted = 0;
  const loop = async () => {
    while (next++ < job.attempts) {
      const result = await limiter.limit('user:hammered');
      if (result.reason !== 'store') throw new Error(`a call was answered by '${result.reason}'`);
      if (result.success) admitted++;
    }
  };
  await Promise.all(Array.from({ length: job.concurrency }, loop));
  redis.disconnect();
  process.send?.({ admitted });
});
process.on('disconnect', () => process.exit(0));
process.send?.('ready');
