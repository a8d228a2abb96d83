import { readFile, writeFile } from 'node:fs/promises';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { IORedisStore } from '@periodkey/ioredis';
import { MemoryStore, Ratelimit, type RatelimitEvent } from '@periodkey/ratelimit';
import type { Store } from '@periodkey/ratelimit/store';
import {
  ensureRedisServer,
  type RedisCluster,
  type RedisServer,
  startCluster,
  startRedis,
  startUpstashServer,
  type UpstashServer,
} from '@periodkey/test/servers';
import { UpstashStore } from '@periodkey/upstash';
import { Redis as UpstashRedis } from '@upstash/redis';
import { Cluster, Redis, type RedisOptions } from 'ioredis';

// The fault table of packages/ratelimit/README.md: real servers, real faults, live traffic from three
// limiters at once (fail-open, fail-closed, and fail-open with a MemoryStore fallback), default limiter
// options (timeout 1000 ms). Per fault it reports the slowest limit() call and what the calls answered.
//
//   pnpm build && pnpm -F @periodkey/benchmarks exec tsx src/faults.ts [--readme] [--only <substring>]
//
// Writes results/faults.json and results/faults.md; --readme also replaces the table in the README;
// --only runs the faults whose name contains the substring and writes nothing; --from-json rebuilds the
// tables from results/faults.json without running anything.

const CONCURRENCY = 8; // loops per limiter
const IDENTITIES = 500;
const HEALTHY_MS = 500;
const RECOVERY_CAP_MS = 20_000;
const AFTER_MS = 500;
const TIMEOUT_MS = 1000;

/** ioredis options that the ioredis README recommends for a limiter (and `IORedisStore.fromUrl` uses). */
const RECOMMENDED_IOREDIS: RedisOptions = { maxRetriesPerRequest: 1, autoResendUnfulfilledCommands: false };

type Policy = 'open' | 'closed' | 'fallback';
const POLICIES: readonly Policy[] = ['open', 'closed', 'fallback'];

interface Call {
  readonly policy: Policy;
  readonly phase: 'before' | 'fault' | 'recovery' | 'after';
  readonly ms: number;
  readonly success: boolean;
  readonly reason: string;
}

interface Backend {
  store(): Store;
  close(): Promise<void>;
}

interface Scenario {
  readonly fault: string;
  readonly client: string;
  readonly open: () => Promise<Backend>;
  /** Starts the fault; resolves when it is in place. */
  readonly inject: () => Promise<void>;
  /** How long the fault lasts before `heal`. */
  readonly faultMs: number;
  readonly heal: () => Promise<void>;
}

export interface Row {
  fault: string;
  client: string;
  policy: Policy;
  calls: number;
  worst_ms: number;
  p99_ms: number;
  /** Answers during the fault and until the hand-back, by `success reason`. */
  answers: Record<string, number>;
  /** From the fault to the limiter's bypass of the primary (to the fallback store or the policy). */
  bypass_after_ms: number | null;
  /** From the end of the fault to the return to the primary. */
  back_after_ms: number | null;
  /** After the return, every answer came from the primary store again. */
  store_after: boolean;
  /** How often the limiter switched to bypassing its primary. */
  bypasses: number;
  /** The longest the event loop of the process (limiters, traffic, REST server) was blocked, from the fault on. */
  loop_lag_max_ms: number;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] ?? Number.NaN;
}

