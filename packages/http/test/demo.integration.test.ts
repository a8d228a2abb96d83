import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, test } from 'vitest';

// `pnpm demo` runs this script after building; `pnpm test` builds before the tests.
const DEMO = fileURLToPath(new URL('../demo/demo.mjs', import.meta.url));
const body = (retryAfter: number) =>
  `body: {"error":{"code":"RATE_LIMIT_EXCEEDED","message":"Too many requests. Please try again later.","retryAfter":${retryAfter}}}`;

test('the demo exits 0 by itself and its transcript shows 200s, the 429s with the body, and December’s keys', async () => {
  const { stdout, stderr } = await promisify(execFile)(process.execPath, [DEMO], { timeout: 15_000 });
  expect(stderr).toBe('');
  const blocks = stdout.split('\n\n');
  expect(blocks).toHaveLength(5);
  const [, burst, fill, lastSecond, december] = blocks as [string, string, string, string, string];

  expect(burst.match(/-> 200/g)).toHaveLength(5);
  expect(burst).toContain('-> 429');
  expect(burst).toContain('Retry-After: 60');
  expect(burst).toContain(body(60));
  expect(fill.match(/-> 200/g)).toHaveLength(5);
  expect(fill).toContain('RateLimit: "monthly";r=0;t=120');

  expect(lastSecond).toContain('-> 429');
  expect(lastSecond).toContain('X-RateLimit-Reset: 2026-12-01T00:00:00.000Z');
  expect(lastSecond).toContain(body(1));
  expect(lastSecond).toContain('ratelimit:{ip:127.0.0.1}:/api/chat:monthly:202611');

  expect(december).toContain('-> 200');
  expect(december).toContain('RateLimit: "monthly";r=9;');
  expect(december).toMatch(/keys: ratelimit:\{ip:127\.0\.0\.1\}:\/api\/chat:monthly:202612 /);
});

test('`pnpm demo` builds what the demo imports, then runs it', async () => {
  const root = JSON.parse(await readFile(new URL('../../../package.json', import.meta.url), 'utf8'));
  expect(root.scripts.demo).toMatch(
    /-F @periodkey\/ratelimit -F @periodkey\/http build .*&& node packages\/http\/demo\/demo\.mjs$/,
  );
});
