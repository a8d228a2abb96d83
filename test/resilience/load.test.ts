import { setTimeout as sleep } from 'node:timers/promises';
import { IORedisStore } from '@periodkey/ioredis';
import { type RedisServer, startRedis, startUpstashServer, type UpstashServer } from '@periodkey/test';
import { UpstashStore } from '@periodkey/upstash';
import { Redis as UpstashRedis } from '@upstash/redis';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, test, vi } from 'vitest';
import {
  expectBounded,
  expectCountingRight,
  type Subject,
  traffic,
  trio,
  watchUnhandled,
} from './support.js';

// Two seconds of loopback load on six limiters (the three policies over ioredis and over Upstash REST), with
// faults on a fixed schedule: the schedule is the fault itself, so it runs on real time. No call may exceed
// the bound and no rejection may escape; afterwards every limiter is back on its primary and counts exactly.

let redis: RedisServer;
let backend: RedisServer;
let rest: UpstashServer;
let client: Redis;

beforeAll(async () => {
  [redis, backend] = await Promise.all([startRedis(), startRedis()]);
  rest = await startUpstashServer({ redisUrl: backend.url });
  client = new Redis(redis.url);
  client.on('error', () => {});
  await client.ping();
});

afterAll(async () => {
  client?.disconnect();
  await rest?.close();
  await Promise.all([redis?.stop(), backend?.stop()]);
});

test('2 s of load with freezes, crashes, 5xx and dropped connections: every call bounded, nothing escapes', async () => {
  const subjects: Subject[] = [
    ...trio(new IORedisStore(client)),
    ...trio(new UpstashStore(new UpstashRedis({ url: rest.url, token: rest.token }))),
  ];
  const unhandled = watchUnhandled();
  const live = traffic(subjects, { concurrency: 8 });
  const started = performance.now();
  try {
    await sleep(250);
    redis.signal('SIGSTOP');
    rest.faults.set({ drop: true });
    await sleep(400);
    redis.signal('SIGCONT');
    rest.faults.set({ status: 503 });
    await sleep(300);
    redis.signal('SIGKILL');
    rest.faults.set({ delayMs: 600 });
    await sleep(300);
    await redis.restart();
    rest.faults.set({ status: 429, times: 50 });
    await sleep(Math.max(0, 2000 - (performance.now() - started)));
    rest.faults.clear();
    // Load goes on until every limiter answers from its primary again.
    for (const { limiter } of subjects) {
      await vi.waitFor(() => expect(limiter.stats().fallbackActive).toBe(false), { timeout: 30_000 });
    }
  } finally {
    await live.stop();
  }
  const escaped = unhandled();
  expect(escaped).toEqual([]);
  expect(live.calls.length).toBeGreaterThan(1000);
  expectBounded(live.calls);
  const reasons = new Set(live.calls.map((c) => c.result.reason));
  for (const reason of ['store', 'timeout', 'error', 'fallback']) expect(reasons).toContain(reason);
  for (const { limiter } of subjects) {
    await expectCountingRight(limiter, 'after-load');
    limiter.close();
  }
}, 60_000);
