import { IORedisStore } from '@periodkey/ioredis';
import {
  isInvalidKeyPartError,
  isStoreRefusedError,
  Ratelimit,
  type RatelimitOptions,
  type RatelimitResult,
} from '@periodkey/ratelimit';
import { SLIDING_BUCKETS } from '@periodkey/ratelimit/storage';
import { servers, testPrefix } from '@periodkey/test';
import { UpstashStore } from '@periodkey/upstash';
import { Redis as UpstashRedis } from '@upstash/redis';
import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type Backend, openBackend, REDIS_BACKENDS, SERVERS } from './backends.js';

// Issue 11, the findings that need a real Redis: every Redis store against the memory store.

const NOW = Date.parse('2026-11-24T10:00:00Z');

describe.each(REDIS_BACKENDS)('%s', (name) => {
  let backend: Backend;
  let raw: Redis | Cluster | undefined;
  beforeAll(async () => {
    backend = await openBackend(name);
  });
  afterAll(async () => {
    await backend.close();
  });

  function limiter(options: Omit<RatelimitOptions, 'store' | 'prefix'>) {
    const prefix = testPrefix();
    return { prefix, rl: new Ratelimit({ ...options, store: backend.store, prefix }) };
  }

  /** Every key under `prefix`, with its PTTL. */
  async function ttls(prefix: string): Promise<Record<string, number>> {
    const keys = await backend.keys(`${prefix}:*`);
    return Object.fromEntries(await Promise.all(keys.map(async (k) => [k, await backend.pttl(k)])));
  }

  /** A client of the same Redis, for writing foreign data under the limiter's prefix. */
  function direct(): Redis | Cluster {
    if (raw === undefined) {
      const { cluster, redis, upstash } = servers();
      raw =
        SERVERS[name] === 'cluster'
          ? new Cluster(cluster.nodes)
          : new Redis(SERVERS[name] === 'upstash' ? upstash.redisUrl : redis.url);
    }
    return raw;
  }
  afterAll(() => raw?.disconnect());

  test('finding 6: a clock with sub-millisecond precision limits like the memory store, and keys expire', async () => {
    const clock = { t: NOW + 0.123_456_7 };
    const rules = { g: { limit: 3, per: '1 minute', algorithm: 'gcra' }, f: '5/minute' } as const;
    const { rl, prefix } = limiter({ rules, now: () => clock.t, blockCache: false });
    const memory = new Ratelimit({ rules, now: () => clock.t, blockCache: false, store: 'memory://' });
    const transcript = async (limiter: Ratelimit) => {
      const out: RatelimitResult[] = [];
      for (let i = 0; i < 5; i++) {
        out.push(await limiter.limit('user:1'));
        clock.t += 0.25;
      }
      clock.t -= 1.25;
      return out;
    };
    const onRedis = await transcript(rl);
    expect(onRedis.map((r) => r.success)).toEqual([true, true, true, false, false]);
    expect(onRedis.every((r) => r.reason === 'store')).toBe(true);
    expect(onRedis).toEqual(await transcript(memory));
    const expiries = Object.values(await ttls(prefix));
    expect(expiries).toHaveLength(2);
    for (const pttl of expiries) expect(pttl).toBeGreaterThan(0);
  });

  test('finding 7: a later rule key of the wrong type fails the call and leaves every key as it was', async () => {
    const { rl, prefix } = limiter({
      rules: { a: '10/minute', b: '10/minute', c: { limit: 5, per: '1 minute', algorithm: 'gcra' } },
      now: () => NOW,
    });
    await rl.limit('user:7');
    const before = await ttls(prefix);
    const gcraKey = Object.keys(before).find((k) => k.endsWith(':c:gcra')) as string;
    const node = direct();
    await node.del(gcraKey);
    await node.hset(gcraKey, 'x', '1');
    await node.pexpire(gcraKey, 60_000);
    const error = await rl.limit('user:7').catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/WRONGTYPE/);
    const [a, b] = await Promise.all(
      ['a', 'b'].map((r) => node.get(`${gcraKey.slice(0, -7)}:${r}:202611241000`)),
    );
    expect([a, b]).toEqual(['1000000', '1000000']);
    const after = await ttls(prefix);
    for (const pttl of Object.values(after)) expect(pttl).toBeGreaterThan(0);
  });

  test.each([
    ['a fixed count', 'fixed', '10/minute', ':m:202611241000', 'not-a-number'],
    ['a GCRA time', 'gcra', { limit: 5, per: '1 minute', algorithm: 'gcra' }, ':m:gcra', 'soon'],
  ] as const)(
    'finding 7: %s that is not a number is refused, not answered by the failure policy',
    async (_, __, rule, tail, value) => {
      const { rl, prefix } = limiter({ rules: { first: '10/minute', m: rule }, now: () => NOW });
      const key = `${prefix}:{user:8}:-${tail}`;
      const node = direct();
      await node.set(key, value, 'PX', 60_000);
      const error = await rl.limit('user:8').catch((e: Error) => e);
      expect((error as Error).message).toMatch(/WRONGTYPE key .* holds/);
      expect(await node.get(`${prefix}:{user:8}:-:first:202611241000`)).toBeNull();
      expect(await node.get(key)).toBe(value);
    },
  );

  test('a refund on a sliding log never goes below zero, as in the memory store', async () => {
    const { rl } = limiter({
      rules: { r: { limit: 5, per: '1 hour', algorithm: 'sliding' } },
      now: () => NOW,
      blockCache: false,
    });
    await rl.limit('fresh', { cost: -100 });
    let admitted = 0;
    for (let i = 0; i < 30; i++) if ((await rl.limit('fresh')).success) admitted++;
    expect(admitted).toBe(5);
  });

  test('a refusal is a typed StoreRefusedError with the store error as cause', async () => {
    const { rl, prefix } = limiter({
      rules: { m: { limit: 5, per: '1 minute', algorithm: 'gcra' } },
      now: () => NOW,
    });
    const key = `${prefix}:{user:r}:-:m:gcra`;
    await direct().hset(key, 'x', '1');
    await direct().pexpire(key, 60_000);
    const error = await rl.limit('user:r').catch((e: Error) => e);
    expect(isStoreRefusedError(error)).toBe(true);
    expect((error as Error).message).toMatch(/WRONGTYPE/);
    expect((error as Error).cause).toBeInstanceOf(Error);
  });

  test('finding 11: a sliding log stays bounded under a flood of counted denials', async () => {
    const clock = { t: NOW };
    const { rl, prefix } = limiter({
      rules: { s: { limit: 10, per: '1 minute', algorithm: 'sliding' } },
      now: () => clock.t,
      countDenied: true,
      blockCache: false,
    });
    let admitted = 0;
    // 1000 calls 60 ms apart: a whole window's worth, where the old log kept one entry per call.
    for (let i = 0; i < 1000; i++) {
      if ((await rl.limit('user:9')).success) admitted++;
      clock.t += 60;
    }
    expect(admitted).toBe(10);
    const [key] = await backend.keys(`${prefix}:*`);
    const node = direct();
    expect(await node.zcard(key as string)).toBeLessThanOrEqual(SLIDING_BUCKETS + 1);
    expect(await node.pttl(key as string)).toBeGreaterThan(0);
  });
});

