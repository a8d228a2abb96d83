import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { MICRO } from '@periodkey/ratelimit/storage';
import { servers } from '@periodkey/test';
import { Redis } from '@periodkey/test/ioredis';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { quickstartSource, runScript } from './quickstart.js';

// The README's quickstart in each server runtime, from the runtimes' npm packages: it limits on the memory
// store, on Redis (REDIS_URL, through @periodkey/ioredis) and on Upstash (through @periodkey/upstash), the
// store packages that the core loads by a dynamic import, and the process exits by itself after close().
const bin = (name: string) => fileURLToPath(new URL(`node_modules/.bin/${name}`, import.meta.url));
const RUNTIMES = [
  { name: 'Node', command: [process.execPath], env: {} },
  { name: 'Bun', command: [bin('bun'), 'run'], env: {} },
  {
    name: 'Deno',
    // The environment for the store's variables, the network for Redis, and reads for the store package
    // that a dynamic import loads.
    command: [bin('deno'), 'run', '--allow-env', '--allow-net', '--allow-read', '--no-prompt'],
    env: { DENO_NO_UPDATE_CHECK: '1' },
  },
];

// The five calls after the README's first, of a `burst: '5/minute'` rule: the sixth call is denied.
const AFTER_FIRST = [
  { success: true, remaining: 3, reason: 'store' },
  { success: true, remaining: 2, reason: 'store' },
  { success: true, remaining: 1, reason: 'store' },
  { success: true, remaining: 0, reason: 'store' },
  { success: false, remaining: 0, reason: 'store' },
];
const MEMORY_WARNING = 'periodkey: using the in-memory store';

let redis: Redis;
/** The Redis behind the Upstash-compatible REST server. */
let upstashRedis: Redis;
beforeAll(() => {
  redis = new Redis(servers().redis.url);
  upstashRedis = new Redis(servers().upstash.redisUrl);
});
afterAll(async () => {
  await Promise.all([redis.quit(), upstashRedis.quit()]);
});

describe.each(RUNTIMES)('the quickstart on $name', ({ name, command, env }) => {
  const identity = () => `quickstart-${name.toLowerCase()}-${randomBytes(4).toString('hex')}`;

  test('limits on the memory store, and warns that counts are not shared', async () => {
    const { lines, stderr } = await runScript(command, await quickstartSource(identity()), env);
    expect(lines[0]).toBe('4 left');
    expect(lines.slice(1).map((line) => JSON.parse(line))).toEqual(AFTER_FIRST);
    expect(stderr).toContain(MEMORY_WARNING);
  });

  test.each([
    { store: 'Redis from REDIS_URL', env: () => ({ REDIS_URL: servers().redis.url }), redis: () => redis },
    {
      store: 'Upstash from UPSTASH_REDIS_REST_URL and _TOKEN',
      env: () => ({
        UPSTASH_REDIS_REST_URL: servers().upstash.url,
        UPSTASH_REDIS_REST_TOKEN: servers().upstash.token,
      }),
      redis: () => upstashRedis,
    },
  ])('limits on $store, and writes the calendar keys', async ({ env: storeEnv, redis: backend }) => {
    const id = identity();
    const { lines, stderr } = await runScript(command, await quickstartSource(id), { ...env, ...storeEnv() });
    const client = backend();
    expect(lines[0]).toBe('4 left');
    expect(lines.slice(1).map((line) => JSON.parse(line))).toEqual(AFTER_FIRST);
    expect(stderr).not.toContain(MEMORY_WARNING);
    const keys = (await client.keys(`ratelimit:{${id}}:*`)).sort();
    try {
      expect(keys).toEqual([
        expect.stringMatching(new RegExp(`^ratelimit:\\{${id}\\}:/api/chat:burst:\\d{12}$`)),
        expect.stringMatching(new RegExp(`^ratelimit:\\{${id}\\}:/api/chat:monthly:\\d{6}$`)),
      ]);
      // Five admitted of six (the denied call consumed nothing), in millionths.
      const counts = await Promise.all(keys.map((key) => client.get(key)));
      expect(counts.map(Number)).toEqual([5 * MICRO, 5 * MICRO]);
    } finally {
      if (keys.length > 0) await client.del(...keys);
    }
  });
});

describe('Deno without --allow-net', () => {
  // A permission the process lacks never comes back by itself: a refusal that names the flag, not an
  // outage that the failure policy ('open' by default) admits every call through.
  const source = `
    import { Ratelimit } from '@periodkey/ratelimit';
    const limiter = new Ratelimit({ rules: { burst: '2/minute' }, timeout: 2000 });
    for (let i = 0; i < 2; i++) {
      const outcome = await limiter.limit('user:1').then(({ reason }) => reason, (error) => error.name + ': ' + error.message);
      console.log(JSON.stringify(outcome));
    }
    await limiter.close();
  `;
  const deno = RUNTIMES.find(({ name }) => name === 'Deno');
  const command = [bin('deno'), 'run', '--allow-env', '--allow-read', '--no-prompt'];

  test.each([
    {
      store: 'Redis (REDIS_URL)',
      env: () => ({ REDIS_URL: servers().redis.url }),
      host: () => servers().redis.port,
    },
    {
      store: 'Upstash (UPSTASH_REDIS_REST_URL)',
      env: () => ({
        UPSTASH_REDIS_REST_URL: servers().upstash.url,
        UPSTASH_REDIS_REST_TOKEN: servers().upstash.token,
      }),
      host: () => new URL(servers().upstash.url).port,
    },
  ])('every call on $store is a StoreRefusedError naming the flag', async ({ env, host }) => {
    const { lines } = await runScript(command, source, { ...deno?.env, ...env() });
    const refused = expect.stringMatching(
      new RegExp(`^StoreRefusedError: Requires net access to "127\\.0\\.0\\.1:${host()}".*--allow-net`),
    );
    expect(lines.map((line) => JSON.parse(line))).toEqual([refused, refused]);
  });
});
