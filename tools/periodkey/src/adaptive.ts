/** Commands seen before {@link Latency.roundTrip} is trusted. */
const SETTLED = 20;

/**
 * Estimates how long Redis itself spent on a command from its latency on one connection, so that batch
 * sizes react to server time and not to network latency. The smallest latency seen stands for the round
 * trip; a command sent behind `ahead` others on the same connection waited for them too, so its share is
 * the rest divided by `ahead + 1` (batches in flight are of about the same size). Replies that reach the
 * client together hide the gaps between them, so timing gaps between replies would underestimate; this errs
 * the other way, towards smaller batches.
 */
export class Latency {
  private minRtt = Number.POSITIVE_INFINITY;
  private samples = 0;

  /**
   * The smallest latency seen, about the network round trip, once enough commands were seen for it to
   * mean that (on a busy host a few round trips on loopback can be slow too); 0 before.
   */
  get roundTrip(): number {
    return this.samples >= SETTLED ? this.minRtt : 0;
  }

  /** Records one command and returns its estimated server time in ms. */
  serverTime(sentAt: number, repliedAt: number, ahead = 0): number {
    const latency = repliedAt - sentAt;
    this.samples += 1;
    this.minRtt = Math.min(this.minRtt, latency);
    return (latency - this.minRtt) / (ahead + 1);
  }
}

const WINDOW = 5;
/**
 * No smaller batches than this: a hundred keys or buckets take Redis tens of microseconds, so a command
 * that is slower than that was slowed by something else (a busy host), which smaller batches cannot help.
 */
const MIN_SIZE = 100;

/** Target server time of one command: far below the 5 ms at which a SLOWLOG usually records commands. */
export const TARGET_COMMAND_MS = 2;

/**
 * A batch size (UNLINK keys, SCAN COUNT) that follows the measured cost per item: it starts at `initial`,
 * moves to the size that fits {@link TARGET_COMMAND_MS}, growing by at most 25% per command, within
 * [min, max]. The cost is the smallest of the last {@link WINDOW} samples: a busy host (another process on
 * the CPU, a GC pause in the client) makes some commands look slow, and shrinking for them would only add
 * commands; a server that is slow for the size of the commands makes every one of them slow, and then the
 * batch shrinks within {@link WINDOW} commands.
 */
export class AdaptiveSize {
  private size: number;
  private readonly samples: number[] = [];

  constructor(
    initial: number,
    private readonly min = Math.min(MIN_SIZE, initial),
    private readonly targetMs = TARGET_COMMAND_MS,
  ) {
    this.size = initial;
  }

  get value(): number {
    return this.size;
  }

  /** Records that a command over `items` items kept the server busy for about `serverMs`. */
  record(items: number, serverMs: number, max: number): void {
    if (items <= 0) return;
    this.samples.push(serverMs / items);
    if (this.samples.length > WINDOW) this.samples.shift();
    const cost = Math.min(...this.samples);
    const fits = cost > 0 ? this.targetMs / cost : Number.POSITIVE_INFINITY;
    this.size = Math.max(this.min, Math.min(max, Math.floor(Math.min(fits, this.size * 1.25))));
  }
}
