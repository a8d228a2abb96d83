import { readFileSync } from 'node:fs';
import { IORedisStore } from '@periodkey/ioredis';
import { NodeRedisStore } from '@periodkey/node-redis';
import type { Store } from '@periodkey/ratelimit/store';
import { createAclUser, type RedisServer, startRedis } from '@periodkey/test';
import { Redis } from 'ioredis';
import { Redis as Redis6 } from 'ioredis6';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  expectCountingRight,
  expectMetrics,
  expectThroughout,
  type Subject,
  trio,
  underFault,
} from './support.js';

// A private redis-server, crashed (SIGKILL) and restarted on the same port, or frozen (SIGSTOP) past the
// timeout and resumed, under live traffic from three limiters: fail-open, fail-closed, and a fallback store.
// Each client has its default options (ioredis: offline queue, 20 retries per request; node-redis: offline
// queue, reconnecting forever): the hardest case for the timeout, since commands wait in the client's queue
// instead of failing.

let server: RedisServer;

beforeAll(async () => {
  server = await startRedis();
});

afterAll(async () => {
  await server?.stop();
});

/** A store on a connected client of `url`, and how to close it; the calls see the failures, not the log. */
type Open = (url: string) => Promise<{ store: Store; close(): Promise<unknown> }>;
const ioredis = async (client: Redis | Redis6) => {
  client.on('error', () => {});
  await client.ping();
  return { store: new IORedisStore(client), close: async () => client.disconnect() };
};
const CLIENTS: readonly (readonly [string, Open])[] = [
  ['ioredis 5', (url) => ioredis(new Redis(url))],
  ['ioredis 6', (url) => ioredis(new Redis6(url))],
  [
    'node-redis 6',
    async (url) => {
      const client = await createClient({ url })
        .on('error', () => {})
        .connect();
      return { store: new NodeRedisStore(client), close: () => client.close() };
    },
  ],
];

describe.each(CLIENTS)('through %s', (_, open) => {
  let store: Store;
  let close: () => Promise<unknown>;
  beforeAll(async () => {
    ({ store, close } = await open(server.url));
  });
  afterAll(() => close());

  describe('redis-server crashes mid-traffic (SIGKILL) and restarts on the same port', () => {
    test('each policy answers within the bound, the fallback takes over and hands back, counting resumes', async () => {
      const subjects = trio(store);
      const results = await underFault(
        subjects,
        () => server.signal('SIGKILL'),
        () => server.restart(),
      );
      for (const { subject, calls, outage } of results) {
        expectThroughout(calls, outage, subject);
        // The restarted server has no data: counting starts afresh and is exact.
        await expectCountingRight(subject.limiter, 'after-restart');
        await expectMetrics(subject);
        subject.limiter.close();
      }
    });
  });

  describe('redis-server frozen (SIGSTOP) for longer than the timeout, then resumed', () => {
    test('each policy answers within the bound; the fallback counts on its own and nothing is merged back', async () => {
      const subjects = trio(store);
      const fallback = subjects[2] as Subject;
      // Two calls counted in Redis before the freeze.
      for (let i = 0; i < 2; i++) expect((await fallback.limiter.limit('carried')).reason).toBe('store');
      const results = await underFault(
        subjects,
        () => server.signal('SIGSTOP'),
        async () => {
          // While bypassed, a call of `carried` counts in the fallback store only (it starts from zero).
          expect(await fallback.limiter.limit('carried')).toMatchObject({ reason: 'fallback', remaining: 4 });
          server.signal('SIGCONT');
        },
      );
      for (const { subject, calls, outage } of results) {
        expectThroughout(calls, outage, subject);
        await expectCountingRight(subject.limiter, 'after-freeze');
        await expectMetrics(subject);
        subject.limiter.close();
      }
      // Redis kept its data: `carried` has its 2 from before the freeze, not the fallback's 1.
      expect(await fallback.limiter.limit('carried')).toMatchObject({ reason: 'store', remaining: 2 });
    });
  });
});

describe('a least-privilege ACL user', () => {
  // The commands that the ioredis README lists for the limiter, as written there (without +ping).
  const readme = readFileSync(new URL('../../packages/ioredis/README.md', import.meta.url), 'utf8');
  const LIMITER = [...(/^ACL SETUSER app .*$/m.exec(readme)?.[0].matchAll(/\+[\w|]+/g) ?? [])]
    .map(([command]) => command)
    .filter((command) => command !== '+ping' && !command.startsWith('+cluster'));

  test('health() needs +ping; without it the limiter still returns to Redis after an outage', async () => {
    expect(LIMITER).toContain('+evalsha');
    const restricted = new Redis(await createAclUser(server.url, ['~*', ...LIMITER]), {
      enableReadyCheck: false,
    });
    const withPing = new Redis(await createAclUser(server.url, ['~*', ...LIMITER, '+ping']), {
      enableReadyCheck: false,
    });
    restricted.on('error', () => {});
    withPing.on('error', () => {});
    try {
      const refused = await new IORedisStore(restricted).health();
      expect(refused).toMatchObject({ ok: false });
      expect(refused.error?.message).toMatch(/NOPERM/);
      expect(await new IORedisStore(withPing).health()).toMatchObject({ ok: true });

      // The probe falls back to the limiter's own (read-only) command when the health check is refused.
      const subjects = trio(new IORedisStore(restricted)).filter((s) => s.policy === 'fallback');
      const results = await underFault(
        subjects,
        () => server.signal('SIGSTOP'),
        async () => server.signal('SIGCONT'),
      );
      for (const { subject, calls, outage } of results) {
        expectThroughout(calls, outage, subject);
        await expectCountingRight(subject.limiter, 'after-freeze');
        subject.limiter.close();
      }
    } finally {
      server.signal('SIGCONT');
      restricted.disconnect();
      withPing.disconnect();
    }
  });
});
