import { InvalidOptionError } from '@periodkey/ratelimit';
import {
  checkHealth,
  defaultHealthKey,
  type HealthOptions,
  ScriptStore,
  type StoreHealth,
} from '@periodkey/ratelimit/store';
import { Redis } from '@upstash/redis';

/**
 * One retry, soon: a failed request may have run (its reply lost), so a retry can count a call twice,
 * which denies early rather than admitting too much.
 */
const LIMITER_RETRY = { retries: 1, backoff: () => 50 };

/**
 * The periodkey store over `@upstash/redis` (REST). Calls go through the client's normal path, so with
 * auto-pipelining on, concurrent limit checks share HTTP requests.
 *
 * @example
 * const store = new UpstashStore(Redis.fromEnv());
 */
export class UpstashStore extends ScriptStore {
  readonly client: Redis;
  /** Drawn at the first check: a Worker may not generate random values in its global scope. */
  #healthKey: string | undefined;

  /** @throws {InvalidOptionError} when `client` is not an `@upstash/redis` client. */
  constructor(client: Redis) {
    if (typeof client?.evalsha !== 'function' || typeof client.unlink !== 'function') {
      throw new InvalidOptionError(
        'UpstashStore takes an @upstash/redis client: new UpstashStore(Redis.fromEnv())',
      );
    }
    super({
      evalsha: (sha, keys, args) => client.evalsha(sha, keys, args),
      eval: (source, keys, args) => client.eval(source, keys, args),
      unlink: (keys) => client.unlink(...keys),
    });
    this.client = client;
  }

  /**
   * `PING`, then `SET` a fresh value with a 30 s TTL under the health key and `GET` it back (three REST
   * requests), within `timeout`. Never throws.
   */
  health(options: HealthOptions = {}): Promise<StoreHealth> {
    const client = this.client;
    this.#healthKey ??= defaultHealthKey();
    return checkHealth(
      {
        ping: () => client.ping(),
        write: (key, value, ttlMs) => client.set(key, value, { px: ttlMs }),
        read: (key) => client.get(key),
      },
      { key: this.#healthKey, ...options },
    );
  }

  /**
   * A store on a new client, as `UPSTASH_REDIS_REST_URL` and `UPSTASH_REDIS_REST_TOKEN` select it. A request
   * that fails on the network is sent once more after 50 ms (the client's default is 5 retries over about
   * 7 s, far past a limiter's `timeout`), so an endpoint that is down is seen within the limiter's timeout.
   */
  static fromUrl(url: string, token: string): UpstashStore {
    return new UpstashStore(new Redis({ url, token, retry: LIMITER_RETRY }));
  }
}
