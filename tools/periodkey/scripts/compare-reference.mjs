// Times `periodkey flush` against seed 000's reference loop (sequential SCAN COUNT 1000, then UNLINK of
// what it returned) on the same data: N fresh legacy keys before each run, on the Redis at URL, alternating,
// and prints each run and the medians, with the commands Redis logged as slower than 5 ms during each run.
// A measurement for the note; the benchmarks package does this properly.
//
//   pnpm --filter @periodkey/ratelimit build && pnpm --filter @periodkey/cli build
//   node tools/periodkey/scripts/compare-reference.mjs redis://127.0.0.1:6379 1000000 5
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';

const [url = 'redis://127.0.0.1:6379', n = '1000000', rounds = '5'] = process.argv.slice(2);
const keys = Number(n);
const prefix = `compare${process.pid}`;
const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
const redis = new Redis(url);

async function seed() {
  try {
    // Instant where the server allows DEBUG (redis-server --enable-debug-command yes).
    await redis.call('DEBUG', 'POPULATE', String(keys), `${prefix}:legacy`);
  } catch {
    for (let start = 0; start < keys; start += 10_000) {
      const pipeline = redis.pipeline();
      for (let i = start; i < Math.min(keys, start + 10_000); i++) pipeline.set(`${prefix}:legacy:${i}`, '1');
      await pipeline.exec();
    }
  }
  await redis.slowlog('RESET');
}

async function reference() {
  const started = performance.now();
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    if (found.length > 0) deleted += await redis.unlink(...found);
    cursor = next;
  } while (cursor !== '0');
  return { ms: Math.round(performance.now() - started), deleted };
}

function cli() {
  const started = performance.now();
  const args = [bin, 'flush', '--url', url, '--match', `${prefix}:*`, '--yes', '--json'];
  const summary = JSON.parse(
    execFileSync(process.execPath, args, { encoding: 'utf8' }).trim().split('\n').at(-1),
  );
  return {
    ms: summary.duration_ms,
    wall_ms: Math.round(performance.now() - started),
    deleted: summary.keys_deleted,
  };
}

const slow = async () => (await redis.slowlog('GET', 1000)).length;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

await redis.config('SET', 'slowlog-log-slower-than', '5000');
const runs = { reference: [], cli: [] };
for (let round = 0; round < Number(rounds); round++) {
  await seed();
  const ref = { ...(await reference()), slowlog: await slow() };
  await seed();
  const tool = { ...cli(), slowlog: await slow() };
  runs.reference.push(ref);
  runs.cli.push(tool);
  console.log(JSON.stringify({ keys, reference: ref, cli: tool }));
}
const [referenceMs, cliMs] = [median(runs.reference.map((r) => r.ms)), median(runs.cli.map((r) => r.ms))];
console.log(
  JSON.stringify({
    keys,
    reference_ms: referenceMs,
    cli_duration_ms: cliMs,
    ratio: +(cliMs / referenceMs).toFixed(2),
  }),
);
redis.disconnect();
