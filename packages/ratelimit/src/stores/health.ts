import { randomHex } from '../_runtime.js';
import { EXPIRED, withTimeout } from '../deadline.js';

/** The answer of `store.health()`. It never throws: a failure is `{ ok: false, error }`. */
export interface StoreHealth {
  readonly ok: boolean;
  /** Time of the whole check (ms), failed ones included. */
  readonly latencyMs: number;
  readonly error?: Error;
}

export interface HealthOptions {
  /**
   * The key that the write/read round trip uses; it expires after 30 s. Put it under the limiter's prefix
   * when Redis ACLs restrict keys (the limiter's own probe uses `<prefix>:health:<random>`).
   * @default 'ratelimit:health:<random per store>'
   */
  key?: string;
  /** The most the check may take (ms); slower is a failure. @default 1000 */
  timeout?: number;
}

/** How long a health key lives: long enough to read back, short enough to leave nothing behind. */
const HEALTH_KEY_TTL_MS = 30_000;

/** A default health key, distinct per store, so that instances checking at once never read each other's value. */
export function defaultHealthKey(): string {
  return `ratelimit:health:${randomHex(6)}`;
}

/** The three commands of a health check, as a store adapter maps its client onto them. */
export interface HealthProbe {
  /** `PING` (every master of a cluster). */
  ping(): Promise<unknown>;
  /** `SET key value PX ttlMs`. */
  write(key: string, value: string, ttlMs: number): Promise<unknown>;
  /** `GET key`. */
  read(key: string): Promise<unknown>;
}

/**
 * The health check of seed 003 over a store's client: ping, then write a fresh value under `key` with a TTL
 * and read it back, all bounded by `timeout`, and timed. Never throws; a late failure is absorbed.
 */
export async function checkHealth(
  probe: HealthProbe,
  options: HealthOptions & { readonly key: string },
): Promise<StoreHealth> {
  const { key, timeout = 1000 } = options;
  // Never all digits, so that clients that decode JSON replies hand it back unchanged.
  const value = `ok-${randomHex(8)}`;
  const started = performance.now();
  let error: Error | undefined;
  try {
    const check = (async () => {
      await probe.ping();
      await probe.write(key, value, HEALTH_KEY_TTL_MS);
      const read = await probe.read(key);
      if (read !== value) {
        throw new Error(`health key ${key} read back ${JSON.stringify(read)}, not the value just written`);
      }
    })();
    if ((await withTimeout(check, timeout)) === EXPIRED) {
      error = new Error(`the health check did not finish within ${timeout} ms`);
    }
  } catch (thrown) {
    error = thrown instanceof Error ? thrown : new Error(String(thrown));
  }
  const latencyMs = performance.now() - started;
  return error === undefined ? { ok: true, latencyMs } : { ok: false, latencyMs, error };
}
