import type { CounterAdd } from '@periodkey/ratelimit/storage';
import { AdaptiveSize, Latency } from './adaptive.js';
import type { Backend, Key, ScanPage, Shard } from './backend.js';
import { type Carry, type CarryTarget, unitsOf } from './carry.js';
import type { RateCap } from './rate.js';

/** Delete batches (or TYPE batches in a dry run) in flight per shard, besides the next SCAN. */
const IN_FLIGHT = 4;
/** How far SCAN COUNT may grow past `batchSize`, over a network slower than {@link SLOW_ROUND_TRIP_MS}. */
const SCAN_GROWTH = 4;
const SLOW_ROUND_TRIP_MS = 5;
/** How far over the batch size the rest of a page may be and still go out as one batch. */
const SLACK = 1.25;
/** Keys a dry run shows. */
const SAMPLE = 10;

export interface SweepOptions {
  readonly match: string;
  /** Keys that match but stay: periodkey keys for `migrate`, none for `flush`. */
  readonly keep: (key: Key) => boolean;
  /**
   * `delete`; `inspect` (a dry run) counts what would be deleted by TYPE and keeps a sample; `count` only
   * counts it, with no command besides SCAN (the count a confirmation prompt shows).
   */
  readonly action: 'delete' | 'inspect' | 'count';
  /** The largest UNLINK batch and SCAN COUNT; both shrink when Redis is slow to answer. */
  readonly batchSize: number;
  /** Delete at most this many keys; stop with `max-delete` if more remain. */
  readonly maxDelete: number | undefined;
  readonly rate: RateCap | undefined;
  /** `migrate --carry-over`: legacy counters that fit its template add their count to a periodkey key. */
  readonly carry: Carry | undefined;
  readonly signal: AbortSignal;
}

/** How a sweep ended, if it did not throw. */
export type SweepEnd = 'done' | 'interrupted' | 'max-delete';

/** The batches of one shard: their sizes adapt to how fast that shard answers. */
interface Lane {
  readonly backend: Backend;
  readonly shard: Shard;
  readonly latency: Latency;
  readonly size: AdaptiveSize;
  readonly maxSize: number;
  readonly inFlight: Set<Promise<void>>;
}

/**
 * SCAN every shard (in parallel) and delete what matches and is not kept, as it goes: each shard has the
 * next SCAN in flight while it handles a page, and up to {@link IN_FLIGHT} delete (or TYPE) batches of
 * earlier pages. Memory is bounded by those, whatever the size of the keyspace. Stops early on abort (finishing the batches
 * in flight), on the `maxDelete` budget, or on the first error.
 */
export class Sweep {
  keysScanned = 0;
  keysDeleted = 0;
  keysKept = 0;
  /** Keys in delete batches sent and not yet answered (see `Counts.keysUnconfirmed`). */
  keysUnconfirmed = 0;
  /** `inspect` and `count`: keys that would be deleted (with `inspect`: those still there for TYPE). */
  keysToDelete = 0;
  /** Legacy counters whose count went to a periodkey key (`inspect`: strings that fit the template). */
  keysCarried = 0;
  /** `inspect`: keys that would be deleted, by type. */
  readonly types = new Map<string, number>();
  readonly sample: Key[] = [];
  private reserved = 0;
  private end: SweepEnd | undefined;
  private failure: { error: unknown } | undefined;

  constructor(private readonly options: SweepOptions) {}

  async run(backend: Backend): Promise<SweepEnd> {
    await Promise.all(backend.shards.map((shard) => this.sweepShard(backend, shard)));
    if (this.failure) throw this.failure.error;
    return this.end ?? (this.options.signal.aborted ? 'interrupted' : 'done');
  }

  private halted(): boolean {
    return this.end !== undefined || this.failure !== undefined || this.options.signal.aborted;
  }

  /** Keeps the first error, naming the shard (a Cluster master) it came from. */
  private fail(shard: Shard, error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    this.failure ??= { error: new Error(`${shard.name}: ${message}`, { cause: error }) };
  }

