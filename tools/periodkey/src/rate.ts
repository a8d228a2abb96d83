import { setTimeout as sleep } from 'node:timers/promises';

/** Paces deletions to at most `perSecond` keys per second (`--rate`), one batch at a time. */
export class RateCap {
  private nextAt = 0;

  constructor(
    private readonly perSecond: number,
    private readonly now: () => number = performance.now.bind(performance),
  ) {}

  /** The largest batch that keeps the pacing smooth (about ten batches a second). */
  batchCap(): number {
    return Math.max(1, Math.floor(this.perSecond / 10));
  }

  /** Waits until `keys` more keys may go; resolves `false` at once if `signal` aborts. */
  async take(keys: number, signal: AbortSignal): Promise<boolean> {
    const now = this.now();
    const startAt = Math.max(now, this.nextAt);
    this.nextAt = startAt + (keys * 1000) / this.perSecond;
    if (startAt > now) {
      try {
        await sleep(startAt - now, undefined, { signal });
      } catch {
        return false;
      }
    }
    return !signal.aborted;
  }
}
