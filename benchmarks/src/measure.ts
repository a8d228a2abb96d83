/** One row of `results/limiter.json`. */
export interface Row {
  name: string;
  ops_per_s: number;
  p50_ms: number;
  p99_ms: number;
  concurrency: number;
}

export interface MeasureOptions {
  concurrency: number;
  warmupMs: number;
  durationMs: number;
}

/** What one {@link measure} saw. */
export interface Measured {
  /** Latencies (ms) of the calls that started and ended in the measured part. */
  readonly latencies: number[];
  readonly opsPerS: number;
  /** Every call started, warm-up included. */
  readonly calls: number;
}

/** The `p` quantile (0..1) of ascending `sorted`, NaN if empty. */
export function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN;
}

export const round = (x: number, digits: number) => Number(x.toFixed(digits));

/**
 * Runs `call` from `concurrency` loops, each awaiting its call before the next, through a warm-up and then
 * `durationMs`; counts the calls started and finished in the measured part. Time is read on every call, not
 * from timers, so a store that answers in microtasks (the memory store) cannot starve the clock.
 */
export async function measure(call: (i: number) => Promise<unknown>, o: MeasureOptions): Promise<Measured> {
  const latencies: number[] = [];
  const from = performance.now() + o.warmupMs;
  const until = from + o.durationMs;
  let seq = 0;
  const loop = async () => {
    for (;;) {
      const started = performance.now();
      if (started >= until) return;
      await call(seq++);
      const ended = performance.now();
      if (started >= from && ended <= until) latencies.push(ended - started);
      // Let timers and I/O of other loops run even when `call` never leaves the microtask queue.
      if (seq % 256 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, loop));
  return { latencies, opsPerS: (latencies.length / o.durationMs) * 1000, calls: seq };
}