async function run(scenario: Scenario): Promise<Row[]> {
  const backend = await scenario.open();
  const calls: Call[] = [];
  let phase: Call['phase'] = 'before';
  let faultAt = 0;
  let healAt = 0;
  const bypassAt: Partial<Record<Policy, number>> = {};
  const backAt: Partial<Record<Policy, number>> = {};
  const active = new Set<Policy>();
  const bypasses: Record<Policy, number> = { open: 0, closed: 0, fallback: 0 };
  const onEvent = (policy: Policy) => (event: RatelimitEvent) => {
    if (event.type !== 'fallback') return;
    if (event.active) bypasses[policy]++;
    if (event.active) active.add(policy);
    else active.delete(policy);
    if (event.active && bypassAt[policy] === undefined && phase !== 'before')
      bypassAt[policy] = performance.now();
    if (!event.active && phase === 'recovery') backAt[policy] = performance.now();
  };
  const prefix = `faults-${Date.now().toString(36)}`;
  const limiters = POLICIES.map(
    (policy) =>
      new Ratelimit({
        store: backend.store(),
        rules: { minute: '1000000000/minute' },
        prefix: `${prefix}-${policy}`,
        timeout: TIMEOUT_MS,
        failure: policy === 'closed' ? 'closed' : 'open',
        onEvent: onEvent(policy),
        ...(policy === 'fallback' ? { fallback: new MemoryStore() } : {}),
      }),
  );
  let stop = false;
  const loop = async (policy: Policy, limiter: Ratelimit, offset: number) => {
    for (let i = offset; !stop; i += CONCURRENCY) {
      const started = performance.now();
      const result = await limiter.limit(`user:${i % IDENTITIES}`);
      calls.push({
        policy,
        phase,
        ms: performance.now() - started,
        success: result.success,
        reason: result.reason,
      });
      // Requests arrive through I/O: yield, so that an answer from memory cannot starve timers.
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
  const loops = limiters.flatMap((limiter, p) =>
    Array.from({ length: CONCURRENCY }, (_, c) => loop(POLICIES[p] as Policy, limiter, c)),
  );
  const lag = monitorEventLoopDelay({ resolution: 5 });
  try {
    await sleep(HEALTHY_MS);
    lag.enable();
    faultAt = performance.now();
    phase = 'fault';
    await scenario.inject();
    await sleep(scenario.faultMs);
    phase = 'recovery';
    await scenario.heal();
    healAt = performance.now();
    // Until every limiter that bypassed its primary is back on it (or the cap).
    const deadline = healAt + RECOVERY_CAP_MS;
    while (performance.now() < deadline && active.size > 0) await sleep(20);
    phase = 'after';
    await sleep(AFTER_MS);
  } finally {
    lag.disable();
    stop = true;
    await Promise.all(loops);
    for (const limiter of limiters) limiter.close();
    await backend.close();
  }
  return POLICIES.map((policy): Row => {
    const mine = calls.filter((c) => c.policy === policy);
    const during = mine.filter((c) => c.phase === 'fault' || c.phase === 'recovery');
    // Latency from the fault on (the healthy warm-up before it is not the fault's).
    const sorted = mine
      .filter((c) => c.phase !== 'before')
      .map((c) => c.ms)
      .sort((a, b) => a - b);
    const answers: Record<string, number> = {};
    for (const c of during) {
      const key = `${c.success ? 'admitted' : 'denied'} (${c.reason})`;
      answers[key] = (answers[key] ?? 0) + 1;
    }
    const after = mine.filter((c) => c.phase === 'after');
    const bypass = bypassAt[policy];
    const back = backAt[policy];
    return {
      fault: scenario.fault,
      client: scenario.client,
      policy,
      calls: mine.length,
      worst_ms: Math.round(sorted.at(-1) ?? 0),
      p99_ms: Math.round(percentile(sorted, 0.99)),
      answers,
      bypass_after_ms: bypass === undefined ? null : Math.round(bypass - faultAt),
      back_after_ms: back === undefined ? null : Math.round(back - healAt),
      store_after: after.length > 0 && after.every((c) => c.reason === 'store' && c.success),
      bypasses: bypasses[policy],
      loop_lag_max_ms: Math.round(lag.max / 1e6),
    };
  });
}

function ioredis(server: () => RedisServer, options: RedisOptions = {}) {
  return async (): Promise<Backend> => {
    const redis = new Redis(server().url, options);
    redis.on('error', () => {}); // connection errors reach the calls; ioredis would log each one
    await redis.ping();
    return { store: () => new IORedisStore(redis), close: async () => redis.disconnect() };
  };
}

/** @upstash/redis options that the upstash README recommends for a limiter. */
const RECOMMENDED_UPSTASH = {
  retry: { retries: 1, backoff: () => 50 },
  signal: () => AbortSignal.timeout(TIMEOUT_MS),
};

function upstash(server: () => UpstashServer, options: Partial<typeof RECOMMENDED_UPSTASH> = {}) {
  return async (): Promise<Backend> => {
    const { url, token } = server();
    const client = new UpstashRedis({ url, token, ...options });
    return { store: () => new UpstashStore(client), close: async () => {} };
  };
}

function clusterBackend(cluster: () => RedisCluster) {
  return async (): Promise<Backend> => {
    const client = new Cluster([...cluster().startupNodes]);
    client.on('error', () => {});
    await client.ping();
    return { store: () => new IORedisStore(client), close: async () => client.disconnect() };
  };
}

/** A Markdown table, padded the way Biome formats Markdown (so the README stays formatted). */
function markdown(header: readonly string[], right: readonly boolean[], body: readonly string[][]): string {
  const widths = header.map((h, i) => Math.max(3, h.length, ...body.map((row) => (row[i] as string).length)));
  const cell = (text: string, i: number) =>
    right[i] ? text.padStart(widths[i] as number) : text.padEnd(widths[i] as number);
  const rule = widths.map((w, i) => (right[i] ? `${'-'.repeat(w - 1)}:` : '-'.repeat(w)));
  return [header.map(cell), rule, ...body.map((row) => row.map(cell))]
    .map((r) => `| ${r.join(' | ')} |`)
    .join('\n');
}

function table(rows: readonly Row[]): string {
  const header = [
    'fault',
    'client',
    '`failure`',
    'worst `limit()`',
    'answers from the fault until the primary is back',
    'bypassed after',
    'back after heal',
    'event-loop stall',
  ];
  const ms = (v: number | null) => (v === null ? '–' : `${v} ms`);
  const body = rows.map((r) => [
    r.fault,
    r.client,
    r.policy === 'fallback' ? 'open + fallback' : r.policy,
    `${r.worst_ms} ms`,
    Object.entries(r.answers)
      .sort((a, b) => b[1] - a[1])
      .map(([k, n]) => `${n} ${k}`)
      .join(', ') || '–',
    ms(r.bypass_after_ms),
    `${ms(r.back_after_ms)}${r.store_after ? '' : ' (not back)'}`,
    `${r.loop_lag_max_ms} ms`,
  ]);
  return markdown(header, [false, false, false, true, false, true, true, true], body);
}

async function main() {
  const args = process.argv.slice(2);
  const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;
  const results = new URL('../results/', import.meta.url);
  if (args.includes('--from-json')) {
    // Rebuild the tables from the last run's results, without running anything.
    const rows = JSON.parse(await readFile(new URL('faults.json', results), 'utf8')) as Row[];
    return publish(rows, args.includes('--readme'), results);
  }
  await ensureRedisServer();
  let redis!: RedisServer;
  let upstashBackend!: RedisServer;
  let rest!: UpstashServer;
  let cluster!: RedisCluster;
  [redis, upstashBackend] = await Promise.all([startRedis(), startRedis()]);
  rest = await startUpstashServer({ redisUrl: upstashBackend.url });

  const kill = (server: () => RedisServer) => async () => server().signal('SIGKILL');
  const restart = (server: () => RedisServer) => () => server().restart();
  const fault = (f: Parameters<UpstashServer['faults']['set']>[0]) => async () => rest.faults.set(f);
  const clear = async () => rest.faults.clear();

  const scenarios: Scenario[] = [
    {
      fault: 'redis-server SIGKILL, restarted after 2 s',
      client: 'ioredis defaults',
      open: ioredis(() => redis),
      inject: kill(() => redis),
      faultMs: 2000,
      heal: restart(() => redis),
    },
    {
      fault: 'redis-server SIGKILL, restarted after 2 s',
      client: 'ioredis recommended',
      open: ioredis(() => redis, RECOMMENDED_IOREDIS),
      inject: kill(() => redis),
      faultMs: 2000,
      heal: restart(() => redis),
    },
    {
      fault: 'redis-server SIGSTOP for 2.5 s, then SIGCONT',
      client: 'ioredis defaults',
      open: ioredis(() => redis),
      inject: async () => redis.signal('SIGSTOP'),
      faultMs: 2500,
      heal: async () => redis.signal('SIGCONT'),
    },
    {
      fault: 'redis-server SIGSTOP for 2.5 s, then SIGCONT',
      client: 'ioredis recommended',
      open: ioredis(() => redis, RECOMMENDED_IOREDIS),
      inject: async () => redis.signal('SIGSTOP'),
      faultMs: 2500,
      heal: async () => redis.signal('SIGCONT'),
    },
    ...([500, 503, 429] as const).map(
      (status): Scenario => ({
        fault: `Upstash REST answers ${status} for 2 s`,
        client: '@upstash/redis defaults',
        open: upstash(() => rest),
        inject: fault({ status }),
        faultMs: 2000,
        heal: clear,
      }),
    ),
    {
      fault: 'Upstash REST answers after 3 s, for 2 s',
      client: '@upstash/redis defaults',
      open: upstash(() => rest),
      inject: fault({ delayMs: 3000 }),
      faultMs: 2000,
      heal: clear,
    },
    {
      fault: 'Upstash REST drops connections for 2 s',
      client: '@upstash/redis defaults',
      open: upstash(() => rest),
      inject: fault({ drop: true }),
      faultMs: 2000,
      heal: clear,
    },
    {
      fault: 'Upstash REST drops connections for 2 s',
      client: '@upstash/redis recommended',
      open: upstash(() => rest, RECOMMENDED_UPSTASH),
      inject: fault({ drop: true }),
      faultMs: 2000,
      heal: clear,
    },
    {
      fault: 'Cluster: a master (no replica) SIGKILL, restarted after 5 s',
      client: 'ioredis Cluster defaults',
      open: clusterBackend(() => cluster),
      inject: kill(() => cluster.nodes[0] as RedisServer),
      faultMs: 5000,
      heal: restart(() => cluster.nodes[0] as RedisServer),
    },
  ];

  const selected = scenarios.filter((s) => only === undefined || `${s.fault} / ${s.client}`.includes(only));
  const needsCluster = selected.some((s) => s.fault.startsWith('Cluster'));
  if (needsCluster) cluster = await startCluster(3);
  const rows: Row[] = [];
  try {
    for (const scenario of selected) {
      const result = await run(scenario);
      for (const row of result) console.log(JSON.stringify(row));
      rows.push(...result);
    }
  } finally {
    await rest.close();
    await Promise.all([redis.stop(), upstashBackend.stop(), needsCluster ? cluster.stop() : undefined]);
  }
  if (only !== undefined) {
    console.log(`\n${table(rows)}\n`);
    return;
  }
  await writeFile(new URL('faults.json', results), `${JSON.stringify(rows, null, 2)}\n`);
  await publish(rows, args.includes('--readme'), results);
}

async function publish(rows: readonly Row[], readme: boolean, results: URL): Promise<void> {
  const markdown = table(rows);
  console.log(`\n${markdown}\n`);
  await writeFile(new URL('faults.md', results), `${markdown}\n`);
  if (readme) {
    const file = new URL('../../packages/ratelimit/README.md', import.meta.url);
    const text = await readFile(file, 'utf8');
    const [start, end] = ['<!-- faults:start -->', '<!-- faults:end -->'];
    const from = text.indexOf(start);
    const to = text.indexOf(end);
    if (from < 0 || to < from) throw new Error(`README.md has no ${start} ... ${end} markers`);
    await writeFile(file, `${text.slice(0, from + start.length)}\n${markdown}\n${text.slice(to)}`);
  }
}

await main();
