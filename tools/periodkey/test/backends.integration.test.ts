import { buildKey, keyExpiry, periodAt } from '@periodkey/ratelimit/keys';
import { servers, testPrefix } from '@periodkey/test';
import { Cluster, Redis } from 'ioredis';
import { afterAll, describe, expect, test } from 'vitest';
import { keySlot } from '../src/slot.js';
import { existing, runCli, snapshot, writeDataSet } from './helpers.js';

// The same scenarios against a standalone Redis, a 3-master Redis Cluster and the Upstash-compatible REST
// server. Each backend's `client` writes and checks the data directly (on Upstash: the Redis behind it).

interface Backend {
  readonly name: string;
  readonly client: () => Redis | Cluster;
  readonly args: () => string[];
  readonly env: () => Record<string, string>;
  /** REST names keys with JSON strings, so keys that are not UTF-8 stay out of its data set. */
  readonly utf8Only: boolean;
}

const backends: Backend[] = [
  {
    name: 'standalone Redis',
    client: () => new Redis(servers().redis.url),
    args: () => ['--url', servers().redis.url],
    env: () => ({}),
    utf8Only: false,
  },
  {
    name: 'Redis Cluster',
    client: () => new Cluster(servers().cluster.nodes),
    args: () => {
      const [node] = servers().cluster.nodes;
      return ['--url', `redis://${node?.host}:${node?.port}`, '--cluster'];
    },
    env: () => ({}),
    utf8Only: false,
  },
  {
    name: 'Upstash REST',
    client: () => new Redis(servers().upstash.redisUrl),
    args: () => [],
    env: () => ({
      UPSTASH_REDIS_REST_URL: servers().upstash.url,
      UPSTASH_REDIS_REST_TOKEN: servers().upstash.token,
    }),
    utf8Only: true,
  },
];

