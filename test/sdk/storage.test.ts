import { PassThrough } from 'node:stream';
import { IORedisStore } from '@periodkey/ioredis';
import { type Algorithm, MemoryStore, parseKey, Ratelimit, type RuleObject } from '@periodkey/ratelimit';
import { parseRule } from '@periodkey/ratelimit/keys';
import {
  algorithmOfKey,
  decodeState,
  type StoredValue,
  storageLayout,
  usageOf,
} from '@periodkey/ratelimit/storage';
import { servers, testPrefix } from '@periodkey/test';
import { Redis } from '@periodkey/test/ioredis';
import { Cluster } from 'ioredis';
import { afterAll, describe, expect, test } from 'vitest';
import { run } from '../../tools/periodkey/src/index.js';
import { type BackendName, openBackend } from './backends.js';

// The storage module against the truth: state written by the real SDK, through the Lua script on a real
// Redis, decoded by the module, must mean what the SDK itself answers, on Redis and on the memory store.

const client = new Redis(servers().redis.url);
afterAll(() => client.disconnect());

const RULES: Readonly<Record<Algorithm, string | RuleObject>> = {
  fixed: '100/month',
  sliding: { limit: 10, per: '1 minute', algorithm: 'sliding' },
  'sliding-counter': { limit: 10, per: '1 minute', algorithm: 'sliding-counter' },
  'token-bucket': { limit: 10, per: '1 minute', algorithm: 'token-bucket' },
  gcra: { limit: 10, per: '1 minute', algorithm: 'gcra' },
};

/** A key's value in its layout, and its expiry on the caller's clock. */
async function readKey(key: string, algorithm: Algorithm, now: number) {
  const layout = storageLayout(algorithm);
  let stored: StoredValue | undefined;
  if (layout.type === 'string') {
    const value = await client.get(key);
    stored = value === null ? undefined : { type: 'string', value };
  } else if (layout.type === 'hash') {
    // Every field the Lua writes is one of the layout's, and the other way round.
    expect(Object.keys(await client.hgetall(key)).sort()).toEqual([...layout.fields].sort());
    const values = await client.hmget(key, ...layout.fields);
    stored = {
      type: 'hash',
      fields: Object.fromEntries(layout.fields.map((f, i) => [f, values[i] ?? null])),
    };
  } else {
    const flat = await client.zrange(key, 0, -1, 'WITHSCORES');
    const entries = [];
    for (let i = 0; i < flat.length; i += 2)
      entries.push({ member: flat[i] ?? '', score: Number(flat[i + 1]) });
    stored = { type: 'zset', entries };
  }
  expect(await client.type(key)).toBe(layout.type);
  return { stored, expireAt: now + (await client.pttl(key)) };
}

describe.each(Object.keys(RULES) as Algorithm[])('the %s layout', (algorithm) => {
  test('decoded, it means what the SDK answers on Redis and on the memory store', async () => {
    const prefix = testPrefix();
    let now = Date.UTC(2026, 10, 17, 12, 0, 0);
    const clock = () => now;
    const rules = { r: RULES[algorithm] };
    const redis = new Ratelimit({ store: new IORedisStore(client), rules, prefix, now: clock });
    const memory = new Ratelimit({ store: new MemoryStore(), rules, prefix, now: clock });
    const rule = parseRule('r', RULES[algorithm]);
    for (const [cost, step] of [
      [1, 1000],
      [2.5, 7000],
      [0.25, 13_000],
      [3, 500],
    ] as const) {
      // Time moves between calls, not after the last one: the key's TTL runs on Redis's own clock from
      // there. A calendar key keeps the TTL of its first call, so its clock does not move at all.
      if (algorithm !== 'fixed') now += step;
      await redis.limit('user:1', { scope: '/api', cost });
      await memory.limit('user:1', { scope: '/api', cost });
    }
    const [key] = await client.keys(`${prefix}:*`);
    const parsed = parseKey(key ?? '');
    expect(parsed && algorithmOfKey(parsed)).toBe(algorithm);

    const { stored, expireAt } = await readKey(key ?? '', algorithm, now);
    const state = stored && decodeState(algorithm, stored);
    expect(state?.algorithm).toBe(algorithm);
    if (!state) return;
    const decoded = usageOf(state, { now, expireAt, rule });
    for (const limiter of [redis, memory]) {
      const [sdk] = await limiter.usage('user:1', { scope: '/api' });
      expect(decoded.used).toBeCloseTo(sdk?.used ?? Number.NaN, 6);
      expect(decoded.remaining).toBeCloseTo(sdk?.remaining ?? Number.NaN, 6);
      expect(decoded.limit).toBe(sdk?.limit);
      // A calendar key's reset comes from its TTL, which runs on the server's clock.
      expect(Math.abs((decoded.reset ?? 0) - (sdk?.reset ?? 0))).toBeLessThan(
        algorithm === 'fixed' ? 1000 : 1,
      );
    }

    const alone = usageOf(state, { now, expireAt });
    const [sdk] = await redis.usage('user:1', { scope: '/api' });
    if (algorithm === 'token-bucket' || algorithm === 'gcra') {
      // Their use depends on the rate of the limit, which is not in the key.
      expect(alone.used).toBeUndefined();
    } else {
      expect(alone.used).toBeCloseTo(sdk?.used ?? Number.NaN, 6);
    }
    expect(alone.remaining).toBeUndefined();
  });
});

