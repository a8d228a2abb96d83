import type { Backend } from './backend.js';
import { connector } from './connect.js';
import { formatCount, formatDuration } from './format.js';
import type { Io } from './io.js';
import { writeMetrics } from './metrics.js';
import type { Json, Output } from './output.js';
import { type Counts, Progress } from './progress.js';
import type { Target } from './target.js';

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
}

export const EXIT = { success: 0, failure: 1, usage: 2, interrupted: 130 } as const;

const NONE: Counts = { keysScanned: 0, keysDeleted: 0, keysKept: 0 };

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

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
    readonly signal: AbortSignal,
  ) {}

  /**
   * Connects, runs `body`, and always disconnects, writes the metrics file and the summary (the last line).
   * Returns the exit code.
   */
  async session(command: string, body: (backend: Backend) => Promise<Outcome>): Promise<number> {
    const connect = await connector(this.target);
    const startedAt = performance.now();
    this.command = command;
    let outcome: Outcome;
    let backend: Backend | undefined;
    try {
      backend = await connect();
      outcome = await body(backend);
    } catch (error) {
      outcome = { counts: this.current, status: 'failure', error: describe(error) };
    } finally {
      await backend?.close();
    }
    const durationMs = Math.round(performance.now() - startedAt);
    const { counts } = outcome;
    if (this.metricsFile !== undefined) {
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
          error: `could not write --metrics-file: ${describe(error)}`,
        };
      }
    }
    const { status, error } = outcome;
    const numbers = `${outcome.summary ?? `deleted ${formatCount(counts.keysDeleted)}, kept ${formatCount(counts.keysKept)}, scanned ${formatCount(counts.keysScanned)}`} in ${formatDuration(durationMs)}`;
    const message =
      status === 'success'
        ? `${command}: ${numbers}`
        : status === 'interrupted'
          ? `${command} interrupted: ${numbers}; run it again to finish`
          : `${command} failed: ${error ?? 'unknown error'} (${numbers})`;
    this.output.event(
      `${command}.${status === 'success' ? 'completed' : 'failed'}`,
      message,
      {
        keys_scanned: counts.keysScanned,
        keys_deleted: counts.keysDeleted,
        keys_kept: counts.keysKept,
        duration_ms: durationMs,
        status,
        ...(error === undefined ? {} : { error }),
        ...outcome.fields,
      },
      status === 'success' ? 'INFO' : 'ERROR',
      status === 'success',
    );
    return EXIT[status];
  }

  /** Runs `work` with a progress display over `counts`. */
  async track<T>(counts: Counts, total: number | undefined, work: () => Promise<T>): Promise<T> {
    this.current = counts;
    const progress = new Progress(this.io, this.output, `${this.command}.progress`, () => counts);
    try {
      await progress.start(total);
      return await work();
    } finally {
      progress.stop();
    }
  }
}
