import { InvalidOptionError } from '@periodkey/ratelimit';
import { ScriptStore } from '@periodkey/ratelimit/store';
import { Redis } from '@upstash/redis';

/**
 * The periodkey store over `@upstash/redis` (REST). Calls go through the client's normal path, so with
 * auto-pipelining on, concurrent limit checks share HTTP requests.
 *
 * @example
 * const store = new UpstashStore(Redis.fromEnv());
 */
export class UpstashStore extends ScriptStore {
  readonly client: Redis;

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
      ping: () => client.ping(),
      write: (key, value, ttlMs) => client.set(key, value, { px: ttlMs }),
      read: (key) => client.get(key),
    });
    this.client = client;
  }

  /** A store on a new client, as `UPSTASH_REDIS_REST_URL` and `UPSTASH_REDIS_REST_TOKEN` select it. */
  static fromUrl(url: string, token: string): UpstashStore {
    return new UpstashStore(new Redis({ url, token }));
  }
}