describe('counted denials saturate instead of overflowing Redis integers', () => {
  test.each([
    ['fixed', '9007199254/hour'],
    ['sliding', { limit: 9_007_199_254, per: '1 hour', algorithm: 'sliding' }],
  ] as const)(
    '%s: 1100 counted denials of the largest cost stay denied, like the memory store',
    async (_, rule) => {
      const redis = new Redis(servers().redis.url);
      const transcript = async (store: IORedisStore | 'memory://') => {
        const rl = new Ratelimit({
          store,
          rules: { r: rule },
          prefix: testPrefix(),
          now: () => NOW,
          countDenied: true,
          blockCache: false,
        });
        let admitted = 0;
        for (let i = 0; i < 1100; i++) if ((await rl.limit('u', { cost: 9_007_199_254 })).success) admitted++;
        return { admitted, last: (await rl.usage('u'))[0] };
      };
      const onRedis = await transcript(new IORedisStore(redis));
      expect(onRedis.admitted).toBe(1);
      expect(onRedis).toEqual(await transcript('memory://'));
      redis.disconnect();
    },
  );
});

describe('finding 4: one caller bad input never fails another caller call', () => {
  test('a huge identity in an Upstash auto-pipelined batch fails alone, before the batch', async () => {
    const { upstash } = servers();
    const client = new UpstashRedis({ url: upstash.url, token: upstash.token, enableAutoPipelining: true });
    const rl = new Ratelimit({
      store: new UpstashStore(client),
      rules: { m: '5/minute' },
      prefix: testPrefix(),
    });
    const calls = await Promise.allSettled([
      rl.limit('user:a'),
      rl.limit('x'.repeat(6_000_000)),
      rl.limit('user:b'),
      rl.limit({ token: 'x' } as never),
    ]);
    expect(calls.map((c) => c.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'rejected']);
    expect(isInvalidKeyPartError((calls[1] as PromiseRejectedResult).reason)).toBe(true);
    expect((calls[0] as PromiseFulfilledResult<RatelimitResult>).value.remaining).toBe(4);
  });
});

describe('a Redis that is not what the limiter was told', () => {
  test('a standalone client on a Cluster node is refused (MOVED), never answered by fail-open', async () => {
    const { cluster } = servers();
    const client = new Redis(cluster.nodes[0] as { host: string; port: number });
    const rl = new Ratelimit({
      store: new IORedisStore(client),
      rules: { m: '10/minute' },
      prefix: testPrefix(),
    });
    const outcomes = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => rl.limit(`user:${i}`)));
    // Keys whose slot lives on this node are counted; every other call is rejected with MOVED.
    for (const outcome of outcomes) {
      if (outcome.status === 'fulfilled') expect(outcome.value.reason).toBe('store');
      else
        expect(String(outcome.reason)).toMatch(
          /MOVED .*\(the server is a Redis Cluster node: pass a Cluster client/,
        );
    }
    expect(outcomes.some((o) => o.status === 'rejected')).toBe(true);
    client.disconnect();
  });

  test('store constructors check their client', () => {
    for (const client of [undefined, 42, {}]) {
      expect(() => new IORedisStore(client as never)).toThrow(
        expect.objectContaining({ name: 'InvalidOptionError' }),
      );
      expect(() => new UpstashStore(client as never)).toThrow(
        expect.objectContaining({ name: 'InvalidOptionError' }),
      );
    }
  });
});
