// A child process of the exactness test: sends `attempts` concurrent limit() calls for one identity and
// prints how many were admitted. Runs the built packages, as an application would.
import { IORedisStore } from '@periodkey/ioredis';
import { Ratelimit } from '@periodkey/ratelimit';
import { UpstashStore } from '@periodkey/upstash';
import { Redis as UpstashRedis } from '@upstash/redis';
import { Cluster, Redis } from 'ioredis';

const { backend, target, prefix, attempts } = JSON.parse(process.argv[2]);

const client =
  backend === 'standalone'
    ? new Redis(target.url)
    : backend === 'cluster'
      ? new Cluster(target.nodes)
      : new UpstashRedis({ url: target.url, token: target.token });
const store = backend === 'upstash' ? new UpstashStore(client) : new IORedisStore(client);
// The atomicity of the store is under test: a call that timed out on a loaded machine must not count as an
// admission (fail-open would admit it), so fail closed, with a timeout far above any queueing here.
const limiter = new Ratelimit({
  store,
  prefix,
  rules: { monthly: '100/month' },
  failure: 'closed',
  timeout: 30_000,
});

const results = await Promise.all(Array.from({ length: attempts }, () => limiter.limit('user:hammered')));
process.stdout.write(`${results.filter((r) => r.success).length}\n`);
if (backend !== 'upstash') client.disconnect();
