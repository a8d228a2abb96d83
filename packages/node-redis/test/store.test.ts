import { isInvalidOptionError } from '@periodkey/ratelimit';
import { createClient, createCluster } from 'redis';
import { describe, expect, test } from 'vitest';
import { NodeRedisStore } from '../src/index.js';

// No server: what the constructor accepts. The store over real servers is tested in test/node-redis.test.ts
// and by every SDK suite (test/sdk/backends.ts).

function thrown(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('did not throw');
}

describe('new NodeRedisStore(client)', () => {
  test.each([
    ['nothing', undefined],
    ['a URL', 'redis://127.0.0.1:6379'],
    ['an ioredis-like client', { evalsha: async () => 0, unlink: async () => 0 }],
  ])('refuses %s with the usage', (_, client) => {
    const error = thrown(() => new NodeRedisStore(client as never));
    expect(isInvalidOptionError(error)).toBe(true);
    expect((error as Error).message).toContain('new NodeRedisStore(await createClient({ url }).connect())');
    expect((error as Error).message).toContain('createCluster({ rootNodes');
  });

  test.each([
    ['createClient()', () => createClient({ url: 'redis://127.0.0.1:1' })],
    ['createCluster()', () => createCluster({ rootNodes: [{ url: 'redis://127.0.0.1:1' }] })],
  ])('refuses a client of %s that connect() was not called on', (_, create) => {
    const error = thrown(() => new NodeRedisStore(create()));
    expect(isInvalidOptionError(error)).toBe(true);
    expect((error as Error).message).toMatch(/not connected \(call connect\(\) first\)/);
  });
});
