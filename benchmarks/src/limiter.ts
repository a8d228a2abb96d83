import { ensureRedisServer, startRedis } from '@periodkey/test/servers';
import { Redis } from 'ioredis';
import { contenders } from './contenders.js';
import { measure, percentile, type Row, round } from './measure.js';
import { schedTimes } from './proc.js';
import { writeResult } from './results.js';

// The limiter benchmark: every contender on one local redis-server and one ioredis client with default
// settings, in one run, so ratios compare like with like. Each contender is measured in several rounds,
// taking turns with the others, so that a burst of load on the host falls on one round of one contender
// and not on all of its measurement: ops/s is the median round, latencies are pooled over the rounds.
// `--ci` measures 3 rounds of 1 s per row instead of 5 rounds of 2 s.

const ci = process.argv.includes('--ci');
const ROUNDS = ci ? 3 : 5;
const durationMs = ci ? 1_000 : 2_000;
const warmupMs = durationMs / 5;

/** A row of `limiter.json`: PRODUCT.md's fields, then the spread and where the time goes. */
interface LimiterRow extends Row {
  readonly ops_per_s_rounds: number[];
  /** CPU time of this process (the client library and ioredis) per call, warm-up included. */
  readonly client_cpu_us_per_op: number;
  /** CPU time of redis-server per call; null for the in-memory contenders. */
  readonly redis_cpu_us_per_op: number | null;
}

interface Tally {
  readonly latencies: number[];
  readonly rounds: number[];
  calls: number;
  clientUs: number;
  redisMs: number;
}

async function main() {
  await ensureRedisServer();
  const server = await startRedis();
  const redis = new Redis(server.url);
  const rows: LimiterRow[] = [];
  try {
    const list = await contenders(redis);
    for (const concurrency of [1, 64]) {
      const tallies = list.map(
        (): Tally => ({ latencies: [], rounds: [], calls: 0, clientUs: 0, redisMs: 0 }),
      );
      for (let r = 0; r < ROUNDS; r++) {
        for (const [i, { call }] of list.entries()) {
          const tally = tallies[i] as Tally;
          const client = process.cpuUsage();
          const before = await schedTimes(server.pid);
          const m = await measure(call, { concurrency, warmupMs, durationMs });
          const after = await schedTimes(server.pid);
          const { user, system } = process.cpuUsage(client);
          for (const latency of m.latencies) tally.latencies.push(latency);
          tally.rounds.push(Math.round(m.opsPerS));
          tally.calls += m.calls;
          tally.clientUs += user + system;
          tally.redisMs += after.cpuMs - before.cpuMs;
        }
      }
      for (const [i, { name, redis: onRedis }] of list.entries()) {
        const { latencies, rounds, calls, clientUs, redisMs } = tallies[i] as Tally;
        const sorted = Float64Array.from(latencies).sort();
        const row: LimiterRow = {
          name,
          ops_per_s: percentile(Float64Array.from(rounds).sort(), 0.5),
          p50_ms: round(percentile(sorted, 0.5), 3),
          p99_ms: round(percentile(sorted, 0.99), 3),
          concurrency,
          ops_per_s_rounds: rounds,
          client_cpu_us_per_op: round(clientUs / calls, 2),
          redis_cpu_us_per_op: onRedis ? round((redisMs * 1000) / calls, 2) : null,
        };
        rows.push(row);
        console.log(JSON.stringify(row));
      }
    }
  } finally {
    redis.disconnect();
    await server.stop();
  }
  await writeResult('limiter.json', rows);
}

await main();
