import { IORedisStore } from '@periodkey/ioredis';
import type { RatelimitEvent } from '@periodkey/ratelimit';
import { type RedisCluster, type RedisServer, startCluster } from '@periodkey/test';
import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import {
  expectBounded,
  expectCountingRight,
  expectMetrics,
  expectPolicyAnswers,
  failedCalls,
  lagMs,
  MARGIN,
  resetLag,
  traffic,
  trio,
  watchUnhandled,
} from './support.js';

// A private 3-master Redis Cluster without replicas; one master is killed under traffic. Its slot range
// is down: calls for identities there fail per policy within the bound at once. Then the cluster itself
// declares the failure (cluster_state:fail after the node timeout) and every slot refuses; the limiters
// bypass it until the master is restarted (same port, same nodes.conf) and the cluster is ok again.

let cluster: RedisCluster;
let client: Cluster;
/** Slot ranges of the master that is killed. */
let doomed: [number, number][];

/** CRC16/XMODEM, the Redis Cluster key hash: slot = crc16(tag) mod 16384. */
function slotOf(tag: string): number {
  let crc = 0;
  for (const byte of Buffer.from(tag)) {
    crc ^= byte << 8;
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc % 16384;
}

const onDoomed = (identity: string) => {
  const slot = slotOf(identity);
  return doomed.some(([from, to]) => slot >= from && slot <= to);
};

beforeAll(async () => {
  cluster = await startCluster(3);
  client = new Cluster([...cluster.startupNodes]);
  client.on('error', () => {});
  const victim = cluster.nodes[0] as RedisServer;
  const slots = (await client.cluster('SLOTS')) as unknown as [number, number, [string, number]][];
  doomed = slots.filter(([, , [, port]]) => port === victim.port).map(([from, to]) => [from, to]);
  expect(doomed.length).toBeGreaterThan(0);
});

afterAll(async () => {
  client?.disconnect();
  await cluster?.stop();
});

test('the slot function agrees with the server', async () => {
  for (const id of ['user:1', 'user:2', 'ip:203.0.113.7', 'josé']) {
    expect(slotOf(id)).toBe(Number(await client.cluster('KEYSLOT', id)));
  }
});

describe('a master without replica is killed', () => {
  test('its identities fail per policy within the bound; the limiters bypass the cluster until it is back', async () => {
    const victim = cluster.nodes[0] as RedisServer;
    const subjects = trio(new IORedisStore(client));
    const live = traffic(subjects);
    const unhandled = watchUnhandled();
    try {
      await Promise.all(
        subjects.map(({ events }) =>
          events.next((e) => e.type === 'decision' && e.result.reason === 'store', 'store decision'),
        ),
      );
      const killedAt = performance.now();
      victim.signal('SIGKILL');
      await Promise.all(subjects.map(({ events }) => events.bypassed()));
      const marks = subjects.map(({ events }) => events.seen.length);
      await victim.restart();
      // Back on the primary once an identity of the restarted master is answered by the store again.
      await Promise.all(
        subjects.map(({ events }, i) =>
          events.next(
            (e: RatelimitEvent) =>
              e.type === 'decision' && e.result.reason === 'store' && onDoomed(e.identifier ?? ''),
            'store decision on the restarted master',
            60_000,
            marks[i],
          ),
        ),
      );
      await live.stop();
      for (const subject of subjects) {
        const calls = live.since(subject.policy, killedAt);
        expectBounded(calls);
        const doomedCalls = calls.filter((c) => onDoomed(c.identity));
        // Identities of the dead master never got an answer from the store until it was back.
        const firstBack = doomedCalls.findIndex((c) => c.result.reason === 'store');
        const down = firstBack < 0 ? doomedCalls : doomedCalls.slice(0, firstBack);
        expect(down.length).toBeGreaterThan(0);
        expectPolicyAnswers(subject.policy, down);
        expectPolicyAnswers(subject.policy, failedCalls(calls));
      }
      // Counting is exact again, also in the restarted master's slots (which lost their data).
      let fresh = 0;
      while (!onDoomed(`fresh:${fresh}`)) fresh++;
      for (const subject of subjects) {
        await vi.waitFor(() => expect(subject.limiter.stats().fallbackActive).toBe(false), {
          timeout: 30_000,
        });
        await expectCountingRight(subject.limiter, `fresh:${fresh}`);
        await expectMetrics(subject, { probes: 'at least one' });
        subject.limiter.close();
      }
    } finally {
      await live.stop();
      expect(unhandled()).toEqual([]);
    }
  }, 120_000);

  test('health() fails while the cluster is down and passes once it is back', async () => {
    const store = new IORedisStore(client);
    expect(await store.health()).toMatchObject({ ok: true });
    const victim = cluster.nodes[1] as RedisServer;
    victim.signal('SIGKILL');
    try {
      resetLag();
      const down = await store.health({ timeout: 300 });
      expect(down.ok).toBe(false);
      expect(down.latencyMs).toBeLessThan(300 + MARGIN + lagMs());
    } finally {
      await victim.restart();
    }
    await vi.waitFor(async () => expect((await store.health()).ok).toBe(true), {
      timeout: 60_000,
      interval: 200,
    });
  }, 90_000);
});
