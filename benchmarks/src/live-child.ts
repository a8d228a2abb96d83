import { IORedisStore } from '@periodkey/ioredis';
import { Ratelimit } from '@periodkey/ratelimit';
import { Redis } from 'ioredis';
import { clock, type Sample } from './live.js';

// The live traffic of `live.ts`, run as a child process (argv: Redis URL, calls per second). It calls
// limit() open loop: a call is sent when it is due, whether or not earlier ones have answered, so a busy
// Redis shows up as latency and not as fewer calls. A timer checks every millisecond how many calls are due.
// It says 'ready' when connected; on 'stop' it waits for the calls in flight and sends back every sample.

const IDENTITIES = 10_000;
const [url = '', rate = ''] = process.argv.slice(2);
const ratePerS = Number(rate);

const redis = new Redis(url);
// The service's keys (prefix `app`) do not match the flush; no timeout, so latency is measured as it is.
const limiter = new Ratelimit({
  store: new IORedisStore(redis),
  rules: { monthly: '1000000000/month' },
  prefix: 'app',
  timeout: Number.POSITIVE_INFINITY,
});
await limiter.limit('warm-up');

const samples: Sample[] = [];
const inFlight = new Set<Promise<void>>();
const problems: string[] = [];
const started = performance.now();
let sent = 0;
const timer = setInterval(() => {
  const due = Math.floor(((performance.now() - started) * ratePerS) / 1000);
  for (; sent < due; sent++) {
    const at = clock();
    const call = limiter.limit(`user:${sent % IDENTITIES}`).then((result) => {
      samples.push({ at, ms: clock() - at });
      if (result.reason !== 'store') problems.push(result.reason);
    });
    inFlight.add(call);
    void call.finally(() => inFlight.delete(call));
  }
}, 1);

process.once('message', async () => {
  clearInterval(timer);
  await Promise.all(inFlight);
  redis.disconnect();
  process.send?.(
    problems.length > 0
      ? { error: `${problems.length} live calls were not answered by Redis (${problems[0]})` }
      : { samples },
  );
});
process.on('disconnect', () => process.exit(0));
process.send?.('ready');
