import { readFile, writeFile } from 'node:fs/promises';
import type { CommandStat, SlowCommand } from './redis-stats.js';

// benchmarks/results: what every script writes and the report reads.

export const RESULTS_DIR = new URL('../results/', import.meta.url);

export type ScenarioId = 'loopback-1m' | 'rtt20-1m' | 'among-9m' | 'loopback-10m';

/** A target of PRODUCT.md, and how this run did against it. */
export interface Check {
  readonly what: string;
  readonly target: string;
  readonly measured: string;
  readonly met: boolean;
  /** The flush scenario it is about, if one. */
  readonly scenario?: ScenarioId;
}

/** One scenario of `flush.json`: PRODUCT.md's fields first, then what explains them. */
export interface FlushResult {
  readonly id: ScenarioId;
  readonly name: string;
  readonly keys: number;
  readonly other_keys: number;
  /** The CLI's own `duration_ms` (its summary): connecting, scanning and deleting. */
  readonly duration_ms: number;
  readonly keys_per_s: number;
  /** Median PING round trip on the tool's path. */
  readonly rtt_ms: number;
  readonly reference_ms: number;
  readonly reference_keys_per_s: number;
  /** duration_ms / reference_ms. */
  readonly vs_reference: number;
  readonly p99_during_ms: number;
  readonly p99_baseline_ms: number;
  /** The same live calls' p99 while the reference loop ran. */
  readonly p99_during_reference_ms: number;
  readonly live_calls_during: number;
  readonly live_calls_baseline: number;
  readonly live_rate_per_s: number;
  readonly peak_rss_mb: number;
  /** From spawning the CLI to its exit, with Node's start-up. */
  readonly cli_wall_ms: number;
  readonly cli_cpu_ms: number;
  /** Time the CLI was runnable but waited for a CPU: what the host's load cost it. */
  readonly cli_wait_ms: number;
  /** CPU time redis-server used while the CLI ran (also serving the live calls). */
  readonly redis_cpu_ms: number;
  /** Time redis-server was runnable but waited for a CPU while the CLI ran. */
  readonly redis_wait_ms: number;
  /** SLOWLOG (slower than 5 ms) while the CLI ran, by command. */
  readonly slowlog: readonly SlowCommand[];
  /** INFO commandstats of the tool's commands while the CLI ran. */
  readonly commandstats: Readonly<Record<string, CommandStat>>;
  /** CPU time of this process (the reference loop's client) while the reference ran. */
  readonly reference_client_cpu_ms: number;
  readonly reference_redis_cpu_ms: number;
  readonly reference_redis_wait_ms: number;
  readonly reference_slowlog: readonly SlowCommand[];
  readonly reference_commandstats: Readonly<Record<string, CommandStat>>;
  /** The host's 1, 5 and 15 minute load averages when the scenario started. */
  readonly load_avg: readonly number[];
  readonly targets: readonly Check[];
}

export async function writeResult(file: string, data: unknown): Promise<void> {
  await writeFile(new URL(file, RESULTS_DIR), `${JSON.stringify(data, null, 2)}\n`);
}

export async function readResult<T>(file: string): Promise<T> {
  return JSON.parse(await readFile(new URL(file, RESULTS_DIR), 'utf8')) as T;
}

/** One row of `memory.json`: what one identity's key of one algorithm costs Redis. */
export interface MemoryResult {
  readonly name: string;
  readonly algorithm: string;
  readonly calls_per_identity: number;
  /** The Redis type of the key. */
  readonly type: string;
  readonly key_example: string;
  readonly key_bytes: number;
  /** Mean MEMORY USAGE (SAMPLES 0) of the keys. */
  readonly memory_usage_bytes: number;
  /** Growth of used_memory per key: also the keyspace's and the expiry table's entries. */
  readonly used_memory_per_key_bytes: number;
  /** memory_usage_bytes against seed 001's estimate of 100 bytes. */
  readonly vs_estimate: number;
}

/** One row of `exactness.json`: processes racing for one identity's limit. */
export interface ExactnessResult {
  readonly name: string;
  readonly processes: number;
  readonly attempts: number;
  readonly limit: number;
  readonly admitted: number;
}

/** Redis instructions per key of one way to flush, from `callgrind.ts`. */
export interface FlushInstructions {
  readonly ir_per_key: number;
  /** Inclusive in SCAN (scanGenericCommand) and UNLINK (delGenericCommand). */
  readonly scan_ir_per_key: number;
  readonly unlink_ir_per_key: number;
  readonly scan_calls: number;
  readonly unlink_calls: number;
}

/** `callgrind.json`: Redis's instructions, which the host's load does not change. */
export interface CallgrindResult {
  /** ISO time: `pnpm bench` writes it, `pnpm bench:ci` keeps the last one. */
  readonly written_at: string;
  readonly flush: {
    readonly keys: number;
    readonly cli: FlushInstructions;
    readonly reference: FlushInstructions;
  };
  readonly limiter_concurrency: number;
  readonly limiter: readonly { readonly name: string; readonly ir_per_call: number }[];
}

/** One row of `memory-stalls.json`: single `limit()` calls on a memory store with 1M keys. */
export interface StallResult {
  readonly name: string;
  readonly keys: number;
  readonly calls: number;
  readonly size_before: number;
  readonly size_after: number;
  /** The longest single call: its wall time, this thread's time on a CPU and waiting for one, GC in it. */
  readonly longest_ms: number;
  readonly longest_on_cpu_ms: number;
  readonly longest_waiting_ms: number;
  readonly longest_in_gc_ms: number;
  /** The most work any one call did: its time on a CPU less the GC pauses within it. */
  readonly longest_work_ms: number;
  readonly p50_ms: number;
  readonly p99_ms: number;
  readonly p999_ms: number;
  readonly calls_over_target: number;
  readonly calls_over_target_during_gc: number;
  /** Calls over the target that spent at least half their time waiting for a CPU. */
  readonly calls_over_target_mostly_waiting: number;
  readonly gc_pauses: number;
  readonly gc_longest_ms: number;
  readonly gc_longest_major_ms: number;
  readonly gc_total_ms: number;
  readonly wall_ms: number;
  readonly target_ms: number;
}

/** One row of `bundle.json`: an entry bundled for a Web platform, minified and gzipped. */
export interface BundleResult {
  readonly name: string;
  readonly minified_bytes: number;
  readonly gzipped_bytes: number;
  /** Minified bytes in the bundle by package, largest first. */
  readonly packages: Readonly<Record<string, number>>;
}