test('a value that is not the layout decodes to nothing', () => {
  expect(decodeState('fixed', { type: 'string', value: 'legacy' })).toBeUndefined();
  expect(decodeState('gcra', { type: 'hash', fields: { t: '1' } })).toBeUndefined();
  expect(decodeState('token-bucket', { type: 'hash', fields: { tokens: '5', at: '1' } })).toBeUndefined();
  expect(
    decodeState('sliding', { type: 'zset', entries: [{ member: 'no-cost', score: 1 }] }),
  ).toBeUndefined();
});

/** `periodkey` in-process, its output as text; `--yes` and `--json`, so nothing asks. */
async function periodkey(args: readonly string[], env: Readonly<Record<string, string>>) {
  const [stdin, stdout, stderr] = [new PassThrough(), new PassThrough(), new PassThrough()];
  stdin.end();
  let out = '';
  stdout.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
  });
  stderr.resume();
  const code = await run([...args, '--yes', '--json'], { stdin, stdout, stderr, env });
  return { code, summary: JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as Record<string, unknown> };
}

const CARRY: readonly {
  name: BackendName;
  writer: () => Redis | Cluster;
  env: () => Record<string, string>;
}[] = [
  {
    name: 'standalone',
    writer: () => new Redis(servers().redis.url),
    env: () => ({ REDIS_URL: servers().redis.url }),
  },
  {
    name: 'cluster',
    writer: () => new Cluster(servers().cluster.nodes),
    env: () => {
      const [node] = servers().cluster.nodes;
      return { REDIS_URL: `redis://${node?.host}:${node?.port}` };
    },
  },
  {
    name: 'upstash',
    writer: () => new Redis(servers().upstash.redisUrl),
    env: () => ({
      UPSTASH_REDIS_REST_URL: servers().upstash.url,
      UPSTASH_REDIS_REST_TOKEN: servers().upstash.token,
    }),
  },
];

describe.each(CARRY)('on $name', ({ name, writer, env }) => {
  test('a count carried over by `migrate --carry-over` is that many units used to the SDK', async () => {
    const prefix = testPrefix();
    const legacy = writer();
    const backend = await openBackend(name);
    try {
      await legacy.set(`${prefix}:user:7:/api`, '3');
      await legacy.set(`${prefix}:user:8:/api`, '12');
      const rl = new Ratelimit({ store: backend.store, prefix, rules: { monthly: '10/month' } });
      // user:8 already called twice this month: the carried count adds to the SDK's own.
      await rl.limit('user:8', { scope: '/api', cost: 2 });
      const { code, summary } = await periodkey(
        [
          'migrate',
          '--match',
          `${prefix}:user:*`,
          '--carry-over',
          '--template',
          `${prefix}:{identity}:{scope}`,
          '--rule',
          'monthly=10/month',
          '--prefix',
          prefix,
        ],
        env(),
      );
      expect(code).toBe(0);
      expect(summary).toMatchObject({ keys_carried: 2, status: 'success' });

      const [seven] = await rl.usage('user:7', { scope: '/api' });
      expect(seven).toMatchObject({ used: 3, remaining: 7, limit: 10 });
      const [eight] = await rl.usage('user:8', { scope: '/api' });
      expect(eight).toMatchObject({ used: 14, remaining: 0 });
      expect((await rl.limit('user:7', { scope: '/api', cost: 7 })).success).toBe(true);
      expect((await rl.limit('user:7', { scope: '/api' })).success).toBe(false);
    } finally {
      legacy.disconnect();
      await backend.close();
    }
  });
});
