import type { Backend } from './backend.js';
import { connector } from './connect.js';
import { Explained, messageOf, type Timeouts } from './failure.js';
import { formatCount, formatDuration } from './format.js';
import type { Io } from './io.js';
import { writeMetrics } from './metrics.js';
import type { Json, Output } from './output.js';
import { checkWritable, type Probe, preflight } from './preflight.js';
import { type Counts, Progress } from './progress.js';
import type { Target } from './target.js';
import { UsageError } from './usage.js';

export type Status = 'success' | 'failure' | 'interrupted';

/** How a command ended: the numbers for the summary, and why it failed. */
export interface Outcome {
  readonly counts: Counts;
  readonly status: Status;
  readonly error?: string;
  /** What the command found, for people; by default the counts. */
  readonly summary?: string;
  /** More summary fields, after the contract's. */
  readonly fields?: Readonly<Record<string, Json>>;
  /** A usage error found on the way (a database the server lacks): exit 2. */
  readonly usage?: boolean;
}

/** What a session needs besides the command's own work. */
export interface SessionPlan {
  readonly match: string;
  /** The commands the run sends on matching keys, checked before anything else happens. */
  readonly probes: readonly Probe[];
}

export const EXIT = { success: 0, failure: 1, usage: 2, interrupted: 130 } as const;

export const NONE: Counts = { keysScanned: 0, keysDeleted: 0, keysKept: 0 };

/** What every command shares once its flags are valid: where to connect, where to write, when to stop. */
export class Context {
  /** The counts of the sweep in progress, so that a failure still reports what was done. */
  private current: Counts = NONE;
  private command = '';

  constructor(
    readonly io: Io,
    readonly output: Output,
    private readonly target: Target,
    private readonly metricsFile: string | undefined,
    private readonly timeouts: Timeouts,
    /** Aborted by the first SIGINT or SIGTERM: stop scanning, finish the batches in flight. */
    readonly signal: AbortSignal,
    /** Aborted by a second one: stop at once (with the summary). */
    private readonly halt: AbortSignal,
  ) {}

  /**
   * Checks the metrics file, connects, runs the pre-flight, runs `body`, and always disconnects, writes the
   * metrics file and the summary (the last line). Returns the exit code.
   */
  async session(
    command: string,
    plan: SessionPlan,
    body: (backend: Backend) => Promise<Outcome>,
  ): Promise<number> {
    const startedAt = performance.now();
    this.command = command;
    let outcome: Outcome;
    let backend: Backend | undefined;
    // Before the work starts there is nothing in flight to finish: the first signal stops at once.
    const [stopped, halted] = [aborted(this.signal), aborted(this.halt)];
    try {
      if (this.metricsFile !== undefined) await checkWritable(this.metricsFile);
      const connect = await connector(this.target, this.timeouts, plan.match);
      const connecting = connect();
      connecting
        .then(async (late) => {
          if (this.signal.aborted) await late.close();
        })
        .catch(() => undefined);
      backend = await Promise.race([connecting, stopped]);
      const connected = backend;
      await Promise.race([preflight(connected, plan.match, plan.probes), stopped]);
      outcome = await Promise.race([body(connected), halted]);
    } catch (error) {
      outcome =
        error instanceof Halt
          ? { counts: this.current, status: 'interrupted', error: 'stopped by a signal' }
          : {
              counts: this.current,
              status: 'failure',
              error:
                error instanceof UsageError || error instanceof Explained || !backend
                  ? messageOf(error)
                  : backend.explain(error),
              usage: error instanceof UsageError,
            };
    } finally {
      if (this.halt.aborted) void backend?.close();
      else await backend?.close();
    }
    const durationMs = Math.round(performance.now() - startedAt);
    const { counts } = outcome;
    if (this.metricsFile !== undefined && !outcome.usage) {
      try {
        await writeMetrics(this.metricsFile, {
          command,
          status: outcome.status,
          keysScanned: counts.keysScanned,
          keysDeleted: counts.keysDeleted,
          durationMs,
        });
      } catch (error) {
        outcome = {
          ...outcome,
          status: 'failure',
          error: `could not write --metrics-file: ${messageOf(error)}`,
        };
      }
    }
    return summarize(this.output, command, outcome, durationMs);
  }

  /** Runs `work` with a progress display over `counts`; `total` is the estimate of matching keys. */
  async track<T>(counts: Counts, total: number | undefined, work: () => Promise<T>): Promise<T> {
    this.current = counts;
    const progress = new Progress(this.io, this.output, `${this.command}.progress`, () => counts);
    let done = false;
    try {
      await progress.start(total);
      const result = await work();
      done = !this.signal.aborted;
      return result;
    } finally {
      progress.stop(done);
    }
  }
}

/** Writes the summary line of `outcome` and returns the exit code. */
export function summarize(output: Output, command: string, outcome: Outcome, durationMs: number): number {
  const { status, error, counts } = outcome;
  const numbers = `${outcome.summary ?? `deleted ${formatCount(counts.keysDeleted)}, kept ${formatCount(counts.keysKept)}, scanned ${formatCount(counts.keysScanned)}`} in ${formatDuration(durationMs)}`;
  const message =
    status === 'success'
      ? `${command}: ${numbers}`
      : status === 'interrupted'
        ? `${command} interrupted: ${numbers}; run it again to finish`
        : `${command} failed: ${error ?? 'unknown error'} (${numbers})`;
  output.event(
    `${command}.${status === 'success' ? 'completed' : 'failed'}`,
    message,
    {
      keys_scanned: counts.keysScanned,
      keys_deleted: counts.keysDeleted,
      keys_kept: counts.keysKept,
      duration_ms: durationMs,
      status,
      ...(counts.keysUnconfirmed ? { keys_unconfirmed: counts.keysUnconfirmed } : {}),
      ...(error === undefined ? {} : { error }),
      ...outcome.fields,
    },
    status === 'success' ? 'INFO' : 'ERROR',
    status === 'success',
  );
  return outcome.usage ? EXIT.usage : EXIT[status];
}

/** A signal that ends the run at once. */
class Halt extends Error {
  override readonly name = 'Halt';
}

/** Rejects with {@link Halt} once `signal` aborts (handled, so never unhandled). */
function aborted(signal: AbortSignal): Promise<never> {
  const promise = new Promise<never>((_, reject) => {
    const stop = () => reject(new Halt());
    if (signal.aborted) stop();
    else signal.addEventListener('abort', stop, { once: true });
  });
  promise.catch(() => undefined);
  return promise;
}
