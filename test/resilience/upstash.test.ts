import {
  type Fault,
  type RedisServer,
  startRedis,
  startUpstashServer,
  type UpstashServer,
} from '@periodkey/test';
import { UpstashStore } from '@periodkey/upstash';
import { Redis } from '@upstash/redis';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  expectCountingRight,
  expectMetrics,
  expectThroughout,
  lagMs,
  MARGIN,
  resetLag,
  trio,
  underFault,
} from './support.js';

// A private Upstash-compatible REST server (in front of a private redis-server) that answers 5xx or 429,
// answers slowly, or drops connections, under live traffic from the three limiters. The @upstash/redis
// client has its default options: 5 retries with exponential backoff on network errors, no request timeout.

let backend: RedisServer;
let rest: UpstashServer;

beforeAll(async () => {
  backend = await startRedis();
  rest = await startUpstashServer({ redisUrl: backend.url });
});

afterAll(async () => {
  await rest?.close();
  await backend?.stop();
});

const FAULTS: readonly [string, Fault][] = [
  ['500 Internal Server Error', { status: 500 }],
  ['502 Bad Gateway', { status: 502 }],
  ['503 Service Unavailable', { status: 503 }],
  ['429 Too Many Requests', { status: 429 }],
  ['answers after 1 s (5x the timeout)', { delayMs: 1000 }],
  ['drops connections', { drop: true }],
];

describe('the Upstash REST server fails', () => {
  test.each(FAULTS)(
    '%s: each policy answers within the bound, the fallback hands back, counting resumes',
    async (_, fault) => {
      const subjects = trio(new UpstashStore(new Redis({ url: rest.url, token: rest.token })));
      const results = await underFault(
        subjects,
        () => rest.faults.set(fault),
        async () => rest.faults.clear(),
      );
      for (const { subject, calls, outage } of results) {
        expectThroughout(calls, outage, subject);
        await expectCountingRight(subject.limiter, 'after-fault');
        await expectMetrics(subject);
        subject.limiter.close();
      }
    },
  );

  test('health() reports the fault, and recovers with the server', async () => {
    const store = new UpstashStore(new Redis({ url: rest.url, token: rest.token }));
    expect(await store.health()).toMatchObject({ ok: true });
    rest.faults.set({ status: 503 });
    const failed = await store.health();
    expect(failed).toMatchObject({ ok: false });
    expect(failed.error?.message).toMatch(/Service Unavailable/);
    rest.faults.set({ delayMs: 500 });
    resetLag();
    const slow = await store.health({ timeout: 100 });
    expect(slow.error?.message).toMatch(/within 100 ms/);
    expect(slow.latencyMs).toBeLessThan(100 + MARGIN + lagMs());
    rest.faults.clear();
    expect(await store.health()).toMatchObject({ ok: true });
  });
});
