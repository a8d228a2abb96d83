import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { servers, testPrefix } from '@periodkey/test';
import { afterEach, expect, test } from 'vitest';

// Seed 001's verification of a multi-instance deployment: two server processes share one Redis, and 200
// requests alternate between them against a 100-per-minute route. The children run the build.
const INSTANCE = fileURLToPath(new URL('./instance.mjs', import.meta.url));
const children: ChildProcess[] = [];

afterEach(async () => {
  await Promise.all(
    children.splice(0).map(async (child) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill();
      await once(child, 'exit');
    }),
  );
});

async function startInstance(options: string): Promise<string> {
  const child = spawn(process.execPath, [INSTANCE, options], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  const port = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout as NonNullable<ChildProcess['stdout']> }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`the instance exited (${code}) before it listened`)));
  });
  return `http://127.0.0.1:${port}/api/test`;
}

test('two instances sharing one Redis admit exactly 100 of 200 requests and answer 429 to the other 100', async () => {
  // One clock value for both: the 200 requests fall into one minute, whenever the test runs.
  const options = JSON.stringify({
    redisUrl: servers().redis.url,
    prefix: testPrefix('http'),
    now: Date.now(),
  });
  const urls = await Promise.all([startInstance(options), startInstance(options)]);

  const replies: { instance: number; status: number; body: string; retryAfter: string | null }[] = [];
  // Ten waves of 20 concurrent requests, alternating between the instances.
  for (let wave = 0; wave < 10; wave++) {
    const sent = Array.from({ length: 20 }, async (_, i) => {
      const response = await fetch(urls[i % 2] as string, { method: 'POST' });
      return {
        instance: i % 2,
        status: response.status,
        body: await response.text(),
        retryAfter: response.headers.get('Retry-After'),
      };
    });
    replies.push(...(await Promise.all(sent)));
  }

  const count = (instance: number, status: number) =>
    replies.filter((reply) => reply.instance === instance && reply.status === status).length;
  expect([count(0, 200) + count(1, 200), count(0, 429) + count(1, 429)]).toEqual([100, 100]);
  // The first five waves fit the limit, so each instance admitted its 50 and refused its 50.
  expect([count(0, 200), count(1, 200), count(0, 429), count(1, 429)]).toEqual([50, 50, 50, 50]);
  for (const reply of replies.filter((r) => r.status === 429)) {
    expect(JSON.parse(reply.body)).toMatchObject({ error: { code: 'RATE_LIMIT_EXCEEDED' } });
    expect(Number(reply.retryAfter)).toBeGreaterThan(0);
  }
});
