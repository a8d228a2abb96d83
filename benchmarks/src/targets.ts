import type { Row } from './measure.js';
import type { Check, ExactnessResult, FlushResult, ScenarioId, StallResult } from './results.js';

// The targets of PRODUCT.md, checked against one run's results. Ratios are always between rows of the
// same run.

/** Seed 000's requirement for 1M keys, which CI enforces. */
export const CI_LIMIT_MS = 300_000;
const TOOL_COMMANDS = new Set(['SCAN', 'UNLINK', 'DEL', 'TYPE', 'DBSIZE']);
const MAX_RSS_MB = 150;

/** Names of the `limiter.json` rows that the targets compare. */
export const ROW = {
  floor: 'raw EVALSHA INCR+PEXPIRE (floor)',
  fixed: 'periodkey fixed (1 calendar rule)',
  twoRules: 'periodkey fixed (minute + month)',
  memory: 'periodkey memory store (1 calendar rule, day)',
  upstash: '@upstash/ratelimit fixedWindow (shebang stripped)',
  flexible: 'rate-limiter-flexible (1 limiter, 30 days)',
  flexibleTwo: 'rate-limiter-flexible (2 limiters: minute + 30 days)',
  flexibleMemory: 'rate-limiter-flexible RateLimiterMemory (day)',
} as const;

const ms = (x: number) => `${Math.round(x).toLocaleString('en-US')} ms`;
const opsPerS = (x: number) => `${Math.round(x).toLocaleString('en-US')} ops/s`;

/**
 * A bound on the ratio `ours / theirs`, as a check: the ratio with 3 decimals and both values, and the
 * bound also as a value of `ours`, so that a ratio that rounds to the bound still reads right.
 */
function ratio(
  what: string,
  ours: number,
  theirs: number,
  bound: number,
  atMost: boolean,
  show: (x: number) => string,
): Check {
  const value = ours / theirs;
  const sign = atMost ? '≤' : '≥';
  return {
    what,
    target: `${sign} ${bound}× (${sign} ${show(bound * theirs)})`,
    measured: `${value.toFixed(3)}× (${show(ours)} vs ${show(theirs)})`,
    met: atMost ? value <= bound : value >= bound,
  };
}

export function flushChecks(results: readonly Omit<FlushResult, 'targets'>[]): Check[] {
  const checks: Check[] = [];
  const add = (scenario: ScenarioId, check: Check) => checks.push({ ...check, scenario });
  const byId = new Map(results.map((r) => [r.id, r]));
  const loopback = byId.get('loopback-1m');
  if (loopback) {
    const { duration_ms: d, reference_ms: ref } = loopback;
    add('loopback-1m', ratio('1M keys, loopback: time vs the reference', d, ref, 0.75, true, ms));
    add('loopback-1m', {
      what: '1M keys, loopback: time',
      target: '≤ 5,000 ms',
      measured: ms(d),
      met: d <= 5_000,
    });
    add('loopback-1m', {
      what: '1M keys, loopback: time (seed 000, CI fails above it)',
      target: `≤ ${ms(CI_LIMIT_MS)}`,
      measured: ms(d),
      met: d <= CI_LIMIT_MS,
    });
  }
  const remote = byId.get('rtt20-1m');
  if (remote) {
    const { duration_ms: d, reference_ms: ref } = remote;
    add('rtt20-1m', ratio('1M keys, 20 ms round trip: time vs the reference', d, ref, 0.35, true, ms));
  }
  const large = byId.get('loopback-10m');
  if (large && loopback) {
    add(
      'loopback-10m',
      ratio('10M keys: time vs 1M keys', large.duration_ms, loopback.duration_ms, 11, true, ms),
    );
  }
  for (const r of results) {
    add(
      r.id,
      ratio(
        `${r.name}: live p99 during the flush vs without`,
        r.p99_during_ms,
        r.p99_baseline_ms,
        2,
        true,
        (x) => `${x.toFixed(1)} ms`,
      ),
    );
    const slow = r.slowlog.filter((s) => TOOL_COMMANDS.has(s.command));
    add(r.id, {
      what: `${r.name}: commands of the tool in SLOWLOG (5 ms)`,
      target: 'none',
      measured:
        slow.length === 0
          ? 'none'
          : slow.map((s) => `${s.command} ×${s.count} (up to ${s.max_ms} ms)`).join(', '),
      met: slow.length === 0,
    });
    add(r.id, {
      what: `${r.name}: CLI peak RSS`,
      target: `≤ ${MAX_RSS_MB} MB`,
      measured: `${r.peak_rss_mb} MB`,
      met: r.peak_rss_mb <= MAX_RSS_MB,
    });
  }
  return checks;
}

export function limiterChecks(rows: readonly Row[]): Check[] {
  const find = (name: string, concurrency: number) => {
    const row = rows.find((r) => r.name === name && r.concurrency === concurrency);
    if (row === undefined) throw new Error(`limiter.json has no row "${name}" at concurrency ${concurrency}`);
    return row.ops_per_s;
  };
  const versus = (what: string, ours: string, theirs: string, bound: number, concurrency: number) => {
    const [a, b] = [find(ours, concurrency), find(theirs, concurrency)];
    return ratio(`${what} (concurrency ${concurrency})`, a, b, bound, false, opsPerS);
  };
  return [
    versus('one calendar rule vs @upstash/ratelimit fixedWindow', ROW.fixed, ROW.upstash, 1.2, 64),
    versus('one calendar rule vs rate-limiter-flexible', ROW.fixed, ROW.flexible, 1.1, 64),
    versus('one calendar rule vs the EVALSHA floor', ROW.fixed, ROW.floor, 0.85, 64),
    versus(
      'two rules in one call vs rate-limiter-flexible with two limiters',
      ROW.twoRules,
      ROW.flexibleTwo,
      1.7,
      64,
    ),
    versus('memory store vs RateLimiterMemory', ROW.memory, ROW.flexibleMemory, 1, 1),
    versus('memory store vs RateLimiterMemory', ROW.memory, ROW.flexibleMemory, 1, 64),
  ];
}

export function exactnessChecks(results: readonly ExactnessResult[]): Check[] {
  return results.map((r) => ({
    what: `exactness, ${r.name}: ${r.processes} processes, ${r.attempts} calls for one identity`,
    target: `exactly ${r.limit} admitted`,
    measured: `${r.admitted} admitted`,
    met: r.admitted === r.limit,
  }));
}

/** The memory store's stalls (issue 11): the longest single call, and the most work one call did. */
export function stallChecks(results: readonly StallResult[]): Check[] {
  return results.flatMap((r) => [
    {
      what: `memory store, ${r.name}: longest single limit()`,
      target: `< ${r.target_ms} ms`,
      measured: `${r.longest_ms} ms (p99.9 ${r.p999_ms} ms)`,
      met: r.longest_ms < r.target_ms,
    },
    {
      what: `memory store, ${r.name}: most work in one limit() (time on a CPU, less GC)`,
      target: `< ${r.target_ms} ms`,
      measured: `${r.longest_work_ms} ms`,
      met: r.longest_work_ms < r.target_ms,
    },
  ]);
}