  private async sweepShard(backend: Backend, shard: Shard): Promise<void> {
    const { match, keep, batchSize, action, signal } = this.options;
    const rate = action === 'delete' ? this.options.rate : undefined;
    const maxSize = rate ? Math.min(batchSize, rate.batchCap()) : batchSize;
    const lane: Lane = {
      backend,
      shard,
      latency: new Latency(),
      size: new AdaptiveSize(maxSize),
      maxSize,
      inFlight: new Set(),
    };
    const scanLatency = new Latency();
    const scanCount = new AdaptiveSize(batchSize);
    const scan = async (cursor: string): Promise<ScanPage> => {
      const count = scanCount.value;
      const sentAt = performance.now();
      const page = await shard.scan(cursor, match, count);
      // Over a slow network, fewer and larger pages are what makes a sweep fast: SCAN COUNT may then grow
      // past the batch size, as long as each SCAN stays under the target server time.
      const slowNetwork = scanLatency.roundTrip > SLOW_ROUND_TRIP_MS;
      const max = batchSize * (slowNetwork ? SCAN_GROWTH : 1);
      scanCount.record(count, scanLatency.serverTime(sentAt, performance.now()), max);
      return page;
    };
    try {
      let next: Promise<ScanPage> | undefined = scan('0');
      while (next) {
        const page: ScanPage = await next;
        // The next SCAN goes out before this page is handled, so that Redis works on it (and on the
        // deletes in flight) while this process sorts and sends this page's keys.
        next = page.cursor !== '0' && !this.halted() ? scan(page.cursor) : undefined;
        // Handled when awaited, which may be after it fails (while deletes are awaited): not unhandled.
        next?.catch(() => undefined);
        this.keysScanned += page.keys.length;
        const doomed = page.keys.filter((key) => !keep(key));
        this.keysKept += page.keys.length - doomed.length;
        if (action === 'count') this.keysToDelete += doomed.length;
        let start = action === 'count' ? doomed.length : 0;
        while (start < doomed.length && !this.halted()) {
          // A page a little over the batch size (SCAN may return more than COUNT) goes out whole rather
          // than as a full batch and a tiny one.
          const left = doomed.length - start;
          const size = this.reserve(left <= lane.size.value * SLACK ? left : lane.size.value);
          if (size === 0) break;
          const chunk = doomed.slice(start, start + size);
          start += size;
          if (rate && !(await rate.take(chunk.length, signal))) break;
          while (lane.inFlight.size >= IN_FLIGHT) await Promise.race(lane.inFlight);
          if (this.failure) break;
          const task: Promise<void> = this.apply(lane, chunk)
            .catch((error: unknown) => this.fail(shard, error))
            .finally(() => lane.inFlight.delete(task));
          lane.inFlight.add(task);
        }
        if (this.halted()) {
          // A SCAN already sent when the sweep stopped: its keys are left for the next run.
          await next?.catch(() => undefined);
          next = undefined;
        }
      }
    } catch (error) {
      this.fail(shard, error);
    }
    await Promise.all(lane.inFlight);
  }

  /** Takes up to `wanted` keys from the `maxDelete` budget; past it, ends the sweep with `max-delete`. */
  private reserve(wanted: number): number {
    const { maxDelete, action } = this.options;
    if (action !== 'delete' || maxDelete === undefined) return wanted;
    const granted = Math.min(wanted, maxDelete - this.reserved);
    this.reserved += granted;
    if (granted < wanted) this.end = 'max-delete';
    return granted;
  }

  /** Deletes (or, in a dry run, types) one batch, sent behind the batches still in flight on its lane. */
  private async apply(lane: Lane, keys: Key[]): Promise<void> {
    const ahead = lane.inFlight.size;
    const sentAt = performance.now();
    const measure = () =>
      lane.size.record(keys.length, lane.latency.serverTime(sentAt, performance.now(), ahead), lane.maxSize);
    if (this.options.action === 'inspect') {
      const types = await lane.shard.types(keys);
      measure();
      for (const [i, type] of types.entries()) {
        if (type === 'none') continue; // gone since the scan (expired or deleted)
        this.keysToDelete += 1;
        if (type === 'string' && this.options.carry?.target(keys[i] ?? '')) this.keysCarried += 1;
        this.types.set(type, (this.types.get(type) ?? 0) + 1);
        const key = keys[i];
        if (key !== undefined && this.sample.length < SAMPLE) this.sample.push(key);
      }
      return;
    }
    const { carry } = this.options;
    this.keysUnconfirmed += keys.length;
    try {
      const deleted = carry ? await this.carry(lane, keys, carry) : await lane.shard.remove(keys);
      measure();
      this.keysDeleted += deleted;
    } finally {
      this.keysUnconfirmed -= keys.length;
    }
  }

  /**
   * Takes (GETDEL) the legacy counters that fit the template and adds their counts to periodkey keys; deletes
   * the other keys. A crash between the two loses those counts rather than counting them twice on a rerun.
   */
  private async carry(lane: Lane, keys: readonly Key[], carry: Carry): Promise<number> {
    const fits: { key: Key; target: CarryTarget }[] = [];
    const rest: Key[] = [];
    for (const key of keys) {
      const target = carry.target(key);
      if (target) fits.push({ key, target });
      else rest.push(key);
    }
    const values = fits.length > 0 ? await lane.shard.take(fits.map(({ key }) => key)) : [];
    const writes: CounterAdd[] = [];
    let deleted = 0;
    for (const [i, value] of values.entries()) {
      const fit = fits[i];
      if (!fit || value === null) continue; // gone since the scan
      if (value === undefined) {
        rest.push(fit.key); // not a string: deleted, not carried
        continue;
      }
      deleted += 1;
      const amount = unitsOf(value);
      if (amount !== undefined) writes.push({ ...fit.target, amount });
    }
    if (rest.length > 0) deleted += await lane.shard.remove(rest);
    await lane.backend.addCounts(writes);
    this.keysCarried += writes.length;
    return deleted;
  }
}
