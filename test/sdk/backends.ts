import { IORedisStore } from '@periodkey/ioredis';
import { NodeRedisStore } from '@periodkey/node-redis';
import { MemoryStore } from '@periodkey/ratelimit';
import type { Store } from '@periodkey/ratelimit/store';
import { servers } from '@periodkey/test';
import { UpstashStore } from '@periodkey/upstash';
import { Redis as UpstashRedis } from '@upstash/redis';
import { Cluster, Redis } from 'ioredis';
import { Cluster as Cluster6, Redis as Redis6 } from 'ioredis6';
import { createClient, createCluster } from 'redis';

/** A store of one kind, and what the tests need to look at the keys it wrote. */
export interface Backend {
  readonly store: Store;
  /** Every key under `pattern`, read straight from Redis (all masters of a cluster). */
  keys(pattern: string): Promise<string[]>;
  /** PTTL of a key, read straight from Redis. */
  pttl(key: string): Promise<number>;
  close(): Promise<void>;
}

/** The server a backend's store talks to; `memory` has none. */
export type Server = 'memory' | 'standalone' | 'cluster' | 'upstash';

/** Each store, with the client it runs on, and the server it talks to. */
export const SERVERS = {
  memory: 'memory',
  standalone: 'standalone',
  cluster: 'cluster',
  upstash: 'upstash',
  ioredis6: 'standalone',
  'ioredis6-cluster': 'cluster',
  'node-redis': 'standalone',
  'node-redis-cluster': 'cluster',
} as const satisfies Record<string, Server>;

/** `standalone` and `cluster` are IORedisStore on ioredis 5, `ioredis6*` on ioredis 6. */
export type BackendName = keyof typeof SERVERS;
export const BACKENDS = Object.keys(SERVERS) as readonly BackendName[];
/** The backends on a real Redis. */
export type RedisBackendName = Exclude<BackendName, 'memory'>;
export const REDIS_BACKENDS = BACKENDS.filter((name): name is RedisBackendName => name !== 'memory');

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

/** The store under test, and how to close its client. */
interface Opened {
  readonly store: Store;
  close(): Promise<unknown>;
}

async function openStore(name: RedisBackendName): Promise<Opened> {
  const { redis, cluster, upstash } = servers();
  switch (name) {
    case 'standalone':
    case 'cluster': {
      const client = name === 'cluster' ? new Cluster(cluster.nodes) : new Redis(redis.url);
      return { store: new IORedisStore(client), close: async () => client.disconnect() };
    }
    case 'ioredis6':
    case 'ioredis6-cluster': {
      const client = name === 'ioredis6-cluster' ? new Cluster6(cluster.nodes) : new Redis6(redis.url);
      return { store: new IORedisStore(client), close: async () => client.disconnect() };
    }
    case 'node-redis': {
      const client = await createClient({ url: redis.url }).connect();
      return { store: new NodeRedisStore(client), close: () => client.close() };
    }
    case 'node-redis-cluster': {
      const rootNodes = cluster.nodes.map(({ host, port }) => ({ socket: { host, port } }));
      const client = await createCluster({ rootNodes }).connect();
      return { store: new NodeRedisStore(client), close: () => client.close() };
    }
    case 'upstash': {
      const client = new UpstashRedis({ url: upstash.url, token: upstash.token });
      return { store: new UpstashStore(client), close: async () => {} };
    }
  }
}

/**
 * Opens a store of the kind `name`; the keys it writes are read through an ioredis 5 client of the same
 * server (all masters of a cluster), whatever client the store runs on.
 */
export async function openBackend(name: BackendName): Promise<Backend> {
  if (name === 'memory') {
    return { store: new MemoryStore(), keys: async () => [], pttl: async () => -2, close: async () => {} };
  }
  const opened = await openStore(name);
  const { redis, cluster, upstash } = servers();
  const server = SERVERS[name];
  const inspector =
    server === 'cluster'
      ? new Cluster(cluster.nodes)
      : new Redis(server === 'upstash' ? upstash.redisUrl : redis.url);
  return {
    store: opened.store,
    keys: async (pattern) =>
      inspector instanceof Cluster
        ? (await Promise.all(inspector.nodes('master').map((node) => scanAll(node, pattern)))).flat()
        : scanAll(inspector, pattern),
    pttl: (key) => inspector.pttl(key),
    close: async () => {
      await opened.close();
      inspector.disconnect();
    },
  };
}
