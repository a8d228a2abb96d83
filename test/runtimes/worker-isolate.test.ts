import { periodAt } from '@periodkey/ratelimit/keys';
import { servers, startUpstashServer, testPrefix, type UpstashServer } from '@periodkey/test';
import type { Miniflare } from 'miniflare';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { bundleFixture, startWorker, WORKERD, type WorkerOptions } from './fixtures/bundle.js';

// workerd (through miniflare) runs an isolate under rules of its own: no random values, timers or I/O in
// the global scope, where limiters and stores are made once per isolate; and a timer belongs to the request
// that set it, dropped when that request ends.

/** A fixture of this folder, bundled, as a Worker. */
async function startFixture(fixture: string, options?: WorkerOptions): Promise<Miniflare> {
  return startWorker(await bundleFixture(fixture, WORKERD), options);
}

async function get(worker: Miniflare, path: string): Promise<unknown> {
  return (await worker.dispatchFetch(`http://worker${path}`)).json();
}

let isolate: Miniflare;
let timers: Miniflare;
// Before 2022-03-21 (global_navigator), a Worker has no navigator: no 'Cloudflare-Workers' user agent.
let oldTimers: Miniflare;
let upstash: UpstashServer;
let probed: Miniflare;
beforeAll(async () => {
  upstash = await startUpstashServer({ redisUrl: servers().upstash.redisUrl });
  [isolate, timers, oldTimers, probed] = await Promise.all([
    startFixture('global-scope-worker.mjs'),
    startFixture('timers-worker.mjs'),
    startFixture('timers-worker.mjs', { compatibilityDate: '2022-01-01' }),
    startFixture('upstash-probe-worker.mjs', {
      bindings: { URL: upstash.url, TOKEN: upstash.token, PREFIX: testPrefix('probe') },
    }),
  ]);
});
afterAll(async () => {
  await Promise.all([isolate?.dispose(), timers?.dispose(), oldTimers?.dispose(), probed?.dispose()]);
  await upstash?.close();
});

test('a Worker makes its limiter and stores in its global scope, and limits', async () => {
  const answers = [];
  for (let i = 0; i < 3; i++) answers.push(await get(isolate, '/user:1'));
  expect(answers).toEqual([
    { success: true, remaining: 1, upstash: true },
    { success: true, remaining: 0, upstash: true },
    { success: false, remaining: 0, upstash: true },
  ]);
});

test("calendar periods from workerd's Intl are Node's", async () => {
  // Instants next to DST changes and odd offsets: New York's spring gap, Lord Howe's half-hour DST,
  // Kathmandu's +05:45, Apia's skipped 2011-12-30, and a month in Sydney.
  const cases = [
    { unit: 'day', zone: 'America/New_York', at: Date.UTC(2026, 2, 8, 6, 59) },
    { unit: 'day', zone: 'America/New_York', at: Date.UTC(2026, 2, 8, 7, 1) },
    { unit: 'hour', zone: 'Australia/Lord_Howe', at: Date.UTC(2026, 9, 3, 15, 45) },
    { unit: 'day', zone: 'Asia/Kathmandu', at: Date.UTC(2026, 11, 3, 18, 14) },
    { unit: 'day', zone: 'Pacific/Apia', at: Date.UTC(2011, 11, 30, 10) },
    { unit: 'month', zone: 'Australia/Sydney', at: Date.UTC(2026, 9, 31, 13, 30) },
  ] as const;
  for (const { unit, zone, at } of cases) {
    const query = new URLSearchParams({ unit, zone, at: String(at) });
    expect(await get(isolate, `/period?${query}`)).toEqual({ ...periodAt({ unit, step: 1 }, zone, at) });
  }
});

test('a store URL in a bundle is an InvalidOptionError that says to pass the store', async () => {
  expect(await get(isolate, '/url-store')).toEqual({
    name: 'InvalidOptionError',
    message: expect.stringContaining(
      'in a bundle, for Workers, edge functions or Next.js, always pass the store',
    ),
  });
});

test('a call that hangs after a request that ended is answered at its timeout', async () => {
  // The first request leaves the limiter's deadline timer pending when it ends.
  expect(await get(timers, '/ok')).toEqual({ success: true, reason: 'store' });
  expect(await get(timers, '/hang')).toEqual({ success: true, reason: 'timeout' });
  expect(await get(timers, '/hang')).toEqual({ success: true, reason: 'timeout' });
});

test('a call that hangs is answered at its timeout in a Worker without navigator (old compatibility date)', async () => {
  expect(await get(oldTimers, '/ok')).toEqual({ success: true, reason: 'store' });
  expect(await get(oldTimers, '/hang')).toEqual({ success: true, reason: 'timeout' });
});

test('a store that failed is probed again, and used again once it answers', async () => {
  // Five failures in a row bypass the store; the probe is scheduled by the request of the fifth.
  for (let i = 0; i < 5; i++) expect(await get(timers, '/fail')).toEqual({ success: true, reason: 'error' });
  // Polled: the probe is due 10 ms after the fifth failure, and runs at the first call after that.
  const deadline = Date.now() + 5000;
  let answer: unknown;
  do answer = await get(timers, '/ok');
  while (Date.now() < deadline && (answer as { reason: string }).reason !== 'store');
  expect(answer).toEqual({ success: true, reason: 'store' });
});

test('an Upstash store that failed is used again once it answers: the probe is a real fetch', async () => {
  expect(await get(probed, '/')).toEqual({ success: true, reason: 'store' });
  upstash.faults.set({ drop: true });
  for (let i = 0; i < 5; i++) expect(await get(probed, '/')).toEqual({ success: true, reason: 'error' });
  upstash.faults.clear();
  // The call that finds the probe due waits for it: answered from the fallback at once, its request would
  // end before the store answered, and workerd would cancel the probe's fetch (was: bypassed for good).
  const deadline = Date.now() + 3000;
  let answer: unknown;
  do {
    answer = await get(probed, '/');
    await new Promise((resolve) => setTimeout(resolve, 20));
  } while (Date.now() < deadline && (answer as { reason: string }).reason !== 'store');
  expect(answer).toEqual({ success: true, reason: 'store' });
});
