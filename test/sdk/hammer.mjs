// A child process of the exactness test: sends `attempts` concurrent limit() calls for one identity and
// prints how many were admitted. Runs the built packages, as an application would.
import { IORedisStore } from '@periodkey/ioredis';
import { NodeRedisStore } from '@periodkey/node-redis';
import { Ratelimit } from '@periodkey/ratelimit';
import { UpstashStore } from '@periodkey/upstash';
import { Redis as UpstashRedis } from '@upstash/redis';
import * as ioredis5 from 'ioredis';
import * as ioredis6 from 'ioredis6';
import { createClient, createCluster } from 'redis';

const { backend, target, prefix, attempts } = JSON.parse(process.argv[2]);

/** The store of a backend of `backends.ts`, and how to close its client. */
async function open() {
  switch (backend) {
    case 'standalone':
    case 'cluster':
    case 'ioredis6':
    case 'ioredis6-cluster': {
      const { Cluster, Redis } = backend.startsWith('ioredis6') ? ioredis6 : ioredis5;
      const client = backend.endsWith('cluster') ? new Cluster(target.nodes) : new Redis(target.url);
      return { store: new IORedisStore(client), close: async () => client.disconnect() };
    }
    case 'node-redis':
    case 'node-redis-cluster': {
      const connecting =
        backend === 'node-redis'
          ? createClient({ url: target.url })
          : createCluster({ rootNodes: target.nodes.map((socket) => ({ socket })) });
      const client = await connecting.connect();
      return { store: new NodeRedisStore(client), close: () => client.close() };
    }
    case 'upstash':
      return {
        store: new UpstashStore(new UpstashRedis({ url: target.url, token: target.token })),
        close: async () => {},
      };
    default:
      throw new Error(`unknown backend ${backend}`);
  }
}

const { store, close } = await open();
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
await close();
