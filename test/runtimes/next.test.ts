import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, servers, testPrefix, track, untrack } from '@periodkey/test';
import { Redis as IORedis } from '@periodkey/test/ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';

// A real Next.js app (test/runtimes/next-app): a Route Handler on the edge runtime wrapped in withRateLimit,
// and the proxy file limiting /limited/*, both on an UpstashStore that talks to the harness' REST server.
// Built with `next build` once, served with `next start` on 127.0.0.1, limited to 3 a month per user.
// `next build` takes about 15 s alone (2 cores) and up to a minute beside the other test files.
const APP = join(import.meta.dirname, 'next-app');
const NEXT = join(APP, 'node_modules', 'next', 'dist', 'bin', 'next');
const LIMIT = 3;
const BUILD_AND_START_MS = 240_000;

let server: ChildProcess | undefined;
let output = '';
let base = '';
const prefix = testPrefix('next');
const user = testPrefix('user');

/** Resolves once the server answers any HTTP request; rejects if it exits first or within `ms`. */
async function ready(child: ChildProcess, url: string, ms: number): Promise<void> {
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  const deadline = Date.now() + ms;
  while (!exited && Date.now() < deadline) {
    const answered = await fetch(url, { signal: AbortSignal.timeout(2_000) }).then(
      async (res) => {
        await res.arrayBuffer();
        return true;
      },
      () => false,
    );
    if (answered) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`next start did not answer at ${url} (${exited ? 'it exited' : 'timeout'}):\n${output}`);
}

beforeAll(async () => {
  const env = { ...process.env, NEXT_TELEMETRY_DISABLED: '1' };
  const started = Date.now();
  await promisify(execFile)(process.execPath, [NEXT, 'build'], {
    cwd: APP,
    env,
    maxBuffer: 16 << 20,
  }).catch((error: { stdout?: string; stderr?: string }) => {
    throw new Error(`next build failed:\n${error.stdout}\n${error.stderr}`);
  });
  if (process.env.PERIODKEY_HARNESS_TIMING) console.log(`next build took ${Date.now() - started} ms`);

  const { url, token } = servers().upstash;
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  // Its own process group, so that afterAll ends next start and the next-server it runs together.
  server = spawn(process.execPath, [NEXT, 'start', '-H', '127.0.0.1', '-p', String(port)], {
    cwd: APP,
    env: { ...env, UPSTASH_REDIS_REST_URL: url, UPSTASH_REDIS_REST_TOKEN: token, PERIODKEY_PREFIX: prefix },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const pid = server.pid as number;
  track(-pid);
  server.stdout?.on('data', (chunk) => {
    output += chunk;
  });
  server.stderr?.on('data', (chunk) => {
    output += chunk;
  });
  await ready(server, `${base}/ready`, 60_000);
}, BUILD_AND_START_MS);

afterAll(async () => {
  if (server?.pid === undefined) return;
  const pid = server.pid;
  if (server.exitCode === null && server.signalCode === null) {
    const exited = once(server, 'exit');
    process.kill(-pid, 'SIGTERM');
    await exited;
  }
  // Whatever next start left in its group (the next-server it forked) goes too.
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {}
  untrack(-pid);
}, 30_000);

// A failing test shows what the server said (a 500's stack trace is only there).
beforeEach(({ onTestFailed }) => {
  onTestFailed(() => console.error(`next start output:\n${output}`));
});

/** The first instant of the next UTC month, and that month's length in seconds, at `at` (epoch ms). */
function month(at: number): { reset: number; seconds: number } {
  const now = new Date(at);
  const start = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1);
  const reset = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1);
  return { reset, seconds: (reset - start) / 1000 };
}

/** `path` as `who`, with the instants just before and after the server answered. */
async function get(path: string, who: string) {
  const before = Date.now();
  const res = await fetch(`${base}${path}`, { headers: { 'x-user-id': who } });
  const body: unknown = await res.json();
  const after = Date.now();
  return { res, body, before, after };
}

/** Seconds left until `reset` as the server saw it between `before` and `after`. */
function secondsLeft(reset: number, before: number, after: number) {
  return { min: Math.ceil((reset - after) / 1000), max: Math.ceil((reset - before) / 1000) };
}

function expectWithin(value: string | null, range: { min: number; max: number }): void {
  expect(value).toMatch(/^\d+$/);
  expect(Number(value)).toBeGreaterThanOrEqual(range.min);
  expect(Number(value)).toBeLessThanOrEqual(range.max);
}

describe.each([
  {
    name: 'a Route Handler on the edge runtime, wrapped in withRateLimit',
    path: '/api/limited',
    scope: '/api/limited',
    hello: 'route handler',
  },
  {
    name: 'the proxy file limiting /limited/*',
    path: '/limited/hello',
    scope: '/limited',
    hello: 'behind the proxy',
  },
])('Next.js: $name', ({ path, scope, hello }) => {
  test(`${LIMIT} requests pass with the rate-limit headers, the next gets the seed 001 429`, async () => {
    for (let i = 1; i <= LIMIT; i++) {
      const { res, body, before, after } = await get(path, user);
      const { reset, seconds } = month(before);
      expect(month(after).reset).toBe(reset);
      expect(res.status).toBe(200);
      expect(body).toEqual({ hello });
      expect(res.headers.get('x-ratelimit-limit')).toBe(String(LIMIT));
      expect(res.headers.get('x-ratelimit-remaining')).toBe(String(LIMIT - i));
      expect(res.headers.get('x-ratelimit-reset')).toBe(new Date(reset).toISOString());
      expect(res.headers.get('ratelimit-policy')).toBe(`"monthly";q=${LIMIT};w=${seconds}`);
      const t = res.headers.get('ratelimit')?.match(/^"monthly";r=(\d+);t=(\d+)$/);
      expect(t?.[1]).toBe(String(LIMIT - i));
      expectWithin(t?.[2] ?? null, secondsLeft(reset, before, after));
      expect(res.headers.get('retry-after')).toBeNull();
    }

    const { res, body, before, after } = await get(path, user);
    const { reset } = month(before);
    expect(res.status).toBe(429);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(res.headers.get('x-ratelimit-limit')).toBe(String(LIMIT));
    expect(res.headers.get('x-ratelimit-remaining')).toBe('0');
    expect(res.headers.get('x-ratelimit-reset')).toBe(new Date(reset).toISOString());
    const retryAfter = res.headers.get('retry-after');
    expectWithin(retryAfter, secondsLeft(reset, before, after));
    expect(body).toEqual({
      error: {
        code: 'RATE_LIMIT_EXCEEDED',
        message: 'Too many requests. Please try again later.',
        retryAfter: Number(retryAfter),
      },
    });

    // Another user has a count of their own.
    const other = await get(path, `${user}-other`);
    expect(other.res.status).toBe(200);
    expect(other.res.headers.get('x-ratelimit-remaining')).toBe(String(LIMIT - 1));
  });

  test('the counts are in the Redis behind the Upstash REST server, under the run prefix', async () => {
    const backend = new IORedis(servers().upstash.redisUrl);
    try {
      const keys = await backend.keys(`${prefix}:*`);
      const mine = keys.filter((key) => key.includes(`{${user}}:${scope}:monthly:`));
      expect(mine).toHaveLength(1);
      // Counts are stored in millionths (six decimal places); the denied request was not counted.
      expect(await backend.get(mine[0] as string)).toBe(String(LIMIT * 1_000_000));
    } finally {
      backend.disconnect();
    }
  });
});
