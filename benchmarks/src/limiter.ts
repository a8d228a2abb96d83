import { writeFile } from 'node:fs/promises';
import { IORedisStore } from '@periodkey/ioredis';
import { MemoryStore, Ratelimit, type RatelimitOptions } from '@periodkey/ratelimit';
import { ensureRedisServer, startRedis } from '@periodkey/test/servers';
import { Redis } from 'ioredis';
import { measure, type Row } from './measure.js';

// The limiter benchmark: every contender on one local redis-server and one ioredis client with default
// settings, in one run, so ratios compare like with like. Identities rotate over 10,000 so no call is
// denied and no key is hot.

const IDENTITIES = 10_000;
const durationMs = Number(process.env.BENCH_DURATION_MS ?? 5_000);
const warmupMs = Math.min(1_000, durationMs / 5);
const HUGE = 1_000_000_000;

const FLOOR = `local c = redis.call('INCR', KEYS[1])
if c == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return c`;

async function main() {
  await ensureRedisServer();
  const server = await startRedis();
  const redis = new Redis(server.url);
  const rows: Row[] = [];
  try {
    const store = new IORedisStore(redis);
    const limiter = (rules: RatelimitOptions['rules'], s = store as RatelimitOptions['store']) =>
      new Ratelimit({ store: s, rules, prefix: 'bench' });
    const floorSha = (await redis.script('LOAD', FLOOR)) as string;
    const contenders: [string, (i: number) => Promise<unknown>][] = [];
    const add = (name: string, rl: Ratelimit) =>
      contenders.push([name, (i) => rl.limit(`user:${i % IDENTITIES}`)]);
    contenders.push([
      'raw EVALSHA INCR+PEXPIRE (floor)',
      (i) => redis.evalsha(floorSha, 1, `floor:{user:${i % IDENTITIES}}`, '2678400000'),
    ]);
    add('periodkey fixed (1 calendar rule)', limiter({ monthly: `${HUGE}/month` }));
    add('periodkey fixed (minute + month)', limiter({ minute: `${HUGE}/minute`, monthly: `${HUGE}/month` }));
    add('periodkey sliding', limiter({ r: { limit: HUGE, per: '1 minute', algorithm: 'sliding' } }));
    add(
      'periodkey sliding-counter',
      limiter({ r: { limit: HUGE, per: '1 minute', algorithm: 'sliding-counter' } }),
    );
    add(
      'periodkey token-bucket',
      limiter({ r: { limit: HUGE, per: '1 minute', algorithm: 'token-bucket' } }),
    );
    add('periodkey gcra', limiter({ r: { limit: HUGE, per: '1 minute', algorithm: 'gcra' } }));
    add('periodkey memory store (1 calendar rule)', limiter({ monthly: `${HUGE}/month` }, new MemoryStore()));
    for (const concurrency of [1, 64]) {
      for (const [name, call] of contenders) {
        const row = await measure(name, call, { concurrency, warmupMs, durationMs });
        rows.push(row);
        console.log(JSON.stringify(row));
      }
    }
  } finally {
    redis.disconnect();
    await server.stop();
  }
  await writeFile(new URL('../results/limiter.json', import.meta.url), `${JSON.stringify(rows, null, 2)}\n`);
}

await main();
