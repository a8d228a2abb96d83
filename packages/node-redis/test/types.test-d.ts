import type { Store } from '@periodkey/ratelimit/store';
import { createClient, createCluster } from 'redis';
import { describe, expectTypeOf, test } from 'vitest';
import { NodeRedisStore } from '../src/index.js';

describe('NodeRedisStore', () => {
  test('keeps the type of the client it was given, a standalone client or a cluster', async () => {
    // expectTypeOf's equality does not terminate on node-redis's client types: assignments pin them.
    const client = await createClient({ RESP: 3 }).connect();
    const standalone: typeof client = new NodeRedisStore(client).client;
    const cluster = await createCluster({ rootNodes: [] }).connect();
    const clustered: typeof cluster = new NodeRedisStore(cluster).client;
    expectTypeOf(standalone.close).toBeFunction();
    expectTypeOf(clustered.masters).toBeArray();
    expectTypeOf(new NodeRedisStore(client)).toExtend<Store>();
  });

  test('takes a node-redis client, not a URL or an ioredis-shaped object', () => {
    // @ts-expect-error a URL is no client
    new NodeRedisStore('redis://localhost:6379');
    // @ts-expect-error ioredis spells evalsha in lower case
    new NodeRedisStore({ evalsha: async () => 0, unlink: async () => 0 });
  });
});
