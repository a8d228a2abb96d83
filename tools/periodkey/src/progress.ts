import type { SingleBar } from 'cli-progress';
import type { Backend } from './backend.js';
import { formatCount } from './format.js';
import type { Io } from './io.js';
import type { Output } from './output.js';
import { globMatch } from './pattern.js';

export interface Counts {
  readonly keysScanned: number;
  readonly keysDeleted: number;
  readonly keysKept: number;
  /**
   * Keys in delete batches sent and not yet answered. Zero once a sweep ends by itself; after a second
   * signal, those keys may or may not be gone (Redis runs what it received), and the rerun counts the rest.
   */
  readonly keysUnconfirmed?: number;
}

/** JSON (and non-TTY) progress lines come this often. */
const INTERVAL_MS = 1000;
/** RANDOMKEY replies per shard for the estimate: about ±7% of the keyspace at worst. */
const SAMPLES = 200;

/**
 * How many keys match `pattern`, estimated: each shard's DBSIZE times the share of a random sample
 * (RANDOMKEY) that matches. `undefined` if the user may not run DBSIZE or RANDOMKEY.
 */
export async function estimateMatching(backend: Backend, pattern: string): Promise<number | undefined> {
  try {
    const samples = await Promise.all(backend.shards.map((shard) => shard.sample(SAMPLES)));
    let total = 0;
    for (const { size, keys } of samples) {
      if (keys.length > 0)
        total += (size * keys.filter((key) => globMatch(pattern, key)).length) / keys.length;
    }
    return Math.round(total);
  } catch {
    return undefined;
  }
}

/**
 * Shows how a sweep is going: a bar on a terminal (scanned of DBSIZE, deleted, rate, ETA), otherwise a
 * `<command>.progress` event every second. The ETA assumes most keys match, as in a migration.
 */
export class Progress {
  private bar: SingleBar | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly startedAt = performance.now();

  constructor(
    private readonly io: Io,
    private readonly output: Output,
    private readonly event: string,
    private readonly counts: () => Counts,
  ) {}

  private total: number | undefined;

  async start(total: number | undefined): Promise<void> {
    this.total = total;
    if (this.output.format === 'pretty' && this.io.stderr.isTTY) {
      const { Presets, SingleBar } = await import('cli-progress');
      const known = total !== undefined && total > 0;
      this.bar = new SingleBar(
        {
          stream: this.io.stderr,
          format: known
            ? '{bar} {percentage}% | scanned {value}/~{total} | deleted {deleted} | {rate} keys/s | ETA {eta_formatted}'
            : 'scanned {value} | deleted {deleted} | {rate} keys/s',
          hideCursor: true,
          etaBuffer: 50,
          fps: 5,
        },
        Presets.shades_classic,
      );
      this.bar.start(known ? total : 0, 0, { deleted: 0, rate: 0 });
    }
    this.timer = setInterval(() => this.tick(), this.bar ? 200 : INTERVAL_MS);
  }

  private tick(): void {
    const { keysScanned, keysDeleted, keysKept } = this.counts();
    const elapsedMs = Math.round(performance.now() - this.startedAt);
    const rate = Math.round((keysScanned * 1000) / Math.max(1, elapsedMs));
    if (this.bar) {
      if (keysScanned > this.bar.getTotal() && this.bar.getTotal() > 0) this.bar.setTotal(keysScanned);
      this.bar.update(keysScanned, { deleted: formatCount(keysDeleted), rate: formatCount(rate) });
      return;
    }
    this.output.event(
      this.event,
      `scanned ${formatCount(keysScanned)}, deleted ${formatCount(keysDeleted)}, kept ${formatCount(keysKept)} (${formatCount(rate)} keys/s)`,
      {
        keys_scanned: keysScanned,
        keys_deleted: keysDeleted,
        keys_kept: keysKept,
        elapsed_ms: elapsedMs,
        keys_per_s: rate,
        keys_estimated: this.total ?? null,
      },
    );
  }

  /** Ends the display; `done`: the scan finished, so what was scanned is the total (the bar ends at 100%). */
  stop(done: boolean): void {
    clearInterval(this.timer);
    if (this.bar) {
      if (done && this.bar.getTotal() > 0 && this.counts().keysScanned > 0)
        this.bar.setTotal(this.counts().keysScanned);
      this.tick();
      this.bar.stop();
    }
  }
}
