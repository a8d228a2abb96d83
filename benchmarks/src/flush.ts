import { loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { ensureRedisServer, type RedisServer, startRedis } from '@periodkey/test/servers';
import { Redis } from 'ioredis';
import { runCli } from './cli.js';
import { clock, type Sample, startLiveTraffic } from './live.js';
import { percentile, round } from './measure.js';
import { type SchedTimes, schedTimes } from './proc.js';
import { startDelayProxy } from './proxy.js';
import { type CommandStat, commandStats, type SlowCommand, slowCommands } from './redis-stats.js';
import { referenceFlush } from './reference.js';
import { type Check, type FlushResult, type ScenarioId, writeResult } from './results.js';
import { LEGACY_MATCH, seedLegacyKeys } from './seed.js';
import { CI_LIMIT_MS, flushChecks } from './targets.js';

// The flush benchmark: N legacy keys, deleted once by the real `periodkey flush` (a child process, the
// built CLI) while a service keeps calling limit() at a steady rate, and once, re-seeded, by seed 000's
// reference loop in this process. `--ci` leaves out the 10M-key scenario and shortens the baseline.

interface Scenario {
  readonly id: ScenarioId;
  readonly name: string;
  /** Legacy keys, all matching `ratelimit:*`. */
  readonly keys: number;
  /** Keys that do not match and stay. */
  readonly others: number;
  /** Added to each direction by a proxy between the tool and Redis (0: loopback). */
  readonly delayMs: number;
  readonly fullOnly: boolean;
}

const SCENARIOS: readonly Scenario[] = [
  { id: 'loopback-1m', name: '1M keys, loopback', keys: 1e6, others: 0, delayMs: 0, fullOnly: false },
  { id: 'rtt20-1m', name: '1M keys, 20 ms round trip', keys: 1e6, others: 0, delayMs: 10, fullOnly: false },
  {
    id: 'among-9m',
    name: '1M keys among 9M others',
    keys: 1e6,
    others: 9e6,
    delayMs: 0,
    fullOnly: false,
  },
  { id: 'loopback-10m', name: '10M keys, loopback', keys: 1e7, others: 0, delayMs: 0, fullOnly: true },
];

const ci = process.argv.includes('--ci');
/** Live limit() calls per second, during the baseline and during the flush. */
const LIVE_RATE = 500;
const BASELINE_MS = ci ? 5_000 : 10_000;
/** The commands `periodkey flush` sends; the live limiter sends EVALSHA. */
const TOOL_COMMANDS = ['scan', 'unlink', 'del', 'type', 'dbsize'];

/** The median latency of PING over `url`, in ms. */
async function roundTrip(url: string): Promise<number> {
  const client = new Redis(url);
  try {
    await client.ping();
    const times = new Float64Array(21);
    for (let i = 0; i < times.length; i++) {
      const sentAt = performance.now();
      await client.ping();
      times[i] = performance.now() - sentAt;
    }
    return round(percentile(times.sort(), 0.5), 2);
  } finally {
    client.disconnect();
  }
}

/** The p99 latency of the calls sent between `from` and `to` (epoch ms), and how many there were. */
function p99(samples: readonly Sample[], from: number, to: number): [number, number] {
  const during = Float64Array.from(
    samples.filter((s) => s.at >= from && s.at < to),
    (s) => s.ms,
  ).sort();
  return [round(percentile(during, 0.99), 3), during.length];
}

interface Observed<T> {
  readonly value: T;
  /** When the work started and ended, epoch ms. */
  readonly from: number;
  readonly to: number;
  readonly samples: Sample[];
  /** redis-server's CPU and run-queue time during the work. */
  readonly redis: SchedTimes;
  readonly slowlog: SlowCommand[];
  readonly commandstats: Record<string, CommandStat>;
}

/**
 * Runs `work` while the service's live traffic runs, with SLOWLOG and commandstats reset before, and reads
 * them, the live calls and Redis's CPU time after it.
 */
async function observe<T>(admin: Redis, server: RedisServer, work: () => Promise<T>): Promise<Observed<T>> {
  await admin.slowlog('RESET');
  await admin.config('RESETSTAT');
  const live = await startLiveTraffic(server.url, LIVE_RATE);
  const before = await schedTimes(server.pid);
  const from = clock();
  let value: T;
  try {
    value = await work();
  } catch (error) {
    await live.stop().catch(() => []);
    throw error;
  }
  const to = clock();
  const samples = await live.stop();
  const after = await schedTimes(server.pid);
  const redis = { cpuMs: after.cpuMs - before.cpuMs, waitMs: after.waitMs - before.waitMs };
  return {
    value,
    from,
    to,
    samples,
    redis,
    slowlog: await slowCommands(admin),
    commandstats: await commandStats(admin, TOOL_COMMANDS),
  };
}

async function runScenario(
  s: Scenario,
  server: RedisServer,
  admin: Redis,
): Promise<Omit<FlushResult, 'targets'>> {
  const loadAvg = loadavg().map((x) => round(x, 2));
  console.log(`flush: ${s.name}: seeding`);
  await admin.flushall('SYNC');
  // DEBUG POPULATE writes `other:<n>` strings far faster than a script can.
  if (s.others > 0) await admin.call('DEBUG', 'POPULATE', s.others, 'other');
  await seedLegacyKeys(admin, s.keys);
  const proxy = s.delayMs > 0 ? await startDelayProxy(server.port, s.delayMs) : undefined;
  // The tool (and the reference) reach Redis through the proxy; the service's live calls never do.
  const url = proxy ? `redis://127.0.0.1:${proxy.port}` : server.url;
  try {
    const rttMs = await roundTrip(url);
    console.log(`flush: ${s.name}: live traffic without a flush, ${BASELINE_MS / 1000} s`);
    const baseline = await startLiveTraffic(server.url, LIVE_RATE);
    await sleep(BASELINE_MS);
    const [p99Baseline, baselineCalls] = p99(await baseline.stop(), 0, Number.POSITIVE_INFINITY);

    console.log(`flush: ${s.name}: periodkey flush`);
    const tool = await observe(admin, server, () =>
      runCli(['flush', '--match', LEGACY_MATCH, '--yes', '--url', url]),
    );
    const cli = tool.value;
    // KEYS holds Redis for a while, but only here, outside what is measured.
    const left = (await admin.keys(LEGACY_MATCH)).length;
    if (cli.summary.keys_deleted !== s.keys || left !== 0) {
      throw new Error(`periodkey flush deleted ${cli.summary.keys_deleted} of ${s.keys} keys; ${left} left`);
    }

    console.log(`flush: ${s.name}: re-seeding, then the reference loop`);
    await seedLegacyKeys(admin, s.keys);
    const client = new Redis(url);
    await client.ping();
    const reference = await observe(admin, server, async () => {
      const cpu = process.cpuUsage();
      const deleted = await referenceFlush(client, LEGACY_MATCH);
      const { user, system } = process.cpuUsage(cpu);
      return { deleted, cpuMs: (user + system) / 1000 };
    });
    client.disconnect();
    if (reference.value.deleted !== s.keys) {
      throw new Error(`the reference loop deleted ${reference.value.deleted} of ${s.keys} keys`);
    }
    const referenceMs = reference.to - reference.from;

    const [p99During, duringCalls] = p99(tool.samples, cli.startedAt, cli.endedAt);
    const [p99Reference] = p99(reference.samples, reference.from, reference.to);
    const result = {
      id: s.id,
      name: s.name,
      keys: s.keys,
      other_keys: s.others,
      duration_ms: cli.summary.duration_ms,
      keys_per_s: Math.round((s.keys / cli.summary.duration_ms) * 1000),
      rtt_ms: rttMs,
      reference_ms: Math.round(referenceMs),
      reference_keys_per_s: Math.round((s.keys / referenceMs) * 1000),
      vs_reference: round(cli.summary.duration_ms / referenceMs, 3),
      p99_during_ms: p99During,
      p99_baseline_ms: p99Baseline,
      p99_during_reference_ms: p99Reference,
      live_calls_during: duringCalls,
      live_calls_baseline: baselineCalls,
      live_rate_per_s: LIVE_RATE,
      peak_rss_mb: round(cli.peakRssMb, 1),
      cli_wall_ms: Math.round(cli.wallMs),
      cli_cpu_ms: Math.round(cli.sched.cpuMs),
      cli_wait_ms: Math.round(cli.sched.waitMs),
      redis_cpu_ms: Math.round(tool.redis.cpuMs),
      redis_wait_ms: Math.round(tool.redis.waitMs),
      slowlog: tool.slowlog,
      commandstats: tool.commandstats,
      reference_client_cpu_ms: Math.round(reference.value.cpuMs),
      reference_redis_cpu_ms: Math.round(reference.redis.cpuMs),
      reference_redis_wait_ms: Math.round(reference.redis.waitMs),
      reference_slowlog: reference.slowlog,
      reference_commandstats: reference.commandstats,
      load_avg: loadAvg,
    };
    console.log(JSON.stringify(result));
    return result;
  } finally {
    await proxy?.stop();
  }
}

async function main(): Promise<boolean> {
  await ensureRedisServer();
  const server = await startRedis({
    args: [
      '--enable-debug-command',
      'local',
      '--slowlog-log-slower-than',
      '5000',
      '--slowlog-max-len',
      '10000',
    ],
  });
  const admin = new Redis(server.url);
  const results: Omit<FlushResult, 'targets'>[] = [];
  try {
    for (const scenario of SCENARIOS) {
      if (!(ci && scenario.fullOnly)) results.push(await runScenario(scenario, server, admin));
    }
  } finally {
    admin.disconnect();
    await server.stop();
  }
  const checks = flushChecks(results);
  const withTargets: FlushResult[] = results.map((r) => ({
    ...r,
    targets: checks.filter((c: Check) => c.scenario === r.id),
  }));
  await writeResult('flush.json', withTargets);
  for (const c of checks)
    console.log(`${c.met ? 'met    ' : 'NOT MET'}  ${c.what}: ${c.measured} (${c.target})`);
  const loopback = results.find((r) => r.id === 'loopback-1m');
  if (loopback === undefined || loopback.duration_ms > CI_LIMIT_MS) {
    console.error(`flush: the 1M-key loopback flush took longer than ${CI_LIMIT_MS / 1000} s`);
    return false;
  }
  return true;
}

if (!(await main())) process.exitCode = 1;