describe.each(backends)('on $name', (backend) => {
  const client = backend.client();
  afterAll(() => client.disconnect());
  const cli = (args: string[]) => runCli([...args, ...backend.args()], { env: backend.env() });

  test('migrate deletes every legacy key and leaves every other key exactly as it was', async () => {
    const prefix = testPrefix();
    const data = await writeDataSet(client, prefix, { utf8Only: backend.utf8Only });
    const stays = [...data.periodkey, ...data.unrelated];
    const before = await snapshot(client, stays);

    const run = await cli(['migrate', '--match', `${prefix}:*`, '--yes', '--json', '--batch-size', '100']);

    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(await existing(client, data.legacy)).toBe(0);
    expect(await snapshot(client, stays)).toEqual(before);
    expect(run.summary).toEqual({
      event: 'migrate.completed',
      keys_scanned: data.legacy.length + data.periodkey.length,
      keys_deleted: data.legacy.length,
      keys_kept: data.periodkey.length,
      duration_ms: expect.any(Number),
      status: 'success',
      dry_run: false,
    });
    expect(run.lines[0]).toMatchObject({ event: 'migrate.started', match: `${prefix}:*`, dry_run: false });
  });

  test('flush deletes every matching key, periodkey keys too, and nothing else', async () => {
    const prefix = testPrefix();
    const data = await writeDataSet(client, prefix, { bulk: 300, utf8Only: backend.utf8Only });
    const before = await snapshot(client, data.unrelated);

    const run = await cli(['flush', '--match', `${prefix}:*`, '--yes', '--json']);

    expect(run.code).toBe(0);
    expect(await existing(client, [...data.legacy, ...data.periodkey])).toBe(0);
    expect(await snapshot(client, data.unrelated)).toEqual(before);
    expect(run.summary).toMatchObject({
      event: 'flush.completed',
      keys_deleted: data.legacy.length + data.periodkey.length,
      keys_kept: 0,
      status: 'success',
    });
  });

  test('a dry run counts the legacy keys by type, shows a sample, and deletes nothing', async () => {
    const prefix = testPrefix();
    const data = await writeDataSet(client, prefix, { bulk: 200, utf8Only: backend.utf8Only });
    const all = [...data.legacy, ...data.periodkey, ...data.unrelated];
    const before = await snapshot(client, all);

    const run = await cli(['migrate', '--match', `${prefix}:*`, '--dry-run', '--json']);

    expect(run.code).toBe(0);
    expect(await snapshot(client, all)).toEqual(before);
    const plan = run.lines.find((line) => line.event === 'migrate.plan');
    expect(plan).toMatchObject({ keys_to_delete: data.legacy.length, types: data.legacyTypes });
    expect(plan?.sample).toHaveLength(10);
    expect(run.summary).toMatchObject({ event: 'migrate.completed', keys_deleted: 0, dry_run: true });
  });

  test('without --yes and without a terminal it refuses with exit 2 and deletes nothing', async () => {
    const prefix = testPrefix();
    const data = await writeDataSet(client, prefix, { bulk: 10, utf8Only: backend.utf8Only });

    const run = await cli(['migrate', '--match', `${prefix}:*`, '--json']);

    expect(run.code).toBe(2);
    expect(run.lines).toHaveLength(1);
    expect(run.summary).toMatchObject({ event: 'migrate.failed', status: 'failure', keys_deleted: 0 });
    expect(run.summary.error).toMatch(/refusing to delete without --yes/);
    expect(run.stderr).toMatch(/refusing to delete without --yes/);
    expect(await existing(client, data.legacy)).toBe(data.legacy.length);
  });

  test('status lists the periodkey keys with the highest counts, in units', async () => {
    const prefix = testPrefix();
    const data = await writeDataSet(client, prefix, { bulk: 50, utf8Only: backend.utf8Only });

    const run = await cli(['status', '--match', `${prefix}:*`, '--top', '3', '--json']);

    expect(run.code).toBe(0);
    const rows = run.lines.filter((line) => line.event === 'status.key');
    // writeDataSet counts (i + 1) units on its i-th counter; the token identity's is the highest.
    const counters = data.periodkey.length - 4;
    expect(rows.map((row) => row.count)).toEqual([counters, counters - 1, counters - 2]);
    expect(rows[0]).toMatchObject({
      identity: expect.stringMatching(/^token [A-Za-z0-9_-]{22}$/),
      scope: '/api',
      rule: 'monthly',
      algorithm: 'fixed',
    });
    expect(rows[1]).toMatchObject({ identity: 'ключ 🔑', scope: 'área' });
    expect(rows[0]?.ttl_ms).toBeGreaterThan(86_400_000);
    expect(run.summary).toMatchObject({
      event: 'status.completed',
      keys_scanned: data.legacy.length + data.periodkey.length,
      keys_deleted: 0,
      periodkey_keys: data.periodkey.length,
      legacy_keys: data.legacy.length,
    });
  });

  test("migrate --carry-over adds each legacy count to the current period's periodkey key", async () => {
    const prefix = testPrefix();
    const period = periodAt({ unit: 'month', step: 1 }, 'UTC', Date.now());
    const target = (identity: string) =>
      buildKey({
        prefix,
        identity,
        scope: '/api/chat',
        rule: 'monthly',
        period: { kind: 'calendar', periodId: period.id },
      });
    const counters = Array.from({ length: 50 }, (_, i) => `${prefix}:user:${i}:/api/chat`);
    await Promise.all(counters.map((key, i) => client.set(key, String(i + 1))));
    // Not carried, deleted all the same: another type, a value that is no count, a key off the template.
    await client.hset(`${prefix}:user:h:/api/chat`, 'count', 3);
    await client.set(`${prefix}:user:n:/api/chat`, 'not a number');
    await client.set(`${prefix}:off-template`, '7');
    // The SDK already counted 5 this month for user:0: carried counts add to it, its TTL stays.
    const sdkExpiry = keyExpiry(period) + 12_345;
    await client.set(target('user:0'), '5000000', 'PXAT', sdkExpiry);
    const carry = [
      '--carry-over',
      '--template',
      `${prefix}:{identity}:{scope}`,
      '--rule',
      'monthly=10/month',
      '--prefix',
      prefix,
    ];

    const dry = await cli(['migrate', '--match', `${prefix}:*`, '--dry-run', '--json', ...carry]);
    expect(dry.lines.find((line) => line.event === 'migrate.plan')).toMatchObject({
      keys_to_delete: 53,
      keys_to_carry: 51,
    });

    const run = await cli(['migrate', '--match', `${prefix}:*`, '--yes', '--json', ...carry]);

    expect(run.code).toBe(0);
    expect(run.summary).toMatchObject({
      keys_deleted: 53,
      keys_kept: 1,
      keys_carried: 50,
      status: 'success',
    });
    const values = await Promise.all(counters.map((_, i) => client.get(target(`user:${i}`))));
    expect(values).toEqual(counters.map((_, i) => String((i + 1) * 1_000_000 + (i === 0 ? 5_000_000 : 0))));
    const expiries = await Promise.all(
      counters.map((_, i) => client.call('PEXPIRETIME', target(`user:${i}`))),
    );
    expect(expiries).toEqual(counters.map((_, i) => (i === 0 ? sdkExpiry : keyExpiry(period))));
    const legacy = [
      ...counters,
      `${prefix}:user:h:/api/chat`,
      `${prefix}:user:n:/api/chat`,
      `${prefix}:off-template`,
    ];
    expect(
      await existing(
        client,
        legacy.map((key) => Buffer.from(key)),
      ),
    ).toBe(0);
  });
});

describe('keySlot', () => {
  test('equals CLUSTER KEYSLOT for ASCII, UTF-8, binary and hash-tagged keys', async () => {
    const cluster = new Cluster(servers().cluster.nodes);
    try {
      const keys = [
        'ratelimit:user:1',
        'ratelimit:{user:42}:/api:monthly:202611',
        '{}:empty-tag',
        'a{b}{c}',
        'open{only',
        'ключ:🔑',
        Buffer.from([0xff, 0x00, 0x7b, 0x41, 0x7d, 0xfe]),
        '',
      ];
      const expected = await Promise.all(keys.map((key) => cluster.call('CLUSTER', 'KEYSLOT', key)));
      expect(keys.map(keySlot)).toEqual(expected);
    } finally {
      cluster.disconnect();
    }
  });
});
