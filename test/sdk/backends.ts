import { IORedisStore } from '@periodkey/ioredis';
import { MemoryStore } from '@periodkey/ratelimit';
import type { Store } from '@periodkey/ratelimit/store';
import { servers } from '@periodkey/test';
import { UpstashStore } from '@periodkey/upstash';
import { Redis as UpstashRedis } from '@upstash/redis';
import { Cluster, Redis } from 'ioredis';

/** A store of one kind, and what the tests need to look at the keys it wrote. */
export interface Backend {
  readonly store: Store;
  /** Every key under `pattern`, read straight from Redis (all masters of a cluster). */
  keys(pattern: string): Promise<string[]>;
  /** PTTL of a key, read straight from Redis. */
  pttl(key: string): Promise<number>;
  close(): Promise<void>;
}

export type BackendName = 'memory' | 'standalone' | 'cluster' | 'upstash';
export const BACKENDS: readonly BackendName[] = ['memory', 'standalone', 'cluster', 'upstash'];

async function scanAll(redis: Redis, pattern: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    keys.push(...batch);
    cursor = next;
  } while (cursor !== '0');
  return keys;
}

function direct(redis: Redis, store: Store): Backend {
  return {
    store,
    keys: (pattern) => scanAll(redis, pattern),
    pttl: (key) => redis.pttl(key),
    close: async () => {
      redis.disconnect();
    },
  };
}

export function openBackend(name: BackendName): Backend {
  const { redis, cluster, upstash } = servers();
  switch (name) {
    case 'memory':
      return {
        store: new MemoryStore(),
        keys: async () => [],
        pttl: async () => -2,
        close: async () => {},
      };
    case 'standalone': {
      const client = new Redis(redis.url);
      return direct(client, new IORedisStore(client));
    }
    case 'cluster': {
      const client = new Cluster(cluster.nodes);
      return {
        store: new IORedisStore(client),
        keys: async (pattern) =>
          (await Promise.all(client.nodes('master').map((node) => scanAll(node, pattern)))).flat(),
        pttl: (key) => client.pttl(key),
        close: async () => {
          client.disconnect();
        },
      };
    }
    case 'upstash': {
      const client = new UpstashRedis({ url: upstash.url, token: upstash.token });
      return direct(new Redis(upstash.redisUrl), new UpstashStore(client));
    }
  }
}
