import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { cpus, loadavg, totalmem } from 'node:os';
import { promisify } from 'node:util';
import { barChart } from './chart.js';
import type { Row } from './measure.js';
import {
  type BundleResult,
  type CallgrindResult,
  type Check,
  type ExactnessResult,
  type FlushResult,
  type MemoryResult,
  RESULTS_DIR,
  readResult,
  type StallResult,
} from './results.js';
import { exactnessChecks, limiterChecks, ROW, stallChecks } from './targets.js';

// Writes results/README.md and the chart from the JSON files of one run: every target of PRODUCT.md with
// the measured value, and for each one missed, what the same run measured about why.

type LimiterRow = Row & {
  ops_per_s_rounds: number[];
  client_cpu_us_per_op: number;
  redis_cpu_us_per_op: number | null;
};

const CHART = 'limiter-c64.svg';
const fmt = (x: number) => x.toLocaleString('en-US');

function table(head: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const line = (cells: readonly (string | number)[]) =>
    `| ${cells.map((c) => (typeof c === 'number' ? fmt(c) : c)).join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

async function host(): Promise<string> {
  const cpu = cpus();
  const redis = await promisify(execFile)('redis-server', ['--version']).then(
    (r) => /v=(\S+)/.exec(r.stdout)?.[1] ?? '?',
    () => '?',
  );
  const load = loadavg()
    .map((x) => x.toFixed(2))
    .join(', ');
  return `${cpu.length} × ${cpu[0]?.model ?? 'CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB; Node ${process.version}; Redis ${redis}; load average when the report was written ${load} (1, 5, 15 min)`;
}

/** Why a flush target was missed, from what the same run measured. */
function flushNote(
  check: Check,
  r: FlushResult,
  all: readonly FlushResult[],
  cg: CallgrindResult | undefined,
): string {
  const scan = r.commandstats.scan;
  const instructions = cg
    ? ` Redis's work per key is the same for both (callgrind, ${fmt(cg.flush.keys)} keys: ${fmt(cg.flush.cli.ir_per_key)} instructions per key for the CLI, ${fmt(cg.flush.reference.ir_per_key)} for the reference; SCAN ${fmt(cg.flush.cli.scan_ir_per_key)}, UNLINK ${fmt(cg.flush.cli.unlink_ir_per_key)}), so the CLI can only hide the client's time and the round trips.`
    : '';
  const contention = `redis-server used ${fmt(r.redis_cpu_ms)} ms of CPU and waited ${fmt(r.redis_wait_ms)} ms for a CPU while the CLI ran (${fmt(r.duration_ms)} ms); the CLI used ${fmt(r.cli_cpu_ms)} ms of CPU and waited ${fmt(r.cli_wait_ms)} ms.`;
  if (check.what.includes('SLOWLOG')) {
    const others = r.slowlog.filter((s) => !['SCAN', 'UNLINK', 'DEL', 'TYPE', 'DBSIZE'].includes(s.command));
    const live = others.map((s) => `${s.command} ×${s.count} up to ${s.max_ms} ms`).join(', ');
    return `SLOWLOG times a command by the wall clock, so time redis-server spends waiting for a CPU counts: ${contention}${live ? ` The same SLOWLOG lists commands that do microseconds of work: ${live}.` : ''} SCAN took ${fmt(scan?.usec_per_call ?? 0)} µs per call on average (${fmt(scan?.calls ?? 0)} calls), UNLINK ${fmt(r.commandstats.unlink?.usec_per_call ?? 0)} µs; the reference's SLOWLOG: ${r.reference_slowlog.map((s) => `${s.command} ×${s.count} up to ${s.max_ms} ms`).join(', ') || 'empty'}.`;
  }
  if (check.what.includes('p99')) {
    return `Every live call waits for the command Redis is running, and for Redis to get a CPU: ${contention} The live p99 during the reference loop was ${r.p99_during_reference_ms} ms.`;
  }
  if (r.id === 'rtt20-1m' && scan) {
    // Each SCAN waits for the one before it: a round trip plus its time in Redis.
    const perScan = r.rtt_ms + scan.usec_per_call / 1000;
    const rest = r.duration_ms - scan.calls * perScan;
    const allowed = Math.max(0, Math.floor((0.35 * r.reference_ms - rest) / perScan));
    return `The CLI sends one SCAN at a time, each after the last one's reply: ${fmt(scan.calls)} SCANs (${fmt(Math.round(r.keys / scan.calls))} keys each) × (${r.rtt_ms} ms round trip + ${fmt(Math.round(scan.usec_per_call))} µs in Redis) make ${fmt(Math.round(scan.calls * perScan))} ms of its ${fmt(r.duration_ms)} ms. Its SCAN COUNT stays near the batch size because it keeps each SCAN under 2 ms of estimated Redis time (round-trip time above the smallest one seen, so network jitter counts too), and SCAN took ${fmt(Math.round(scan.usec_per_call))} µs per call here. 0.35× the reference (${fmt(Math.round(0.35 * r.reference_ms))} ms) leaves room for about ${fmt(allowed)} SCANs, about ${allowed > 0 ? fmt(Math.ceil(r.keys / allowed)) : '–'} keys each.`;
  }
  const small = all.find((x) => x.id === 'loopback-1m');
  if (r.id === 'loopback-10m' && small) {
    const perKey = (cpuMs: number, keys: number) => ((cpuMs * 1000) / keys).toFixed(2);
    return `redis-server needed ${perKey(r.redis_cpu_ms, r.keys)} µs of CPU per key at 10M keys against ${perKey(small.redis_cpu_ms, small.keys)} µs at 1M for the same commands (likely because 10M keys fit the CPU caches far less well): Redis, not the tool, grows faster than linearly, and the reference loop took ${(r.reference_ms / small.reference_ms).toFixed(2)}× as long for 10M keys as for 1M. ${contention}`;
  }
  return `Redis is the limit: ${contention}${instructions} The reference's client used ${fmt(r.reference_client_cpu_ms)} ms of CPU and its Redis ${fmt(r.reference_redis_cpu_ms)} ms.`;
}

/** Why a limiter target was missed, from the CPU and instruction costs of the two rows compared. */
function limiterNote(check: Check, rows: readonly LimiterRow[], cg: CallgrindResult | undefined): string {
  const concurrency = check.what.includes('concurrency 1)') ? 1 : 64;
  const names = check.what.includes('memory store')
    ? [ROW.memory, ROW.flexibleMemory]
    : check.what.includes('two rules')
      ? [ROW.twoRules, ROW.flexibleTwo]
      : [
          ROW.fixed,
          check.what.includes('upstash')
            ? ROW.upstash
            : check.what.includes('floor')
              ? ROW.floor
              : ROW.flexible,
        ];
  const [ours, theirs] = names.map((name) =>
    rows.find((r) => r.name === name && r.concurrency === concurrency),
  );
  if (ours === undefined || theirs === undefined) return '';
  const client = `client CPU per call ${ours.client_cpu_us_per_op} µs vs ${theirs.client_cpu_us_per_op} µs`;
  if (ours.redis_cpu_us_per_op === null || theirs.redis_cpu_us_per_op === null) {
    return `The whole call runs in this process: ${client}.`;
  }
  const ir = (name: string) => cg?.limiter.find((l) => l.name === name)?.ir_per_call;
  const [a, b] = [ir(ours.name), ir(theirs.name)];
  const instructions =
    a !== undefined && b !== undefined
      ? `; Redis instructions per call (callgrind) ${fmt(a)} vs ${fmt(b)} (${(a / b).toFixed(2)}×)`
      : '';
  return `${client}; redis-server CPU per call ${ours.redis_cpu_us_per_op} µs vs ${theirs.redis_cpu_us_per_op} µs${instructions}. With the client, Redis and the host's other load on the same cores, throughput follows these costs. Rounds (ops/s): ${ours.ops_per_s_rounds.map(fmt).join(', ')} vs ${theirs.ops_per_s_rounds.map(fmt).join(', ')}.`;
}

/** Why a memory-store call was slow: its time on a CPU, waiting for one, and in GC, measured per call. */
function stallNote(check: Check, r: StallResult): string {
  if (check.what.includes('most work')) {
    return `The store's own work per call is bounded (8 keys swept, 8 sampled to evict, index shards of at most 8,192 keys); what remains is V8 on the main thread outside the GC pauses it reports (incremental marking steps, page faults). ${r.gc_pauses} GC pauses took ${fmt(r.gc_total_ms)} ms in ${fmt(r.wall_ms)} ms.`;
  }
  return `The longest call (${r.longest_ms} ms) was ${r.longest_on_cpu_ms} ms on a CPU, ${r.longest_waiting_ms} ms runnable but waiting for one (the host's other load), ${r.longest_in_gc_ms} ms in GC. Of ${fmt(r.calls_over_target)} calls over ${r.target_ms} ms, ${fmt(r.calls_over_target_mostly_waiting)} spent half their time or more waiting for a CPU and ${fmt(r.calls_over_target_during_gc)} overlapped a GC pause. GC: ${r.gc_pauses} pauses, ${fmt(r.gc_total_ms)} ms in all, the longest ${r.gc_longest_ms} ms (the longest mark-compact, full or finishing incremental marking, ${r.gc_longest_major_ms} ms), in ${fmt(r.wall_ms)} ms of calls.`;
}

async function main() {
  const flush = await readResult<FlushResult[]>('flush.json');
  const limiter = await readResult<LimiterRow[]>('limiter.json');
  const memory = await readResult<MemoryResult[]>('memory.json');
  const exactness = await readResult<ExactnessResult[]>('exactness.json');
  const bundles = await readResult<BundleResult[]>('bundle.json');
  const cg = existsSync(new URL('callgrind.json', RESULTS_DIR))
    ? await readResult<CallgrindResult>('callgrind.json')
    : undefined;

  const flushTargets = flush.flatMap((r) =>
    r.targets.map((check) => ({ check, note: flushNote(check, r, flush, cg) })),
  );
  const limiterTargets = limiterChecks(limiter).map((check) => ({
    check,
    note: limiterNote(check, limiter, cg),
  }));
  const exactTargets = exactnessChecks(exactness).map((check) => ({ check, note: '' }));
  const stalls = existsSync(new URL('memory-stalls.json', RESULTS_DIR))
    ? await readResult<StallResult[]>('memory-stalls.json')
    : [];
  const stallTargets = stalls.flatMap((r) =>
    stallChecks([r]).map((check) => ({ check, note: stallNote(check, r) })),
  );
  const all = [...flushTargets, ...limiterTargets, ...exactTargets, ...stallTargets];
  const missed = all.filter(({ check }) => !check.met);

  const redisRows = limiter.filter((r) => r.concurrency === 64 && r.redis_cpu_us_per_op !== null);
  await writeFile(
    new URL(CHART, RESULTS_DIR),
    barChart(
      'Limiters on one local Redis, concurrency 64',
      'calls/s, median of rounds',
      redisRows.map((r) => ({ label: r.name, value: r.ops_per_s, ours: r.name.startsWith('periodkey') })),
    ),
  );

  const lines = [
    '# Benchmark results',
    '',
    `Written by \`pnpm bench\` or \`pnpm bench:ci\` (benchmarks/src/report.ts) from the JSON files next to this one, all from one run. Host: ${await host()}. How the numbers are taken: [benchmarks/README.md](../README.md).`,
    '',
    '## Targets of PRODUCT.md',
    '',
    `${all.length - missed.length} of ${all.length} met.`,
    '',
    table(
      ['what', 'target', 'measured', ''],
      all.map(({ check }) => [check.what, check.target, check.measured, check.met ? 'met' : '**not met**']),
    ),
    '',
    ...(missed.length > 0
      ? [
          '### What limits the missed targets (measured in the same run)',
          '',
          ...missed
            .filter(({ note }) => note !== '')
            .map(({ check, note }) => `- **${check.what}**: ${note}`),
          '',
        ]
      : []),
    '## Flush',
    '',
    'The real CLI (`periodkey flush --match "ratelimit:*" --yes --json`, a child process) against seed 000\'s loop (SCAN MATCH COUNT 1000, then UNLINK, in sequence) on the same freshly seeded keys, while a service sends `limit()` calls at a steady rate to the same Redis. `duration_ms` is the CLI\'s own summary field.',
    '',
    table(
      [
        'scenario',
        'duration_ms',
        'keys/s',
        'rtt_ms',
        'reference_ms',
        'vs reference',
        'p99 during (ms)',
        'p99 baseline (ms)',
        'p99 during reference (ms)',
        'peak RSS (MB)',
        'SLOWLOG during the CLI',
      ],
      flush.map((r) => [
        r.name,
        r.duration_ms,
        r.keys_per_s,
        r.rtt_ms,
        r.reference_ms,
        `${r.vs_reference}×`,
        r.p99_during_ms,
        r.p99_baseline_ms,
        r.p99_during_reference_ms,
        r.peak_rss_mb,
        r.slowlog.map((s) => `${s.command} ×${s.count} (≤ ${s.max_ms} ms)`).join(', ') || 'empty',
      ]),
    ),
    '',
    'Where the time went (CPU and run-queue times from /proc/&lt;pid&gt;/schedstat; commandstats from Redis):',
    '',
    table(
      [
        'scenario',
        'CLI CPU / wait (ms)',
        'Redis CPU / wait during the CLI (ms)',
        'CLI SCAN calls, µs/call',
        'CLI UNLINK calls, µs/call',
        'reference client CPU (ms)',
        'reference Redis CPU / wait (ms)',
        'reference SCAN calls, µs/call',
        'load average',
      ],
      flush.map((r) => [
        r.name,
        `${fmt(r.cli_cpu_ms)} / ${fmt(r.cli_wait_ms)}`,
        `${fmt(r.redis_cpu_ms)} / ${fmt(r.redis_wait_ms)}`,
        `${fmt(r.commandstats.scan?.calls ?? 0)}, ${fmt(r.commandstats.scan?.usec_per_call ?? 0)}`,
        `${fmt(r.commandstats.unlink?.calls ?? 0)}, ${fmt(r.commandstats.unlink?.usec_per_call ?? 0)}`,
        r.reference_client_cpu_ms,
        `${fmt(r.reference_redis_cpu_ms)} / ${fmt(r.reference_redis_wait_ms)}`,
        `${fmt(r.reference_commandstats.scan?.calls ?? 0)}, ${fmt(r.reference_commandstats.scan?.usec_per_call ?? 0)}`,
        r.load_avg.join(', '),
      ]),
    ),
    '',
    '## Limiter',
    '',
    `![${redisRows.length} limiters on one local Redis at concurrency 64, calls per second](${CHART})`,
    '',
    '`@upstash/ratelimit` runs on the same Redis and ioredis client as the others, through a small adapter (benchmarks/src/peers.ts) that strips the first line of its Lua scripts, `#!lua flags=allow-key-locking`: an Upstash-only shebang flag that vanilla Redis 7.0 rejects ("Unexpected flag in script shebang"), so unmodified it fails on every call. The rest of each script is sent as it is, with EVALSHA after the first call.',
    '',
    table(
      [
        'contender',
        'concurrency',
        'ops/s (median)',
        'p50 (ms)',
        'p99 (ms)',
        'ops/s per round',
        'client CPU µs/call',
        'Redis CPU µs/call',
      ],
      limiter.map((r) => [
        r.name,
        r.concurrency,
        r.ops_per_s,
        r.p50_ms,
        r.p99_ms,
        r.ops_per_s_rounds.map(fmt).join(', '),
        r.client_cpu_us_per_op,
        r.redis_cpu_us_per_op ?? '–',
      ]),
    ),
    '',
    '## Memory per key',
    '',
    'Seed 001 estimates about 100 bytes per rate-limit key. MEMORY USAGE is the key and its value; used_memory growth also counts the keyspace and expiry tables.',
    '',
    table(
      [
        'algorithm',
        'calls per identity',
        'type',
        'example key',
        'MEMORY USAGE (bytes)',
        'used_memory per key (bytes)',
        'vs 100 bytes',
      ],
      memory.map((m) => [
        m.name,
        m.calls_per_identity,
        m.type,
        `\`${m.key_example}\``,
        m.memory_usage_bytes,
        m.used_memory_per_key_bytes,
        `${m.vs_estimate}×`,
      ]),
    ),
    '',
    '## Bundle size (edge path)',
    '',
    'Each entry bundled for a Web platform (benchmarks/src/bundle.ts: esbuild, no Node built-ins, minified and tree-shaken), then gzipped at level 9; the bytes each package adds are minified bytes in that bundle.',
    '',
    table(
      ['entry', 'minified (bytes)', 'gzipped (bytes)', 'by package (minified bytes)'],
      bundles.map((b) => [
        b.name,
        b.minified_bytes,
        b.gzipped_bytes,
        Object.entries(b.packages)
          .map(([pkg, bytes]) => `${pkg} ${fmt(bytes)}`)
          .join(', '),
      ]),
    ),
    '',
    '## Exactness under contention',
    '',
    table(
      ['rule', 'processes', 'calls', 'limit', 'admitted'],
      exactness.map((e) => [e.name, e.processes, e.attempts, e.limit, e.admitted]),
    ),
    '',
    ...(stalls.length > 0
      ? [
          '## Memory store stalls',
          '',
          'Single `limit()` calls on a `MemoryStore` holding 1M keys, one at a time on an injected clock (benchmarks/src/memory-stalls.ts): new identities while 1M expired keys are swept, and new identities replacing 1M keys at `maxKeys`. Per call, this thread\'s time on a CPU and waiting for one (/proc/thread-self/schedstat) and the GC pauses V8 reports within it; "own work" is the time on a CPU less GC. Target: no call over 5 ms.',
          '',
          table(
            [
              'scenario',
              'calls',
              'longest (ms)',
              'its CPU / wait / GC (ms)',
              'most own work (ms)',
              'p50 (ms)',
              'p99 (ms)',
              'p99.9 (ms)',
              'calls > 5 ms (mostly waiting / with GC)',
              'GC pauses, longest, total (ms)',
            ],
            stalls.map((r) => [
              r.name,
              r.calls,
              r.longest_ms,
              `${r.longest_on_cpu_ms} / ${r.longest_waiting_ms} / ${r.longest_in_gc_ms}`,
              r.longest_work_ms,
              r.p50_ms,
              r.p99_ms,
              r.p999_ms,
              `${fmt(r.calls_over_target)} (${fmt(r.calls_over_target_mostly_waiting)} / ${fmt(r.calls_over_target_during_gc)})`,
              `${r.gc_pauses}, ${r.gc_longest_ms}, ${fmt(r.gc_total_ms)}`,
            ]),
          ),
          '',
        ]
      : []),
    ...(cg
      ? [
          '## Redis instructions (callgrind)',
          '',
          `Counted by valgrind's callgrind in redis-server, which the host's load does not change (benchmarks/src/callgrind.ts, run by \`pnpm bench\`; these are from ${cg.written_at}). Flush of ${fmt(cg.flush.keys)} keys; limiter calls at concurrency ${cg.limiter_concurrency}.`,
          '',
          table(
            ['', 'instructions per key', 'in SCAN', 'in UNLINK', 'SCAN calls', 'UNLINK calls'],
            (['cli', 'reference'] as const).map((k) => {
              const f = cg.flush[k];
              return [
                k === 'cli' ? 'periodkey flush' : 'reference loop',
                f.ir_per_key,
                f.scan_ir_per_key,
                f.unlink_ir_per_key,
                f.scan_calls,
                f.unlink_calls,
              ];
            }),
          ),
          '',
          table(
            ['contender', 'Redis instructions per call'],
            cg.limiter.map((l) => [l.name, l.ir_per_call]),
          ),
          '',
        ]
      : []),
  ];
  await writeFile(new URL('README.md', RESULTS_DIR), `${lines.join('\n')}\n`);
  console.log(
    `report: ${all.length - missed.length} of ${all.length} targets met; results/README.md, results/${CHART}`,
  );
}

await main();
