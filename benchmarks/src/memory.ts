import { IORedisStore } from '@periodkey/ioredis';
import { type Algorithm, Ratelimit, type RuleObject } from '@periodkey/ratelimit';
import { ensureRedisServer, startRedis } from '@periodkey/test/servers';
import { Redis } from 'ioredis';
import { round } from './measure.js';
import { type MemoryResult, writeResult } from './results.js';

// Memory per key: 10,000 identities call limit() with each algorithm on an empty Redis, with the default
// prefix, then MEMORY USAGE of every key (exact: SAMPLES 0) and the growth of used_memory, which also counts
// the keyspace's hash table and expiry entries. Seed 001 estimates about 100 bytes per key.

const IDENTITIES = 10_000;
const ESTIMATE_BYTES = 100;
const PIPELINE = 1_000;

interface Case {
  readonly name: string;
  readonly algorithm: Algorithm;
  readonly rule: string | RuleObject;
  readonly callsPerIdentity: number;
}

const rolling = (algorithm: Algorithm): RuleObject => ({ limit: 1_000, per: '1 hour', algorithm });

const CASES: readonly Case[] = [
  { name: 'fixed, calendar month', algorithm: 'fixed', rule: '1000/month', callsPerIdentity: 1 },
  { name: 'sliding (log), 1 call', algorithm: 'sliding', rule: rolling('sliding'), callsPerIdentity: 1 },
  { name: 'sliding (log), 10 calls', algorithm: 'sliding', rule: rolling('sliding'), callsPerIdentity: 10 },
  {
    name: 'sliding-counter',
    algorithm: 'sliding-counter',
    rule: rolling('sliding-counter'),
    callsPerIdentity: 1,
  },
  { name: 'token-bucket', algorithm: 'token-bucket', rule: rolling('token-bucket'), callsPerIdentity: 1 },
  { name: 'gcra', algorithm: 'gcra', rule: rolling('gcra'), callsPerIdentity: 1 },
];

async function usedMemory(redis: Redis): Promise<number> {
  return Number(/^used_memory:(\d+)/m.exec(await redis.info('memory'))?.[1]);
}

async function measureCase(redis: Redis, c: Case): Promise<MemoryResult> {
  await redis.flushall('SYNC');
  const before = await usedMemory(redis);
  const limiter = new Ratelimit({
    store: new IORedisStore(redis),
    rules: { [c.algorithm === 'fixed' ? 'monthly' : 'hourly']: c.rule },
  });
  for (let call = 0; call < c.callsPerIdentity; call++) {
    for (let from = 0; from < IDENTITIES; from += PIPELINE) {
      await Promise.all(
        Array.from({ length: PIPELINE }, (_, i) => limiter.limit(`user:${100_000 + from + i}`)),
      );
    }
  }
  const after = await usedMemory(redis);
  const keys = await redis.keys('ratelimit:*');
  if (keys.length !== IDENTITIES) throw new Error(`${c.name}: ${keys.length} keys, expected ${IDENTITIES}`);
  const usage = await Promise.all(keys.map((key) => redis.memory('USAGE', key, 'SAMPLES', 0)));
  const memoryUsage = usage.reduce<number>((sum, bytes) => sum + (bytes ?? 0), 0) / keys.length;
  const example = keys[0] ?? '';
  return {
    name: c.name,
    algorithm: c.algorithm,
    calls_per_identity: c.callsPerIdentity,
    type: await redis.type(example),
    key_example: example,
    key_bytes: Buffer.byteLength(example),
    memory_usage_bytes: round(memoryUsage, 1),
    used_memory_per_key_bytes: round((after - before) / keys.length, 1),
    vs_estimate: round(memoryUsage / ESTIMATE_BYTES, 2),
  };
}

async function main() {
  await ensureRedisServer();
  const server = await startRedis();
  const redis = new Redis(server.url);
  const results: MemoryResult[] = [];
  try {
    // The script is loaded before `before` is read, so that it is not counted as keys' memory.
    await new Ratelimit({ store: new IORedisStore(redis), rules: { warm: '1/month' } }).limit('warm-up');
    for (const c of CASES) {
      const result = await measureCase(redis, c);
      results.push(result);
      console.log(JSON.stringify(result));
    }
  } finally {
    redis.disconnect();
    await server.stop();
  }
  await writeResult('memory.json', results);
}

await main();
