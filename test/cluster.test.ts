import { randomBytes } from 'node:crypto';
import { servers, testPrefix } from '@periodkey/test';
import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

describe('3-master Redis Cluster from the harness', () => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = new Cluster(servers().cluster.nodes);
    await cluster.ping();
  });
  afterAll(() => cluster.disconnect());

  test('has three masters covering all 16384 slots', async () => {
    expect(servers().cluster.nodes).toHaveLength(3);
    const slots = (await cluster.cluster('SLOTS')) as [number, number, ...unknown[]][];
    const covered = slots.reduce((sum, [from, to]) => sum + (to - from + 1), 0);
    expect(covered).toBe(16384);
    expect(cluster.nodes('master')).toHaveLength(3);
  });

  test('keys spread over many slots and every master', async () => {
    const prefix = testPrefix();
    // Random suffixes: CRC16 is linear, so keys that differ only in a counter's digits share slots far more
    // often than random keys do (with `${prefix}:${i}`, 0.4% of prefixes put 200 keys in 150 slots or fewer).
    const keys = Array.from({ length: 200 }, () => `${prefix}:${randomBytes(8).toString('hex')}`);
    await Promise.all(keys.map((key, i) => cluster.set(key, String(i))));
    expect(await Promise.all(keys.map((key) => cluster.get(key)))).toEqual(keys.map((_, i) => String(i)));
    const slots = new Set(await Promise.all(keys.map((key) => cluster.cluster('KEYSLOT', key))));
    expect(slots.size).toBeGreaterThan(150);
    // SCAN on one node sees only the keys of that node's slots.
    const perMaster = await Promise.all(
      cluster.nodes('master').map(async (node) => {
        let [cursor, count] = ['0', 0];
        do {
          const [next, found] = await node.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
          [cursor, count] = [next, count + found.length];
        } while (cursor !== '0');
        return count;
      }),
    );
    expect(perMaster.every((count) => count > 0)).toBe(true);
    expect(perMaster.reduce((a, b) => a + b, 0)).toBe(keys.length);
  });

  const twoKeyScript = "redis.call('SET', KEYS[1], ARGV[1]); redis.call('SET', KEYS[2], ARGV[1]); return 2";

  test('a multi-key Lua call whose keys share a hash tag works', async () => {
    const tag = `{${testPrefix()}}`;
    expect(await cluster.eval(twoKeyScript, 2, `${tag}:a`, `${tag}:b`, 'v')).toBe(2);
    expect(await cluster.get(`${tag}:b`)).toBe('v');
  });

  test('one whose keys do not share a hash tag fails with CROSSSLOT: it is a real cluster', async () => {
    const prefix = testPrefix();
    // ioredis routes by the first key; the server rejects the second key's slot.
    const [a, b] = [`${prefix}:a`, `${prefix}:b`];
    const [slotA, slotB] = [await cluster.cluster('KEYSLOT', a), await cluster.cluster('KEYSLOT', b)];
    expect(slotA).not.toBe(slotB);
    await expect(cluster.eval(twoKeyScript, 2, a, b, 'v')).rejects.toThrow(/CROSSSLOT/);
  });
});
